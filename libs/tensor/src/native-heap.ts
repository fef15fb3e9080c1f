// The view native kernels take of tfjs-backend-wasm's BackendWasm: tensors are byte ranges in the
// wasm heap (backend.dataIdMap → memoryOffset), outputs are allocated there by makeOutput, and
// the heap's ArrayBuffer is what the addon reads and writes in place.
//
// Layouts: native kernels may leave a 4-D activation in oneDNN's blocked layout (nChw8c), which
// tfjs knows nothing about. The Heap records which tensors' data is blocked (per data id, so
// aliases made by Identity/clone agree); anything else that reads the data — wasm kernels, reads
// back to JavaScript — first gets it rewritten to NHWC in place (guardBackend, toNhwc). The logical
// values never change, only their order in memory, so doing it in place is invisible to tfjs.
import * as tf from '@tensorflow/tfjs-core';
import { Layout, type NativeAddon, type Ptr } from './native-addon.js';

/** The members of BackendWasm (tfjs-backend-wasm 4.22) used here; checked at runtime in heapOf. */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  refCount(dataId: tf.DataId): number;
  readSync(dataId: tf.DataId, start?: number, end?: number): tf.backend_util.BackendValues;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

function isWasmBackend(b: unknown): b is WasmBackendInternals {
  const o = b as Partial<WasmBackendInternals> | null;
  return !!o && typeof o.makeOutput === 'function' && typeof o.dataIdMap?.get === 'function' && o.wasm?.HEAPU8 instanceof Uint8Array;
}

/** True for float32 [n, h, w, c] tensors with c divisible by 8: the ones that may be blocked. */
function blockable(t: tf.TensorInfo): boolean {
  return t.dtype === 'float32' && t.shape.length === 4 && (t.shape[3] ?? 0) % 8 === 0 && (t.shape[3] ?? 0) > 0;
}

export class Heap {
  /** Data ids whose data is currently blocked (nChw8c); all others are NHWC. */
  private readonly blocked = new WeakSet<tf.DataId>();

  constructor(
    readonly addon: NativeAddon,
    private readonly backend: WasmBackendInternals,
  ) {}

  /**
   * The heap's current ArrayBuffer. Read it after allocating a kernel's outputs: an allocation
   * can grow wasm memory, which replaces the buffer.
   */
  get buffer(): ArrayBuffer {
    return this.backend.wasm.HEAPU8.buffer as ArrayBuffer;
  }

  ptr(t: tf.TensorInfo): Ptr {
    const data = this.backend.dataIdMap.get(t.dataId);
    if (!data) throw new Error('native kernel: tensor is not on this backend');
    return data.memoryOffset;
  }

  /** ptr(t), or -1 (absent) for undefined. */
  optPtr(t: tf.TensorInfo | undefined): Ptr {
    return t ? this.ptr(t) : -1;
  }

  /** A new output tensor, its data uninitialised, recorded as being in `layout`. */
  out(shape: number[], dtype: tf.DataType = 'float32', layout: Layout = Layout.Nhwc): tf.TensorInfo {
    const t = this.backend.makeOutput(shape, dtype);
    if (layout === Layout.Blocked) this.blocked.add(t.dataId);
    return t;
  }

  /** References to the tensor's data (1: nobody else holds it, so it may be updated in place). */
  refCount(t: tf.TensorInfo): number {
    return this.backend.refCount(t.dataId);
  }

  layoutOf(t: tf.TensorInfo): Layout {
    return this.blocked.has(t.dataId) ? Layout.Blocked : Layout.Nhwc;
  }

  /** Rewrites t's data in place into `layout` if it is not already (blockable tensors only). */
  toLayout(t: tf.TensorInfo, layout: Layout): void {
    const from = this.layoutOf(t);
    if (from === layout) return;
    if (!blockable(t)) throw new Error(`native kernel: tensor [${t.shape.join(', ')}] cannot be blocked`);
    const [n, h, w, c] = t.shape as [number, number, number, number];
    this.addon.relayout(this.buffer, this.ptr(t), n, h, w, c, from, layout);
    if (layout === Layout.Blocked) this.blocked.add(t.dataId);
    else this.blocked.delete(t.dataId);
  }

  /** Makes every tensor given NHWC (what tfjs and the wasm kernels expect). */
  toNhwc(tensors: Iterable<tf.TensorInfo | undefined>): void {
    for (const t of tensors) if (t && this.blocked.has(t.dataId)) this.toLayout(t, Layout.Nhwc);
  }

  /**
   * Makes the backend's own readers see NHWC: readSync (and read, which calls it) and
   * typedArrayFromHeap, which flowprune's in-place views use.
   */
  guardBackend(): void {
    const b = this.backend;
    const readSync = b.readSync.bind(b);
    const typedArrayFromHeap = b.typedArrayFromHeap.bind(b);
    b.readSync = (dataId, start, end) => {
      if (this.blocked.has(dataId)) this.toNhwc([this.infoOf(dataId)]);
      return readSync(dataId, start, end);
    };
    b.typedArrayFromHeap = (info) => {
      this.toNhwc([info]);
      return typedArrayFromHeap(info);
    };
  }

  /** The engine's record of a data id (shape, dtype), for reads that only carry the id. */
  private infoOf(dataId: tf.DataId): tf.TensorInfo {
    const info = tf.engine().state.tensorInfo.get(dataId);
    if (!info) throw new Error('native backend: read of a tensor the engine does not know');
    return { dataId, shape: info.shape, dtype: info.dtype };
  }
}

const heaps = new WeakMap<object, Heap>();

/** The Heap for a kernel's backend (a BackendWasm instance serving the native backend). */
export function heapOf(addon: NativeAddon, backend: unknown): Heap {
  if (!isWasmBackend(backend)) throw new Error('native kernels need the tfjs wasm backend storage');
  let heap = heaps.get(backend);
  if (!heap) {
    heap = new Heap(addon, backend);
    heaps.set(backend, heap);
  }
  return heap;
}
