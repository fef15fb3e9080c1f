// The run loop in process, over in-memory ports (no services): the events it emits per planned
// epoch and round, the snapshot after every epoch, and a run stopped after its first snapshot and
// resumed from it ending with the same weights, bit for bit, as the uninterrupted run. The estimate
// port scores channels by |γ| of their BatchNorm (network slimming), computed from the checkpoint.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { initBackend } from '@flowprune/tensor';
import { planEpochs } from './epoch-plan.js';
import { RunCancelled, runPruneTrain } from './prune-train-run.js';
import { resolveRunConfig } from './run-config.js';
import { memoryPorts as memoryPortsOf, restore } from './run-loop.test-util.js';
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

const memoryPorts = (opts: { resume?: RunSnapshot; stopAfterSnapshots?: number }) => memoryPortsOf(cfg, opts);

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
