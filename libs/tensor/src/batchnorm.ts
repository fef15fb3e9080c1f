// Batch normalisation over NHWC activations (per channel = last axis) with PyTorch semantics and a
// hand-written gradient. tfjs-core's FusedBatchNorm gradient uses tile(), ~20x slower on wasm
// than broadcasting; here every full-size step is a FusedBatchNorm pass (one fused kernel on
// every backend) or a plain elementwise op, plus sums over axes [0,1,2].
import * as tf from '@tensorflow/tfjs-core';
import { BN_EVAL, BN_EVAL_GRAD, BN_TRAIN, type BnEvalAttrs, type BnTrainAttrs } from './batchnorm-kernels.js';
import { inTwiceDifferentiableScope } from './differentiable-scope.js';
import { fusedKernelsAllowed } from './fusion-scope.js';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** What follows a BatchNorm in the paper's networks, fused into it where the backend can. */
export interface BatchNormPost {
  /** Added to the normalised output (ResNet's shortcut), before the ReLU. */
  residual?: tf.Tensor4D;
  /** ReLU on the result. */
  relu?: boolean;
}

export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted output, same shape as x. */
  y: tf.Tensor4D;
  /** Batch mean per channel. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel (what normalises y in train mode, as in PyTorch). */
  variance: tf.Tensor1D;
  /** Unbiased batch variance per channel (what PyTorch feeds into running_var). */
  unbiasedVariance: tf.Tensor1D;
}

// A [1,M]x[M,C] matmul with ones looks faster on wasm in a loop over one tensor, but XNNPACK
// then re-packs the fresh [M,C] operand on every real call and loses (measured 7.7 vs 2.1 ms).
function channelSum(t: tf.Tensor4D): tf.Tensor1D {
  return tf.sum(t, [0, 1, 2]);
}

/** (x - mean) / sqrt(variance + eps) * scale + offset per channel, in one fused pass. */
function affine(
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  eps: number,
  scale?: tf.Tensor1D,
  offset?: tf.Tensor1D,
): tf.Tensor4D {
  return tf.batchNorm(x, mean, variance, offset, scale, eps);
}

/**
 * Normalises with the given statistics (eval mode: running mean/var). Gradients flow to all five
 * inputs: dx = dy*gamma*r, dgamma = sum(dy*xhat), dbeta = sum(dy), dmean = -gamma*r*sum(dy),
 * dvariance = -gamma*r^2*sum(dy*xhat)/2, with r = 1/sqrt(variance+eps).
 */
export function batchNorm2d(
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number = BN_EPS,
  post: BatchNormPost = {},
): tf.Tensor4D {
  if (inTwiceDifferentiableScope()) return applyPost(batchNorm2dPlain(x, mean, variance, gamma, beta, eps), post);
  if (fusedEvalAvailable()) return fusedEval(x, mean, variance, gamma, beta, eps, post);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, m, v, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const save = args[5] as tf.GradSaveFunc;
    save([xi, m, v, g]);
    return {
      value: affine(xi, m, v, eps, g, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sm, sv, sg] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const d = dy as tf.Tensor4D;
        const r = tf.rsqrt(tf.add(sv, eps));
        const xhat = affine(sx, sm, sv, eps);
        const sdy = channelSum(d);
        const sdyx = channelSum(tf.mul(d, xhat));
        const gr = tf.mul(sg, r);
        return [
          affine(d, tf.zerosLike(sm), sv, eps, sg), // dy * gamma * r
          tf.neg(tf.mul(gr, sdy)),
          tf.mul(tf.mul(gr, r), tf.mul(sdyx, -0.5)),
          sdyx,
          sdy,
        ];
      },
    };
  });
  return applyPost(op(x, mean, variance, gamma, beta) as tf.Tensor4D, post);
}

/**
 * Eval mode from plain broadcasting ops, x·s + (β − mean·s) with s = γ/√(variance+eps): slower to
 * differentiate than batchNorm2d's closed form but differentiable any number of times.
 */
function batchNorm2dPlain(
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  const s = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(x, s), tf.sub(beta, tf.mul(mean, s)));
}

/**
 * Train mode: normalises with the batch statistics over N, H, W and back-propagates through them
 * (closed form: dx = gamma*r/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))). The statistics are
 * computed once, outside the custom-gradient op, so the tape never differentiates them separately.
 */
export function batchNorm2dTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number = BN_EPS,
  post: BatchNormPost = {},
): BatchNormTrainResult {
  const m = x.size / x.shape[3];
  if (m < 2) throw new Error(`batchNorm2dTrain needs more than one value per channel (got N*H*W = ${m})`);
  if (tf.getKernel(BN_TRAIN, tf.getBackend()) && !inTwiceDifferentiableScope()) return fusedTrain(x, gamma, beta, eps, post, m);
  const mean = tf.div(channelSum(x), m) as tf.Tensor1D;
  const variance = tf.div(channelSum(tf.square(tf.sub(x, mean)) as tf.Tensor4D), m) as tf.Tensor1D;
  const unbiasedVariance = tf.mul(variance, m / (m - 1)) as tf.Tensor1D;

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    save([xi, g, mean, variance]);
    return {
      value: affine(xi, mean, variance, eps, g, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const d = dy as tf.Tensor4D;
        const xhat = affine(sx, sm, sv, eps);
        const sdy = channelSum(d);
        const sdyx = channelSum(tf.mul(d, xhat));
        const gr = tf.mul(sg, tf.rsqrt(tf.add(sv, eps)));
        // dx = dy*gamma*r + xhat*(-gamma*r*sum(dy*xhat)/M) + (-gamma*r*sum(dy)/M); the last two
        // terms are a per-channel affine map of xhat, i.e. one more fused pass over x.
        const k = tf.mul(gr, -1 / m);
        const rest = affine(sx, sm, sv, eps, tf.mul<tf.Tensor1D>(k, sdyx), tf.mul<tf.Tensor1D>(k, sdy));
        const dx = tf.add(affine(d, tf.zerosLike(sm), sv, eps, sg), rest);
        return [dx, sdyx, sdy];
      },
    };
  });
  return { y: applyPost(op(x, gamma, beta) as tf.Tensor4D, post), mean, variance, unbiasedVariance };
}

/** The fused eval kernel applies: the backend has it, and under a tape its gradient kernel too. */
function fusedEvalAvailable(): boolean {
  if (!fusedKernelsAllowed()) return false;
  const backend = tf.getBackend();
  return tf.getKernel(BN_EVAL, backend) !== undefined && (!tf.engine().isTapeOn() || tf.getKernel(BN_EVAL_GRAD, backend) !== undefined);
}

/** Eval mode: BatchNorm, residual add and ReLU in one kernel (and one for the gradient). */
function fusedEval(
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  post: BatchNormPost,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = { x, mean, variance, gamma, beta };
  if (post.residual) inputs['residual'] = post.residual;
  const attrs: BnEvalAttrs = { epsilon: eps, relu: post.relu ?? false, withResidual: post.residual !== undefined };
  return tf.engine().runKernel(BN_EVAL, inputs, { ...attrs }) as tf.Tensor4D;
}

/** The whole train-mode BatchNorm, residual add and ReLU in one kernel (and one for the gradient). */
function fusedTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, post: BatchNormPost, m: number): BatchNormTrainResult {
  const inputs: tf.NamedTensorMap = { x, gamma, beta };
  if (post.residual) inputs['residual'] = post.residual;
  const attrs: BnTrainAttrs = { epsilon: eps, relu: post.relu ?? false, withResidual: post.residual !== undefined };
  const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, inputs, { ...attrs }) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  return { y, mean, variance, unbiasedVariance: tf.mul(variance, m / (m - 1)) };
}

function applyPost(y: tf.Tensor4D, post: BatchNormPost): tf.Tensor4D {
  const summed = post.residual ? tf.add<tf.Tensor4D>(y, post.residual) : y;
  return post.relu ? tf.relu(summed) : summed;
}

/** PyTorch's running-statistics update: running = (1 - momentum) * running + momentum * batch. */
export function updateRunningStats(
  runningMean: tf.Variable,
  runningVariance: tf.Variable,
  batch: Pick<BatchNormTrainResult, 'mean' | 'unbiasedVariance'>,
  momentum: number = BN_MOMENTUM,
): void {
  tf.tidy(() => {
    runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(batch.mean, momentum)));
    runningVariance.assign(tf.add(tf.mul(runningVariance, 1 - momentum), tf.mul(batch.unbiasedVariance, momentum)));
  });
}
