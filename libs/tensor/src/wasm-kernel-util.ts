// Helpers for kernels that are composed from other (XNNPACK-backed) wasm kernels through the
// ordinary tf ops. Nested ops run with the tape off (the engine only records at kernel depth 0),
// and every composed kernel runs inside tf.tidy, so intermediates are freed and only the
// returned tensor survives.
import * as tf from '@tensorflow/tfjs-core';

export type Pair = [number, number];

/**
 * Wraps a kernel input (a bare TensorInfo) in a Tensor so tf ops accept it. The backend ref count
 * is bumped first: disposing the wrapper (e.g. at the end of tf.tidy) must not free the caller's data.
 */
export function wrapInput<R extends tf.Rank>(info: tf.TensorInfo, backend: tf.KernelBackend): tf.Tensor<R> {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor<R>;
}

export function pair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * Applies signed spatial padding to an NHWC tensor the cheap way: negative amounts crop (slice),
 * positive amounts are returned as explicit conv padding so the convolution pads on the fly.
 */
export function cropForConv(
  t: tf.Tensor4D,
  rows: Pair,
  cols: Pair,
): { t: tf.Tensor4D; pad: [[0, 0], Pair, Pair, [0, 0]] } {
  const [n, h, w, c] = t.shape;
  const top = Math.max(0, -rows[0]);
  const bottom = Math.max(0, -rows[1]);
  const left = Math.max(0, -cols[0]);
  const right = Math.max(0, -cols[1]);
  const cropped =
    top + bottom + left + right === 0
      ? t
      : tf.slice(t, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]);
  return {
    t: cropped,
    pad: [[0, 0], [Math.max(0, rows[0]), Math.max(0, rows[1])], [Math.max(0, cols[0]), Math.max(0, cols[1])], [0, 0]],
  };
}
