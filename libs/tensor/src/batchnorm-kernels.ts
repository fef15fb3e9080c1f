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

tf.registerGradient({
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, y, mean, variance] = saved as tf.Tensor[];
    const a = attrs as unknown as BnTrainAttrs;
    const inputs: tf.NamedTensorMap = { dy, x: x!, gamma: gamma!, mean: mean!, variance: variance! };
    if (a.relu) inputs['y'] = y!;
    // One kernel computes every input's gradient; the tape asks for them one at a time.
    const [dx, dgamma, dbeta, dres] = tf.engine().runKernel(BN_TRAIN_GRAD, inputs, { ...a }) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    if (dres) grads['residual'] = () => dres;
    return grads;
  },
});

tf.registerGradient({
  kernelName: BN_EVAL,
  inputsToSave: ['x', 'mean', 'variance', 'gamma'],
  outputsToSave: [true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, mean, variance, gamma, y] = saved as tf.Tensor[];
    const a = attrs as unknown as BnEvalAttrs;
    const inputs: tf.NamedTensorMap = { dy, x: x!, gamma: gamma!, mean: mean!, variance: variance! };
    if (a.relu) inputs['y'] = y!;
    const [dx, dgamma, dbeta, dres] = tf.engine().runKernel(BN_EVAL_GRAD, inputs, { ...a }) as tf.Tensor[];
    // The statistics are inputs too: y depends on them through -gamma*r*(mean) and r = (variance+eps)^-1/2.
    const gammaR = (): tf.Tensor => tf.mul(gamma!, tf.rsqrt(tf.add(variance!, a.epsilon)));
    const grads: Record<string, () => tf.Tensor> = {
      x: () => dx!,
      gamma: () => dgamma!,
      beta: () => dbeta!,
      mean: () => tf.neg(tf.mul(gammaR(), dbeta!)),
      variance: () => tf.mul(tf.mul(gammaR(), tf.rsqrt(tf.add(variance!, a.epsilon))), tf.mul(dgamma!, -0.5)),
    };
    if (dres) grads['residual'] = () => dres;
    return grads;
  },
});
