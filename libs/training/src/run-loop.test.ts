// The run loop in process, over in-memory ports (no services): the events it emits per planned
// epoch and round, the snapshot after every epoch, the estimator asked at every pruning round about
// the checkpoint just trained (its layer manifest that of the network pruned so far), a cancelled
// run stopping at the next batch, and a run stopped after its first snapshot and resumed from it (its
// resume document stored as JSON and read back) ending with the same weights, bit for bit, and the
// same summary as the uninterrupted run. The estimate port scores channels by |γ| of their BatchNorm
// (network slimming), computed from the checkpoint; the evaluate port measures a fake latency.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { buildNetwork, countFlops, countParameters, Model, networkOf, prunableLayers, type PrunableLayerInfo } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import type { PixelBatch } from './batch.js';
import { planEpochs } from './epoch-plan.js';
import { evaluateModel } from './evaluate.js';
import type { LatencyMeasurementData, RunEventBody } from './events.js';
import { RunCancelled, runPruneTrain, type RunPorts } from './prune-train-run.js';
import { resolveRunConfig } from './run-config.js';
import { readResume, resumeDocument } from './run-document.js';
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

/** A stored snapshot, as run-snapshots.ts keeps it: bytes and the resume document's JSON, nothing shared with the live run. */
interface StoredSnapshot {
  resume: string;
  model: Uint8Array;
  buffers: Uint8Array;
}

/** What the estimate port was asked: the checkpoint, round, epoch, θ₀ and the checkpoint's layer manifest. */
interface EstimateCall {
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

function memoryPorts(opts: { resume?: RunSnapshot; isCancelled?: (events: readonly RunEventBody[], snapshots: number) => boolean }) {
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
      const state = model.stateDict();
      const scores = model.net.filterLayers.map((l) => Array.from(state.get(`${l.bn}.weight`)!.data as Float32Array, Math.abs));
      model.dispose();
      return { scores, estimator: 'bn_gamma in memory' };
    },
    saveSnapshot: async (s) => {
      const slot = s.progress.nextEpoch % 2 === 0 ? 'a' : 'b';
      snapshots.push({ resume: JSON.stringify(resumeDocument({ slot, progress: s.progress })), model: s.model.toSafeTensors(), buffers: encodeBuffers(s.buffers) });
    },
    emit: (e) => events.push(e),
    isCancelled: () => opts.isCancelled?.(events, snapshots.length) ?? false,
  };
  return { ports, checkpoints, snapshots, events, estimates };
}

const restore = (s: StoredSnapshot): RunSnapshot => ({
  progress: readResume(JSON.parse(s.resume)).progress,
  model: Model.fromSafeTensors(s.model, {}, 'snapshot'),
  buffers: decodeBuffers(s.buffers),
});

let reference: ReturnType<typeof memoryPorts>;
let referenceSummary: Awaited<ReturnType<typeof runPruneTrain>>;

test('a run emits started, one epoch event per planned epoch, one round per pruning round, and a snapshot after every epoch', async () => {
  reference = memoryPorts({});
  const summary = await runPruneTrain(cfg, reference.ports);
  referenceSummary = summary;
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
    snapshots.map((s) => readResume(JSON.parse(s.resume)).progress.nextEpoch),
    plan.map((_, i) => i + 1),
  );
  assert.ok(summary.channelsAfter.reduce((a, b) => a + b) < summary.channelsBefore.reduce((a, b) => a + b), 'channels were pruned');
  assert.ok(summary.flopsAfter < summary.flopsBefore);
  assert.ok(reference.checkpoints.has('final'));
});

test('stopped after its first snapshot and resumed from it: the same final weights as the uninterrupted run', async () => {
  const first = memoryPorts({ isCancelled: (_events, snapshots) => snapshots >= 1 });
  await assert.rejects(runPruneTrain(cfg, first.ports), RunCancelled);
  assert.equal(first.snapshots.length, 1);
  assert.equal(first.checkpoints.has('final'), false);
  const second = memoryPorts({ resume: restore(first.snapshots[0]) });
  const summary = await runPruneTrain(cfg, second.ports);
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
  assert.ok(referenceSummary.latency, 'the uninterrupted run measured latency before and after pruning');
  assert.deepEqual(summary.latency, referenceSummary.latency, 'the latency before pruning survived the snapshot');
  assert.deepEqual(summary.channelsAfter, referenceSummary.channelsAfter);
  assert.equal(summary.accuracyBeforePruning, referenceSummary.accuracyBeforePruning);
});

test('every pruning round asks the estimator about the checkpoint it just trained, whose manifest is the network pruned so far', () => {
  const plan = planEpochs(cfg);
  const roundEpochs = plan.flatMap((p, i) => (p.round === undefined ? [] : [i]));
  assert.deepEqual(
    reference.estimates.map(({ checkpoint, round, epoch, initCheckpoint }) => ({ checkpoint, round, epoch, initCheckpoint })),
    roundEpochs.map((i, k) => ({ checkpoint: `round${k + 1}-trained`, round: k + 1, epoch: i + 1, initCheckpoint: undefined })),
  );
  const unpruned = prunableLayers(buildNetwork(cfg.arch, cfg.numClasses).filterLayers);
  const rounds = reference.events.filter((e) => e.kind === 'round');
  // Round k sees every layer (by the same names) with the widths round k − 1 left.
  const expectedWidths = [unpruned.map((l) => l.outChannels), ...rounds.slice(0, -1).map((r) => r.channels)];
  reference.estimates.forEach((call, k) => {
    assert.deepEqual(
      call.manifest.map((l) => l.conv),
      unpruned.map((l) => l.conv),
      `round ${k + 1}: the same layers`,
    );
    assert.deepEqual(
      call.manifest.map((l) => l.outChannels),
      expectedWidths[k],
      `round ${k + 1}: widths after round ${k}`,
    );
  });
  assert.notDeepEqual(expectedWidths[1], expectedWidths[0], 'round 1 pruned something');
});

test('cancelled during an epoch: stops at the next batch, throws RunCancelled, reports and stores nothing more', async () => {
  const plan = planEpochs(cfg);
  const cancelAt = 1; // the second planned epoch
  const run = memoryPorts({ isCancelled: (events) => events.some((e) => e.kind === 'progress' && e.epoch === cancelAt) });
  await assert.rejects(runPruneTrain(cfg, run.ports), RunCancelled);
  const progressOf = (epoch: number) => run.events.filter((e) => e.kind === 'progress' && e.epoch === epoch).length;
  assert.equal(progressOf(cancelAt), 1, 'one batch of the cancelled epoch, then it stopped');
  assert.equal(progressOf(cancelAt - 1), run.ports.trainBatchCount, 'the epoch before ran whole');
  assert.deepEqual(
    run.events.filter((e) => e.kind === 'epoch').map((e) => e.epoch),
    [0],
    'no epoch event for the cancelled epoch',
  );
  assert.deepEqual(
    run.events.filter((e) => e.kind === 'round').map((e) => e.round),
    plan.slice(0, cancelAt).flatMap((p) => (p.round === undefined ? [] : [p.round])),
  );
  assert.equal(run.snapshots.length, cancelAt, 'the snapshots of the finished epochs only');
  assert.equal(run.checkpoints.has('final'), false);
  assert.ok(!run.events.some((e) => e.kind === 'finished' || e.kind === 'failed'), 'the run loop reports no end: its caller records how it ended');
});
