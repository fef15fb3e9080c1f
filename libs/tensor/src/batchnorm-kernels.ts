// Names, attributes and gradient of the fused train-mode BatchNorm kernels. A backend may register
// them (the native one does); batchnorm.ts uses them when the active backend has them and composes
// ordinary ops otherwise. The gradient is registered on import, for every backend.
import * as tf from '@tensorflow/tfjs-core';

/**
 * inputs {x [.., c], gamma [c], beta [c], residual? (x's shape)} → [y, mean [c], variance [c]]:
 * batch statistics over all but the last axis (biased variance), then
 * y = [relu](gamma * (x - mean) / sqrt(variance + epsilon) + beta [+ residual]).
 * mean and variance are statistics for the running averages: no gradient flows back through them.
 */
export const BN_TRAIN = 'FlowpruneBatchNormTrain';

/**
 * inputs {dy, x, gamma, mean, variance, y? (the forward output; needed with relu)} →
 * [dx, dgamma, dbeta, dresidual? (withResidual)].
 */
export const BN_TRAIN_GRAD = 'FlowpruneBatchNormTrainGrad';

/**
 * Eval mode: inputs {x [.., c], mean [c], variance [c], gamma [c], beta [c], residual? (x's shape)}
 * → y = [relu](gamma * (x - mean) / sqrt(variance + epsilon) + beta [+ residual]), with the
 * statistics given (running ones). Eval-mode forwards use it so the residual add and ReLU cost no
 * extra pass; under a gradient tape only where the backend also has BN_EVAL_GRAD.
 */
export const BN_EVAL = 'FlowpruneBatchNormEval';

/**
 * inputs {dy, x, gamma, mean, variance, y? (the forward output; needed with relu)} →
 * [dx = gamma * r * g, dgamma = sum(g * xhat), dbeta = sum(g), dresidual = g (withResidual)], with
 * g = dy masked by y > 0 under relu, r = 1 / sqrt(variance + epsilon), xhat = (x - mean) * r.
 */
export const BN_EVAL_GRAD = 'FlowpruneBatchNormEvalGrad';

export interface BnEvalAttrs {
  epsilon: number;
  relu: boolean;
  /** Whether a residual input is present (its gradient is then returned too). */
  withResidual?: boolean;
}

export interface BnTrainAttrs {
  epsilon: number;
  relu: boolean;
  withResidual: boolean;
}

interface FusedGradArgs {
  dys: tf.Tensor | tf.Tensor[];
  x: tf.Tensor;
  gamma: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
  /** The forward output (masks dy under relu). */
  y: tf.Tensor;
  attrs: { epsilon: number; relu: boolean; withResidual?: boolean };
}

/**
 * Runs one of the fused gradient kernels (one kernel computes every input's gradient; the tape
 * asks for them one at a time) → the gradients of x, gamma, beta and, when present, the residual.
 */
function fusedGrads(kernel: string, g: FusedGradArgs): { grads: Record<string, () => tf.Tensor>; dgamma: tf.Tensor; dbeta: tf.Tensor } {
  const dy = Array.isArray(g.dys) ? g.dys[0]! : g.dys;
  const inputs: tf.NamedTensorMap = { dy, x: g.x, gamma: g.gamma, mean: g.mean, variance: g.variance };
  if (g.attrs.relu) inputs['y'] = g.y;
  const [dx, dgamma, dbeta, dres] = tf.engine().runKernel(kernel, inputs, { ...g.attrs }) as tf.Tensor[];
  const grads: Record<string, () => tf.Tensor> = { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  if (dres) grads['residual'] = () => dres;
  return { grads, dgamma: dgamma!, dbeta: dbeta! };
}

tf.registerGradient({
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, y, mean, variance] = saved as tf.Tensor[];
    const a = attrs as unknown as BnTrainAttrs;
    return fusedGrads(BN_TRAIN_GRAD, { dys, x: x!, gamma: gamma!, mean: mean!, variance: variance!, y: y!, attrs: a }).grads;
  },
});

tf.registerGradient({
  kernelName: BN_EVAL,
  inputsToSave: ['x', 'mean', 'variance', 'gamma'],
  outputsToSave: [true],
  gradFunc: (dys, saved, attrs) => {
    const [x, mean, variance, gamma, y] = saved as tf.Tensor[];
    const a = attrs as unknown as BnEvalAttrs;
    const { grads, dgamma, dbeta } = fusedGrads(BN_EVAL_GRAD, { dys, x: x!, gamma: gamma!, mean: mean!, variance: variance!, y: y!, attrs: a });
    // The running statistics are inputs too: dmean = -gamma*r*sum(g), dvariance = -gamma*r^2*sum(g*xhat)/2,
    // r = 1/sqrt(variance + eps).
    const r = (): tf.Tensor => tf.rsqrt(tf.add(variance!, a.epsilon));
    grads['mean'] = () => tf.neg(tf.mul(tf.mul(gamma!, r()), dbeta));
    grads['variance'] = () => tf.mul(tf.mul(gamma!, tf.square(r())), tf.mul(dgamma, -0.5));
    return grads;
  },
});
