// The only door to TensorFlow.js in flowprune: `import { tf, initBackend } from '@flowprune/tensor'`.
// Importing this module registers tfjs-core's gradients and chained ops (see core-gradients.ts);
// call `await initBackend()` once before running ops, since no backend is active until then.
import './core-gradients.js';
// Types only (erased at runtime): declares the chained methods core-gradients.ts installs.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export * as tf from '@tensorflow/tfjs-core';
export { initBackend, getBackendInfo, BACKEND_CHOICES, type BackendInfo, type InitBackendOptions } from './backend.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-training-kernels.js';
export {
  batchNorm2d,
  batchNorm2dTrain,
  updateRunningStats,
  BN_EPS,
  BN_MOMENTUM,
  type BatchNormTrainResult,
} from './batchnorm.js';
