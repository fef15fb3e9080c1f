// The `native` tfjs backend: tfjs-backend-wasm's storage (tensors live in a wasm heap) with the
// compute-heavy kernels replaced by flowprune_native, which works on that heap in place through
// oneDNN and OpenMP. Every other kernel is the wasm backend's own, registered under this backend's
// name too, so nothing is missing and nothing is copied between the two.
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { NATIVE_BATCHNORM_KERNELS } from './native-batchnorm.js';
import { NATIVE_CONV_KERNELS } from './native-conv.js';
import { NATIVE_ELEMENTWISE_KERNELS } from './native-elementwise.js';
import { heapOf } from './native-heap.js';
import { mirroredWasmKernel, NATIVE_BACKEND, nativeKernelConfig, type NativeKernel } from './native-kernel.js';
import { NATIVE_MATMUL_KERNELS } from './native-matmul.js';
import { NATIVE_POOL_KERNELS } from './native-pool.js';

/** Every kernel flowprune_native implements (the rest of the native backend is wasm's). */
export const NATIVE_KERNELS: readonly NativeKernel[] = [
  ...NATIVE_CONV_KERNELS,
  ...NATIVE_MATMUL_KERNELS,
  ...NATIVE_POOL_KERNELS,
  ...NATIVE_BATCHNORM_KERNELS,
  ...NATIVE_ELEMENTWISE_KERNELS,
];

export type NativeRegistration = { ok: true; addon: NativeAddon; threads: number; detail: string } | { ok: false; reason: string };

let registered: NativeRegistration | undefined;

/**
 * Registers the native backend (not activating it). Needs '@tensorflow/tfjs-backend-wasm' imported
 * and its own kernels (and flowprune's wasm training kernels) registered first: those are what the
 * native backend falls back to. Idempotent; the first call's thread count stays.
 */
export function registerNativeBackend(threads: number): NativeRegistration {
  if (registered) return registered;
  const load = loadNativeAddon();
  if (!load.addon) return (registered = { ok: false, reason: load.reason });
  const wasmFactory = tf.findBackendFactory('wasm');
  if (!wasmFactory) return (registered = { ok: false, reason: 'the wasm backend is not registered' });
  const addon = load.addon;
  const inEffect = addon.setThreads(threads);
  // A second BackendWasm with its own wasm module: tensors of `wasm` and `native` stay apart,
  // as for any two backends, and tfjs moves data between them when asked.
  tf.registerBackend(
    NATIVE_BACKEND,
    async () => {
      const backend = await wasmFactory();
      heapOf(addon, backend).guardBackend();
      return backend;
    },
    0,
  );
  const own = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  for (const config of tf.getKernelsForBackend('wasm')) {
    if (!own.has(config.kernelName)) tf.registerKernel(mirroredWasmKernel(config, addon));
  }
  for (const kernel of NATIVE_KERNELS) tf.registerKernel(nativeKernelConfig(kernel, addon, tf.getKernel(kernel.kernelName, 'wasm')));
  return (registered = { ok: true, addon, threads: inEffect, detail: addon.info() });
}
