// The run loop in process, over in-memory ports (no services): the events it emits per planned
// epoch and round, the snapshot after every epoch, and a run stopped after its first snapshot and
// resumed from it ending with the same weights, bit for bit, as the uninterrupted run. The estimate
// port scores channels by |γ| of their BatchNorm (network slimming), computed from the checkpoint.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { countFlops, countParameters, Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import type { PixelBatch } from './batch.js';
import { planEpochs } from './epoch-plan.js';
import { evaluateModel } from './evaluate.js';
import type { RunEventBody } from './events.js';
import { RunCancelled, runPruneTrain, type RunPorts } from './prune-train-run.js';
import { resolveRunConfig } from './run-config.js';
import { decodeBuffers, encodeBuffers, type RunSnapshot } from './snapshot.js';

before(async () => {
  // Bit-identical reruns need a deterministic backend (see resume.test.ts): wasm.
  process.env.FLOWPRUNE_BACKEND = 'wasm';
  await initBackend({ log: () => undefined });
});

const cfg = resolveRunConfig({
  arch: 'mobilenet_v1',
  numClasses: 10,
  dataset: 'in-memory',
  seed: 3,
  measure: 'bn_gamma',
  pruneRatio: 0.5,
  nRounds: 2,
  warmupEpochs: 1,
  lrPrune: 0.05,
  schedule: [{ lr: 0.05, epochs: 4 }],
  batchSize: 4,
  evalBatchSize: 4,
  preserveMomentum: true,
});

/** Deterministic CIFAR-shaped batches that differ per epoch (as the data-loader's shuffles do). */
function batches(epoch: number, n: number, salt: number): AsyncIterable<PixelBatch> {
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
interface StoredSnapshot {
  progress: string;
  model: Uint8Array;
  buffers: Uint8Array;
}

function memoryPorts(opts: { resume?: RunSnapshot; stopAfterSnapshots?: number }) {
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
      const state = model.stateDict();
      const scores = model.net.filterLayers.map((l) => Array.from(state.get(`${l.bn}.weight`)!.data as Float32Array, Math.abs));
      model.dispose();
      return { scores, estimator: 'bn_gamma in memory' };
    },
    saveSnapshot: async (s) => {
      snapshots.push({ progress: JSON.stringify(s.progress), model: s.model.toSafeTensors(), buffers: encodeBuffers(s.buffers) });
    },
    emit: (e) => events.push(e),
    isCancelled: () => opts.stopAfterSnapshots !== undefined && snapshots.length >= opts.stopAfterSnapshots,
  };
  return { ports, checkpoints, snapshots, events };
}

const restore = (s: StoredSnapshot): RunSnapshot => ({
  progress: JSON.parse(s.progress) as RunSnapshot['progress'],
  model: Model.fromSafeTensors(s.model, {}, 'snapshot'),
  buffers: decodeBuffers(s.buffers),
});

let reference: ReturnType<typeof memoryPorts>;

test('a run emits started, one epoch event per planned epoch, one round per pruning round, and a snapshot after every epoch', async () => {
  reference = memoryPorts({});
  const summary = await runPruneTrain(cfg, reference.ports);
  const plan = planEpochs(cfg);
  const { events, snapshots } = reference;
  assert.equal(events[0].kind, 'started');
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.deepEqual(
    epochs.map((e) => [e.epoch, e.phase]),
    plan.map((p, i) => [i, p.phase]),
  );
  assert.deepEqual(
    events.filter((e) => e.kind === 'round').map((e) => e.round),
    [1, 2],
  );
  assert.deepEqual(
    snapshots.map((s) => (JSON.parse(s.progress) as { nextEpoch: number }).nextEpoch),
    plan.map((_, i) => i + 1),
  );
  assert.ok(summary.channelsAfter.reduce((a, b) => a + b) < summary.channelsBefore.reduce((a, b) => a + b), 'channels were pruned');
  assert.ok(summary.flopsAfter < summary.flopsBefore);
  assert.ok(reference.checkpoints.has('final'));
});

test('stopped after its first snapshot and resumed from it: the same final weights as the uninterrupted run', async () => {
  const first = memoryPorts({ stopAfterSnapshots: 1 });
  await assert.rejects(runPruneTrain(cfg, first.ports), RunCancelled);
  assert.equal(first.snapshots.length, 1);
  assert.equal(first.checkpoints.has('final'), false);
  const second = memoryPorts({ resume: restore(first.snapshots[0]) });
  await runPruneTrain(cfg, second.ports);
  const resumed = second.events.find((e) => e.kind === 'stage' && e.stage === 'resume');
  assert.ok(resumed, 'the resumed run says where it continues');
  assert.deepEqual(
    second.events.filter((e) => e.kind === 'epoch').map((e) => e.epoch),
    planEpochs(cfg)
      .map((_, i) => i)
      .slice(1),
    'the resumed run trains only the epochs after the snapshot',
  );
  assert.deepEqual(second.checkpoints.get('final'), reference.checkpoints.get('final'), 'final weights bit-identical');
});
