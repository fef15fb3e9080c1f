// The tfjs operations of graph nodes (NHWC activations, parameters in tfjs layout).
import { batchNorm2d, batchNorm2dTrain, tf, type BatchNormPost } from '@flowprune/tensor';
import type { ForwardContext, ParamReader } from './arch/types.js';
import type { BatchNormNode, ConvNode, LinearNode, Padding4, PoolNode } from './graph/types.js';

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** PyTorch's [top, left, bottom, right] padding as tfjs wants it ('valid' when there is none). */
function explicitPadding([t, l, b, r]: Padding4): ExplicitPadding | 'valid' {
  return t === 0 && l === 0 && b === 0 && r === 0 ? 'valid' : [[0, 0], [t, b], [l, r], [0, 0]];
}

/**
 * A conv node: plain (groups 1), depthwise (groups = in channels; weight [kh, kw, in, multiplier]),
 * or grouped (weight HWIO per group, run group by group); then the bias, if any.
 */
export function conv(x: tf.Tensor4D, node: ConvNode, p: ParamReader): tf.Tensor4D {
  const w = p(node.weight) as tf.Tensor4D;
  const pad = explicitPadding(node.padding);
  const { stride, dilation, groups } = node;
  let y: tf.Tensor4D;
  if (groups === 1) y = tf.conv2d(x, w, stride, pad, 'NHWC', dilation);
  else if (groups === node.inChannels) y = tf.depthwiseConv2d(x, w, stride, pad, 'NHWC', dilation);
  else {
    const xs = tf.split(x, groups, 3);
    const ws = tf.split(w, groups, 3);
    y = tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ws[i] as tf.Tensor4D, stride, pad, 'NHWC', dilation)), 3);
  }
  return node.bias ? (tf.add(y, p(node.bias)) as tf.Tensor4D) : y;
}

/**
 * BatchNorm2d with PyTorch semantics. Eval: running statistics. Train: batch statistics (biased
 * variance for normalising); the batch mean/variance are recorded in ctx.bnStats (by prefix) for the
 * caller's running-stat update. A mask in ctx.masks (by prefix) multiplies the output: pruned ResNet
 * channels (folded into gamma and beta, which is the same per-channel product). `post` (residual
 * add, ReLU) is what follows in the network; backends that can fuse it into the BatchNorm kernel do.
 * libs/tensor's versions carry closed-form gradients (no tile()).
 */
export function batchNorm(x: tf.Tensor4D, node: BatchNormNode, p: ParamReader, ctx: ForwardContext, post: BatchNormPost = {}): tf.Tensor4D {
  const mask = ctx.masks?.get(node.prefix);
  const gamma = masked(p(node.params.weight) as tf.Tensor1D, mask);
  const beta = masked(p(node.params.bias) as tf.Tensor1D, mask);
  if (!ctx.training)
    return batchNorm2d(x, p(node.params.runningMean) as tf.Tensor1D, p(node.params.runningVar) as tf.Tensor1D, gamma, beta, node.eps, post);
  const r = batchNorm2dTrain(x, gamma, beta, node.eps, post);
  if (ctx.bnStats) {
    const [n, h, w] = x.shape;
    ctx.bnStats.set(node.prefix, { mean: tf.keep(r.mean), variance: tf.keep(r.variance), count: n * h * w });
  }
  return r.y;
}

const masked = (v: tf.Tensor1D, mask: tf.Tensor1D | undefined): tf.Tensor1D => (mask ? tf.mul(v, mask) : v);

export function linear(x: tf.Tensor2D, node: LinearNode, p: ParamReader): tf.Tensor2D {
  const y = tf.matMul(x, p(node.weight) as tf.Tensor2D) as tf.Tensor2D;
  return node.bias ? (tf.add(y, p(node.bias)) as tf.Tensor2D) : y;
}

/**
 * Max or average pooling as PyTorch computes it. A window covering the whole unpadded map is a
 * mean over space (F.avg_pool2d(out, size) of the paper's nets); ceil_mode becomes extra bottom/right
 * padding for max-pooling. Average pooling counts padded zeros (count_include_pad).
 */
export function pool(x: tf.Tensor4D, node: PoolNode, outH: number, outW: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const [t, l, b, r] = node.padding;
  const extraB = Math.max(0, (outH - 1) * sh + kh - (h + t + b));
  const extraR = Math.max(0, (outW - 1) * sw + kw - (w + l + r));
  if (node.op === 'maxpool') return tf.maxPool(x, node.kernel, node.stride, explicitPadding([t, l, b + extraB, r + extraR]));
  if (extraB > 0 || extraR > 0) throw new Error(`avgpool ${node.name}: ceil_mode windows past the padded input are not supported`);
  if (kh === h && kw === w && t + l + b + r === 0) return tf.mean(x, [1, 2], true);
  const padded = t + l + b + r === 0 ? x : tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
  return tf.avgPool(padded, node.kernel, node.stride, 'valid');
}
