// The only door to TensorFlow.js in flowprune: `import { tf, initBackend } from '@flowprune/tensor'`.
// Importing this module registers tfjs-core's gradients and chained ops (see core-gradients.ts);
// call `await initBackend()` once before running ops, since no backend is active until then.
import './core-gradients.js';
// Gradients of flowprune's fused kernels and the one-kernel ReLU gradient (after tfjs-core's, which they replace).
import './relu-grad.js';
import './batchnorm-kernels.js';
// Second-order rules for the gradient kernels (nested tf.grad, Hessian-vector products).
import './second-order-gradients.js';
// Types only (erased at runtime): declares the chained methods core-gradients.ts installs.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export * as tf from '@tensorflow/tfjs-core';
export { initBackend, getBackendInfo, BACKEND_CHOICES, type BackendInfo, type InitBackendOptions } from './backend.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-training-kernels.js';
export { NATIVE_KERNELS } from './native-backend.js';
export { NATIVE_BACKEND, nativeFallbackCounts } from './native-kernel.js';
export { loadNativeAddon } from './native-addon.js';
export { fusedSgdStep, type SgdHyper, type SgdSlot } from './native-sgd.js';
export { applyRunningStats, updateRunningStatsInPlace, type RunningStatsUpdate } from './running-stats.js';
export { SECOND_ORDER_GRADIENTS } from './second-order-gradients.js';
export { withTwiceDifferentiableOps, inTwiceDifferentiableScope } from './differentiable-scope.js';
export { Float64Decisions, type Float64DecisionsOptions } from './f64-decisions.js';
export {
  batchNorm2d,
  batchNorm2dTrain,
  updateRunningStats,
  BN_EPS,
  BN_MOMENTUM,
  type BatchNormPost,
  type BatchNormTrainResult,
} from './batchnorm.js';
export { noteInPlaceWrite, inPlaceWriteEpoch } from './heap-writes.js';
export {
  describeInference,
  fastInferenceLayout,
  encodeProgram,
  fusedInferenceAvailable,
  fusedInferenceRuns,
  runInference,
  fmaPeakProbe,
  sgemmPeakProbe,
  type InferenceActivation,
  type InferenceBatchNorm,
  type InferenceConv,
  type InferenceLayout,
  type InferenceLinear,
  type InferenceOp,
  type InferencePool,
  type InferenceProgram,
  type InferenceTensor,
} from './native-inference.js';
export { Layout as NativeLayout } from './native-addon.js';
