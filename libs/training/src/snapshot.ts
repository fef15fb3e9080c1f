// What a run needs to continue exactly where it stopped: the next epoch, the schedule's integer
// p_cumulative, best-so-far bookkeeping, and the model, optimizer and θ₀ state.
import { parseSafeTensors, serializeSafeTensors, type Model, type SafeTensor } from '@flowprune/models';
import { tf } from '@flowprune/tensor';
import type { LatencyMeasurementData } from './events.js';

export interface RunProgress {
  /** Index of the next planned epoch (planEpochs). */
  nextEpoch: number;
  pCumulative: number;
  bestAccuracy: number;
  bestCheckpoint: string;
  accuracyBeforePruning: number;
  accuracyAfterPruning: number;
  /** Measured latency of the trained unpruned model (the evaluation before the first pruning round). */
  latencyBefore?: LatencyMeasurementData[];
  stageSeconds: Record<string, number>;
  /** Wall time spent in earlier sessions of this run. */
  elapsedSeconds: number;
}

export interface RunSnapshot {
  progress: RunProgress;
  model: Model;
  /** SGD momentum buffers by parameter name (tfjs layout). */
  buffers: ReadonlyMap<string, tf.Tensor>;
  /** θ₀ pruned alongside the model (use_init). */
  initModel?: Model;
}

/** Momentum buffers as safetensors (tfjs layout, parameter names), bit-exact. */
export function encodeBuffers(buffers: ReadonlyMap<string, tf.Tensor>): Uint8Array {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of buffers) tensors.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) });
  return serializeSafeTensors({ tensors, metadata: { content: 'sgd-momentum-buffers', layout: 'tfjs' } });
}

export function decodeBuffers(bytes: Uint8Array): Map<string, tf.Tensor> {
  const file = parseSafeTensors(bytes, 'optimizer state');
  return new Map([...file.tensors].map(([name, t]) => [name, tf.tensor(t.data as Float32Array, t.shape)]));
}
