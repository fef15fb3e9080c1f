// The run loop in process, over in-memory ports (no services): the events it emits per planned
// epoch and round, the snapshot after every epoch, the estimator asked at every pruning round about
// the checkpoint just trained (its layer manifest that of the network pruned so far), a cancelled
// run stopping at the next batch, and a run stopped after its first snapshot and resumed from it (its
// resume document stored as JSON and read back) ending with the same weights, bit for bit, and the
// same summary as the uninterrupted run. The estimate port scores channels by |γ| of their BatchNorm
// (network slimming), computed from the checkpoint; the evaluate port measures a fake latency.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { prunableLayers } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { planEpochs } from './epoch-plan.js';
import { RunCancelled, runPruneTrain } from './prune-train-run.js';
import { resolveRunConfig, runNetwork } from './run-config.js';
import { memoryPorts as memoryPortsOf, nextEpochOfSnapshot, restore } from './run-loop.test-util.js';
import type { RunEventBody } from './events.js';
import type { RunSnapshot } from './snapshot.js';

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

const memoryPorts = (opts: { resume?: RunSnapshot; stopAfterSnapshots?: number; isCancelled?: (events: readonly RunEventBody[]) => boolean }) => memoryPortsOf(cfg, opts);

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
    snapshots.map(nextEpochOfSnapshot),
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
  const unpruned = prunableLayers(runNetwork(cfg).filterLayers);
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
