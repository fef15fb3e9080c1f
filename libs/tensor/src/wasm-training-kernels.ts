// Registers the training kernels the wasm backend lacks (or implements slowly) so that tf.grad
// through conv2d / depthwiseConv2d works on wasm at XNNPACK speed.
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './wasm-conv2d-grad.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './wasm-depthwise-grad.js';
import { identityConfig } from './wasm-identity.js';
import { maxPoolGradConfig } from './wasm-maxpool-grad.js';

let registered = false;

/** Kernel names this module provides for the 'wasm' backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.MaxPoolGrad,
  tf.Identity,
];

/**
 * Idempotent; initBackend calls it. Must run after '@tensorflow/tfjs-backend-wasm' is imported:
 * that import registers the stock kernels (which would otherwise replace ours), and the stock
 * Conv2DBackpropInput stays in use for NCHW.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (!tf.getKernel(tf.Conv2D, 'wasm')) {
    throw new Error("registerWasmTrainingKernels: import '@tensorflow/tfjs-backend-wasm' first");
  }
  const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  for (const config of [
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig(stockInput),
    depthwiseBackpropFilterConfig,
    depthwiseBackpropInputConfig,
    maxPoolGradConfig, // replaces a stock kernel that drops all-negative windows
    identityConfig, // shares data instead of copying every tensor saved for backprop
  ]) {
    // Unregister first: registerKernel would otherwise warn about overriding the stock kernel.
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
