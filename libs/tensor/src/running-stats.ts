// BatchNorm running statistics updated in place, in JavaScript over the tensors' own storage:
// a per-channel update is a few dozen numbers per layer, and as tfjs ops it cost six kernel calls
// per BatchNorm (342 per ResNet-56 step, ~4 % of the step on the native backend).
import * as tf from '@tensorflow/tfjs-core';
import { updateRunningStats } from './batchnorm.js';
import { noteInPlaceWrite } from './heap-writes.js';

export interface RunningStatsUpdate {
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  /** Batch mean per channel. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel. */
  variance: tf.Tensor1D;
  /** Values per channel in the batch (N·H·W): the variance is made unbiased with count / (count − 1). */
  count: number;
}

interface HeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  refCount(dataId: tf.DataId): number;
}

function heapBackend(): HeapBackend | undefined {
  const b = tf.backend() as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function' ? (b as HeapBackend) : undefined;
}

const f = Math.fround;

/**
 * PyTorch's update, running = (1 − m)·running + m·batch (the variance unbiased first), applied in
 * place with float32 rounding after every operation, exactly as the tfjs ops it replaces round.
 * Returns false, having changed nothing, when the backend does not expose its storage (wasm and
 * native do) or a running tensor shares its data with another tensor.
 */
export function updateRunningStatsInPlace(updates: readonly RunningStatsUpdate[], momentum: number): boolean {
  const backend = heapBackend();
  if (!backend) return false;
  const float = (t: tf.Tensor): boolean => t.dtype === 'float32';
  for (const u of updates) {
    if (![u.runningMean, u.runningVar, u.mean, u.variance].every(float)) return false;
    if (backend.refCount(u.runningMean.dataId) !== 1 || backend.refCount(u.runningVar.dataId) !== 1) return false;
    if (u.mean.size !== u.runningMean.size || u.variance.size !== u.runningVar.size) return false;
  }
  noteInPlaceWrite();
  const keep = f(1 - momentum);
  const take = f(momentum);
  for (const u of updates) {
    const rm = backend.typedArrayFromHeap(u.runningMean) as Float32Array;
    const rv = backend.typedArrayFromHeap(u.runningVar) as Float32Array;
    const mean = backend.typedArrayFromHeap(u.mean) as Float32Array;
    const variance = backend.typedArrayFromHeap(u.variance) as Float32Array;
    const unbias = f(u.count / Math.max(1, u.count - 1));
    for (let c = 0; c < rm.length; c++) {
      rm[c] = f(f(rm[c]! * keep) + f(mean[c]! * take));
      rv[c] = f(f(rv[c]! * keep) + f(f(variance[c]! * unbias) * take));
    }
  }
  return true;
}

/**
 * Applies every update: in place where the backend allows (above), else with tfjs ops
 * (updateRunningStats) — the same float32 result either way.
 */
export function applyRunningStats(updates: readonly RunningStatsUpdate[], momentum: number): void {
  if (updateRunningStatsInPlace(updates, momentum)) return;
  for (const u of updates)
    tf.tidy(() =>
      updateRunningStats(u.runningMean, u.runningVar, { mean: u.mean, unbiasedVariance: tf.mul(u.variance, u.count / Math.max(1, u.count - 1)) }, momentum),
    );
}
