import { batchNorm2d, batchNorm2dTrain, tf, type BatchNormPost } from '@flowprune/tensor';
import type { ForwardContext, ParamReader } from './arch/types.js';
import { BN_EPS } from './graph/builder.js';

export { BN_EPS };

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
 * running-stat update. A mask in ctx.masks (by prefix) multiplies the output: pruned ResNet channels
 * (folded into gamma and beta, which is the same per-channel product). `post` (residual add, ReLU)
 * is what follows in the network; backends that can fuse it into the BatchNorm kernel do.
 * libs/tensor's versions carry closed-form gradients (no tile()).
 */
export function batchNorm(x: tf.Tensor4D, prefix: string, p: ParamReader, ctx: ForwardContext, post: BatchNormPost = {}): tf.Tensor4D {
  const mask = ctx.masks?.get(prefix);
  const gamma = masked(p(`${prefix}.weight`) as tf.Tensor1D, mask);
  const beta = masked(p(`${prefix}.bias`) as tf.Tensor1D, mask);
  if (!ctx.training)
    return batchNorm2d(x, p(`${prefix}.running_mean`) as tf.Tensor1D, p(`${prefix}.running_var`) as tf.Tensor1D, gamma, beta, BN_EPS, post);
  const r = batchNorm2dTrain(x, gamma, beta, BN_EPS, post);
  if (ctx.bnStats) {
    const [n, h, w] = x.shape;
    ctx.bnStats.set(prefix, { mean: tf.keep(r.mean), variance: tf.keep(r.variance), count: n * h * w });
  }
  return r.y;
}

const masked = (v: tf.Tensor1D, mask: tf.Tensor1D | undefined): tf.Tensor1D => (mask ? tf.mul(v, mask) : v);

export function linear(x: tf.Tensor2D, prefix: string, p: ParamReader): tf.Tensor2D {
  return tf.add(tf.matMul(x, p(`${prefix}.weight`) as tf.Tensor2D), p(`${prefix}.bias`));
}
