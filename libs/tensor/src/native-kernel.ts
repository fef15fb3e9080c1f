// How a native kernel is declared: an implementation that returns its outputs, or undefined for
// arguments it does not handle (dtype, layout, shape), in which case the wasm kernel of the same
// name runs instead. Fallbacks are counted, so a benchmark or test can see what stayed on wasm.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './native-addon.js';
import { heapOf, type Heap } from './native-heap.js';

export const NATIVE_BACKEND = 'native';

export interface NativeKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap;
  heap: Heap;
}

export type NativeKernelImpl = (args: NativeKernelArgs) => tf.TensorInfo | tf.TensorInfo[] | undefined;

export interface NativeKernel {
  kernelName: string;
  impl: NativeKernelImpl;
}

const fallbacks = new Map<string, number>();

/** How often each native kernel handed its arguments to the wasm kernel, since start-up. */
export function nativeFallbackCounts(): ReadonlyMap<string, number> {
  return fallbacks;
}

/** The tfjs kernel config for `kernel` on the native backend, falling back to `wasm` (may be undefined). */
export function nativeKernelConfig(kernel: NativeKernel, addon: NativeAddon, wasm: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: kernel.kernelName,
    backendName: NATIVE_BACKEND,
    // The wasm kernel binds its wasm functions in setupFunc, which the engine runs on the kernels
    // registered for the active backend: keep it so the fallback works.
    ...(wasm?.setupFunc ? { setupFunc: wasm.setupFunc } : {}),
    ...(wasm?.disposeFunc ? { disposeFunc: wasm.disposeFunc } : {}),
    kernelFunc: (args) => {
      const heap = heapOf(addon, args.backend);
      const out = kernel.impl({ inputs: args.inputs, attrs: args.attrs ?? {}, heap });
      if (out) return out;
      if (!wasm) throw new Error(`${kernel.kernelName} on ${NATIVE_BACKEND}: arguments not supported and no wasm kernel to fall back to`);
      fallbacks.set(kernel.kernelName, (fallbacks.get(kernel.kernelName) ?? 0) + 1);
      heap.toNhwc(Object.values(args.inputs));
      return wasm.kernelFunc(args);
    },
  };
}

/** Kernels that only alias their input's data: its layout carries over, nothing to rewrite. */
const LAYOUT_NEUTRAL: ReadonlySet<string> = new Set([tf.Identity]);

/** A Reshape to the shape x already has (tf.batchNorm and others do this): an alias, layout and all. */
function isShapeKeepingReshape(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): boolean {
  if (kernelName !== tf.Reshape) return false;
  const x = inputs['x'];
  const shape = attrs?.['shape'];
  return !!x && Array.isArray(shape) && shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i]);
}

/**
 * A wasm kernel registered for the native backend, as is except that its inputs are made NHWC
 * first (native kernels may have left them blocked; see native-heap.ts).
 */
export function mirroredWasmKernel(config: tf.KernelConfig, addon: NativeAddon): tf.KernelConfig {
  if (LAYOUT_NEUTRAL.has(config.kernelName)) return { ...config, backendName: NATIVE_BACKEND };
  return {
    ...config,
    backendName: NATIVE_BACKEND,
    kernelFunc: (args) => {
      if (!isShapeKeepingReshape(config.kernelName, args.inputs, args.attrs)) heapOf(addon, args.backend).toNhwc(Object.values(args.inputs));
      return config.kernelFunc(args);
    },
  };
}

/** Input `name` of a kernel, or an error naming the kernel. */
export function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input ${name}`);
  return t;
}

export const isFloat = (...ts: (tf.TensorInfo | undefined)[]): boolean => ts.every((t) => !t || t.dtype === 'float32');

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
