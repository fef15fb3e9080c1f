// Shared by the *.test.ts files: backend setup, seeded data and the error metric.
import { tf, initBackend, loadNativeAddon } from './index.js';
import { Layout } from './native-addon.js';
import { heapOf } from './native-heap.js';

/** wasm active (with our training kernels), cpu registered as the reference backend. */
export async function useWasmWithCpuReference(): Promise<void> {
  delete process.env['FLOWPRUNE_BACKEND']; // a developer's shell setting must not change what is tested
  await import('@tensorflow/tfjs-backend-cpu');
  const info = await initBackend({ prefer: 'wasm', log: () => undefined });
  if (info.name !== 'wasm') throw new Error(`expected the wasm backend, got ${info.name}`);
}

/**
 * Why the native-backend tests cannot run here (addon not built or disabled), or false. Known at
 * import time, so suites can be marked skipped with the reason.
 */
export function nativeSkipReason(): string | false {
  const load = loadNativeAddon();
  return load.addon ? false : `native backend unavailable: ${load.reason}`;
}

/**
 * native active (oneDNN addon on the wasm storage), cpu registered as the reference backend. Runs
 * the kernels on 2 threads whatever FLOWPRUNE_THREADS says, so their parallel paths are tested.
 */
export async function useNativeWithCpuReference(): Promise<void> {
  delete process.env['FLOWPRUNE_BACKEND'];
  await import('@tensorflow/tfjs-backend-cpu');
  const info = await initBackend({ prefer: 'native', log: () => undefined });
  if (info.name !== 'native') throw new Error(`expected the native backend, got ${info.name}`);
  loadNativeAddon().addon?.setThreads(2);
}

/**
 * On the native backend, rewrites the tensors' data in place into the blocked layout a native
 * convolution would leave them in (same values), so a kernel's blocked path runs; elsewhere a no-op.
 */
export function blockOnNative(...tensors: tf.Tensor[]): void {
  const { addon } = loadNativeAddon();
  if (!addon || tf.getBackend() !== 'native') return;
  const heap = heapOf(addon, tf.backend());
  for (const t of tensors) heap.toLayout(t, Layout.Blocked);
}

/** Deterministic N(0,1)-ish values (sum of uniforms), so both backends see identical inputs. */
export function seeded(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < n; i++) out[i] = next() + next() + next() - 1.5;
  return out;
}

/** max|a-b| / max|b|; throws on shape mismatch or an all-zero reference (which would prove nothing). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    ref = Math.max(ref, Math.abs(b[i] ?? NaN));
  }
  if (!(ref > 0)) throw new Error('reference is all zeros or NaN');
  return Number.isNaN(diff) ? Infinity : diff / ref;
}

/** Runs fn on the named backend, returns the outputs' data, disposes them, restores the backend. */
export async function runOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const outs = fn();
    const data = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  } finally {
    await tf.setBackend(previous);
  }
}

/** Live tensors and backend buffers, to detect leaks (the backend count catches refcount bugs). */
export function liveCounts(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
}
