// Identity for the wasm backend (and so the native one) that shares the input's data instead of
// copying it. tfjs's engine clones every tensor it saves for the backward pass through Identity;
// the stock wasm kernel copies, which costs a full pass per saved activation and doubles the
// memory a training step holds (ResNet-56 at batch 128 ran out of the 4 GB wasm heap). tfjs
// tensors are immutable, so sharing is safe; the cpu backend and wasm's Reshape do the same.
import * as tf from '@tensorflow/tfjs-core';

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { x } = inputs as tf.IdentityInputs;
    if (!x) throw new Error(`${tf.Identity}: missing input`);
    (backend as tf.KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
