// The run loop's ports in memory (no services), shared by the run-loop tests: deterministic
// CIFAR-shaped batches, checkpoints and snapshots kept as bytes, and an estimate port that scores
// channels by |γ| of their BatchNorm (network slimming), computed from the stored checkpoint.
import { countFlops, countParameters, Model, type Network } from '@flowprune/models';
import type { PixelBatch } from './batch.js';
import { evaluateModel } from './evaluate.js';
import type { RunEventBody } from './events.js';
import type { RunPorts } from './prune-train-run.js';
import type { RunConfig } from './run-config.js';
import { decodeBuffers, encodeBuffers, type RunSnapshot } from './snapshot.js';

/** Deterministic CIFAR-shaped batches that differ per epoch (as the data-loader's shuffles do). */
export function batches(epoch: number, n: number, salt: number): AsyncIterable<PixelBatch> {
  return (async function* () {
    for (let i = 0; i < n; i++)
      yield {
        count: 4,
        height: 32,
        width: 32,
        channels: 3,
        pixels: Uint8Array.from({ length: 4 * 3072 }, (_, j) => (j * 31 + i * 7 + epoch * 13 + salt) % 256),
        labels: Array.from({ length: 4 }, (_, j) => (j + i + epoch) % 10),
      };
  })();
}

/** A stored snapshot, as run-snapshots.ts keeps it: bytes and JSON, nothing shared with the live run. */
export interface StoredSnapshot {
  progress: string;
  model: Uint8Array;
  buffers: Uint8Array;
}

/** |γ| of each filter layer's BatchNorm. */
export function bnGamma(model: Model): number[][] {
  const state = model.stateDict();
  return model.net.filterLayers.map((l) => Array.from(state.get(`${l.bn}.weight`)!.data as Float32Array, Math.abs));
}

export function memoryPorts(cfg: RunConfig, opts: { resume?: RunSnapshot; stopAfterSnapshots?: number; initialModel?: Model; importedNetwork?: Network }) {
  const checkpoints = new Map<string, Uint8Array>();
  const snapshots: StoredSnapshot[] = [];
  const events: RunEventBody[] = [];
  const load = (name: string) => Model.fromSafeTensors(checkpoints.get(name)!, {}, name);
  const ports: RunPorts = {
    backend: 'wasm',
    trainBatchCount: 2,
    trainBatches: (epoch) => batches(epoch, 2, 0),
    testBatches: () => batches(0, 1, 101),
    resume: opts.resume,
    initialModel: opts.initialModel,
    importedNetwork: opts.importedNetwork,
    saveCheckpoint: async (model, name) => {
      checkpoints.set(name, model.toSafeTensors());
      return name;
    },
    evaluateCheckpoint: async (name) => {
      const model = load(name);
      const r = await evaluateModel(model, batches(0, 1, 101), cfg.temperature);
      const out = { accuracy: r.accuracy, flops: countFlops(model.net), parameters: countParameters(model.net), compressionRatio: 1 };
      model.dispose();
      return out;
    },
    estimate: async (name) => {
      const model = load(name);
      const scores = bnGamma(model);
      model.dispose();
      return { scores, estimator: 'bn_gamma in memory' };
    },
    saveSnapshot: async (s) => {
      snapshots.push({ progress: JSON.stringify(s.progress), model: s.model.toSafeTensors(), buffers: encodeBuffers(s.buffers) });
    },
    emit: (e) => events.push(e),
    isCancelled: () => opts.stopAfterSnapshots !== undefined && snapshots.length >= opts.stopAfterSnapshots,
  };
  return { ports, checkpoints, snapshots, events, load };
}

export const restore = (s: StoredSnapshot): RunSnapshot => ({
  progress: JSON.parse(s.progress) as RunSnapshot['progress'],
  model: Model.fromSafeTensors(s.model, {}, 'snapshot'),
  buffers: decodeBuffers(s.buffers),
});
