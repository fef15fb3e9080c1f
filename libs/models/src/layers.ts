import { tf } from '@flowprune/tensor';
import type { ForwardContext, ParamReader } from './arch/types.js';

export const BN_EPS = 1e-5;

/** PyTorch-style conv: symmetric zero padding (tfjs 'same' pads bottom/right only at stride 2). */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor, stride: number, pad: number): tf.Tensor4D {
  const padding: [[number, number], [number, number], [number, number], [number, number]] | 'valid' =
    pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  return tf.conv2d(x, w as tf.Tensor4D, stride, padding);
}

export function depthwiseConv2d(x: tf.Tensor4D, w: tf.Tensor, stride: number, pad: number): tf.Tensor4D {
  const padding: [[number, number], [number, number], [number, number], [number, number]] | 'valid' =
    pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  return tf.depthwiseConv2d(x, w as tf.Tensor4D, stride, padding);
}

/**
 * BatchNorm2d with PyTorch semantics. Eval: running statistics. Train: batch statistics (biased
 * variance for normalising); the batch mean/variance are recorded in ctx.bnStats for the caller's
 * running-stat update. Written as x·scale + shift so gradients are cheap broadcast reductions.
 */
export function batchNorm(x: tf.Tensor4D, prefix: string, p: ParamReader, ctx: ForwardContext): tf.Tensor4D {
  const gamma = p(`${prefix}.weight`);
  const beta = p(`${prefix}.bias`);
  if (!ctx.training) {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(p(`${prefix}.running_var`), BN_EPS)));
    const shift = tf.sub(beta, tf.mul(p(`${prefix}.running_mean`), scale));
    return tf.add(tf.mul(x, scale), shift);
  }
  const mean = tf.mean(x, [0, 1, 2]) as tf.Tensor1D;
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), [0, 1, 2]) as tf.Tensor1D;
  if (ctx.bnStats) {
    const [n, h, w] = x.shape;
    ctx.bnStats.set(prefix, { mean: tf.keep(mean), variance: tf.keep(variance), count: n * h * w });
  }
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
  return tf.add(tf.mul(centered, scale), beta);
}

export function linear(x: tf.Tensor2D, prefix: string, p: ParamReader): tf.Tensor2D {
  return tf.add(tf.matMul(x, p(`${prefix}.weight`) as tf.Tensor2D), p(`${prefix}.bias`));
}
