// The run loop's ports in memory (no services), shared by the run-loop tests: deterministic
// CIFAR-shaped batches, checkpoints and snapshots kept as bytes, and an estimate port that scores
// channels by |γ| of their BatchNorm (network slimming), computed from the stored checkpoint, and
// records what it was asked (with the checkpoint's layer manifest); the evaluate port measures a fake
// latency; snapshots keep their resume document as JSON (run-document.ts), as the store does.
import { countFlops, countParameters, Model, networkOf, prunableLayers, type Network, type PrunableLayerInfo } from '@flowprune/models';
import type { PixelBatch } from './batch.js';
import { evaluateModel } from './evaluate.js';
import type { LatencyMeasurementData, RunEventBody } from './events.js';
import type { RunPorts } from './prune-train-run.js';
import type { RunConfig } from './run-config.js';
import { readResume, resumeDocument } from './run-document.js';
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

/** A stored snapshot, as run-snapshots.ts keeps it: bytes and the resume document's JSON, nothing shared with the live run. */
export interface StoredSnapshot {
  resume: string;
  model: Uint8Array;
  buffers: Uint8Array;
}

/** |γ| of each filter layer's BatchNorm. */
export function bnGamma(model: Model): number[][] {
  const state = model.stateDict();
  return model.net.filterLayers.map((l) => Array.from(state.get(`${l.bn}.weight`)!.data as Float32Array, Math.abs));
}

/** What the estimate port was asked: the checkpoint, round, epoch, θ₀ and the checkpoint's layer manifest. */
export interface EstimateCall {
  checkpoint: string;
  round: number;
  epoch: number;
  initCheckpoint?: string;
  manifest: PrunableLayerInfo[];
}

/** A latency that depends on the model's size, so before and after pruning differ. */
const fakeLatency = (model: Model): LatencyMeasurementData[] => [
  { engine: 'in-memory', batchSize: 1, p50Ms: countFlops(model.net) / 1e6, p95Ms: countFlops(model.net) / 5e5, imagesPerSecond: 1e6 / countFlops(model.net), runs: 1 },
];

export function memoryPorts(
  cfg: RunConfig,
  opts: {
    resume?: RunSnapshot;
    stopAfterSnapshots?: number;
    /** Cancels the run once this says so (checked by the run loop at every batch and stage). */
    isCancelled?: (events: readonly RunEventBody[], snapshots: number) => boolean;
    initialModel?: Model;
    importedNetwork?: Network;
  },
) {
  const checkpoints = new Map<string, Uint8Array>();
  const snapshots: StoredSnapshot[] = [];
  const events: RunEventBody[] = [];
  const estimates: EstimateCall[] = [];
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
    evaluateCheckpoint: async (name, evalOpts) => {
      const model = load(name);
      const r = await evaluateModel(model, batches(0, 1, 101), cfg.temperature);
      const out = {
        accuracy: r.accuracy,
        flops: countFlops(model.net),
        parameters: countParameters(model.net),
        compressionRatio: 1,
        ...(evalOpts?.latency ? { latency: fakeLatency(model) } : {}),
      };
      model.dispose();
      return out;
    },
    estimate: async (name, round, epoch, initCheckpoint) => {
      estimates.push({ checkpoint: name, round, epoch, initCheckpoint, manifest: prunableLayers(networkOf(checkpoints.get(name)!, name).filterLayers) });
      const model = load(name);
      const scores = bnGamma(model);
      model.dispose();
      return { scores, estimator: 'bn_gamma in memory' };
    },
    saveSnapshot: async (s) => {
      const slot = s.progress.nextEpoch % 2 === 0 ? 'a' : 'b';
      snapshots.push({ resume: JSON.stringify(resumeDocument({ slot, progress: s.progress })), model: s.model.toSafeTensors(), buffers: encodeBuffers(s.buffers) });
    },
    emit: (e) => events.push(e),
    isCancelled: () => (opts.stopAfterSnapshots !== undefined && snapshots.length >= opts.stopAfterSnapshots) || (opts.isCancelled?.(events, snapshots.length) ?? false),
  };
  return { ports, checkpoints, snapshots, events, estimates, load };
}

/** The epoch a stored snapshot continues with, read back as a trainer does. */
export const nextEpochOfSnapshot = (s: StoredSnapshot): number => readResume(JSON.parse(s.resume)).progress.nextEpoch;

export const restore = (s: StoredSnapshot): RunSnapshot => ({
  progress: readResume(JSON.parse(s.resume)).progress,
  model: Model.fromSafeTensors(s.model, {}, 'snapshot'),
  buffers: decodeBuffers(s.buffers),
});
