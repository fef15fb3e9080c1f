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
 * Inference only (no gradient): inputs {x [.., c], mean [c], variance [c], gamma [c], beta [c],
 * residual? (x's shape)} → y = [relu](gamma * (x - mean) / sqrt(variance + epsilon) + beta [+ residual]).
 * Eval-mode forwards outside a gradient tape use it so the residual add and ReLU cost no extra pass.
 */
export const BN_EVAL = 'FlowpruneBatchNormEval';

export interface BnEvalAttrs {
  epsilon: number;
  relu: boolean;
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
