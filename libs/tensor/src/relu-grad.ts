// The ReLU gradient as one kernel where the backend has it. tfjs-core's rule for Relu is
// dy * cast(step(x)), three passes and two temporaries over a full activation; backends that
// register FlowpruneReluGrad (the native one) do it in one. Registered on import for every backend:
// without the kernel the rule is tfjs-core's, unchanged.
import * as tf from '@tensorflow/tfjs-core';

export const RELU_GRAD = 'FlowpruneReluGrad';

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** dy where x > 0, else 0. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && hasKernel(RELU_GRAD)) return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

tf.registerGradient({
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => reluGrad(dy as tf.Tensor, x) };
  },
});

// Linear in dy with a fixed mask, so its own gradient (for nested tf.grad, e.g. Hessian-vector
// products) is the same masking of the upstream gradient; x only selects, so its gradient is 0.
tf.registerGradient({
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => {
    const [x] = saved as [tf.Tensor];
    return { dy: () => reluGrad(ddx as tf.Tensor, x), x: () => tf.zerosLike(x) };
  },
});
