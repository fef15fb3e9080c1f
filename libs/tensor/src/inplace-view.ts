// A writable Float32Array over a tensor's own storage, for the few places that must correct a
// float32 tensor in place (f64-decisions.ts): the engine saves kernel inputs for the backward pass
// by reference, so a correction made before the kernel runs is what the gradient sees.
import * as tf from '@tensorflow/tfjs-core';
import { noteInPlaceWrite } from './heap-writes.js';

interface WasmLike {
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}
interface CpuLike {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
}

export function inplaceFloat32View(backend: unknown, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`in-place view: float32 tensors only, got ${info.dtype}`);
  noteInPlaceWrite();
  const wasm = backend as Partial<WasmLike>;
  if (typeof wasm.typedArrayFromHeap === 'function') return wasm.typedArrayFromHeap(info) as Float32Array; // wasm, native
  const cpu = backend as Partial<CpuLike>;
  const values = cpu.data?.get(info.dataId)?.values;
  if (values instanceof Float32Array) return values;
  throw new Error(`in-place view: the ${tf.getBackend()} backend does not expose its tensor storage (supported: wasm, native, cpu)`);
}
