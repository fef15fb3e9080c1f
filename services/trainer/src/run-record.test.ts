// One description of a run across its shapes, in process: every RunSpec field reaches the RunConfig
// of the same name; every streamed run event crosses the wire as the RunEvent field of its kind;
// and runs stored in the shape written before the run documents had a version (1ca44d1) still
// resume and replay through a RunManager.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSpec } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { RunEvent, type RunSpec } from '@flowprune/proto';
import { GRAPH_ARCH } from '@flowprune/models';
import { FileRunStore } from '@flowprune/store';
import { planEpochs, resolveRunConfig, type RunEventBody, type RunSummaryData } from '@flowprune/training';
import { toProtoEvent } from './run-events.js';
import { RunManager, type TimedEvent, type TrainerDeps } from './run-manager.js';
import { runConfigFromRecord, runConfigFromSpec } from './run-spec.js';

test('every RunSpec field reaches the RunConfig field of the same name; prune_percent becomes a ratio, the dataset its name', () => {
  // Every value differs from its default, so a field left out would show as the default.
  const spec = runSpec({
    name: 'all fields',
    arch: 'resnet56',
    numClasses: 12,
    dataset: { name: 'syn' },
    seed: 5,
    measure: 'biased_loss',
    measureParams: { exact_decisions: 1 },
    prunePercent: 40,
    nRounds: 3,
    thresholds: [10, 20],
    temperature: 4,
    impSamples: 100,
    warmupEpochs: 2,
    lrPrune: 0.2,
    momentum: 0.8,
    weightDecay: 5e-4,
    schedule: [{ lr: 0.3, epochs: 6 }],
    batchSize: 32,
    evalBatchSize: 64,
    trainSamples: 100,
    testSamples: 50,
    augment: false,
    preserveMomentum: true,
    graspTemperature: 150,
    trackImportance: true,
    trackBatches: 10,
    alpha: 0.7,
    useL2: false,
    useInit: true,
    analysis: { everyBatches: 3, samples: 40, hessianEveryBatches: 6 },
  });
  const cfg = runConfigFromSpec(spec, 10);
  // The generic policy's settings: a built-in architecture refuses them, so an imported (graph) run carries them.
  const generic = { aggregate: 'max', maxRatio: 0.5, roundTo: 8 } as const;
  const graphCfg = runConfigFromSpec({ ...spec, arch: GRAPH_ARCH, ...generic }, 10);
  const differentlyNamed = new Set<keyof RunSpec>(['dataset', 'prunePercent', 'pretrained']);
  for (const key of Object.keys(spec) as (keyof RunSpec)[]) {
    if (differentlyNamed.has(key)) continue;
    if (key in generic) assert.deepEqual(graphCfg[key as keyof typeof graphCfg], generic[key as keyof typeof generic], key);
    else assert.deepEqual(cfg[key as keyof typeof cfg], spec[key], key);
  }
  assert.equal(cfg.pruneRatio, 0.4);
  assert.equal(cfg.dataset, 'syn');
  assert.equal(runConfigFromSpec({ ...spec, trackImportance: false, useInit: false, useL2: true }, 10).useL2, true);
  assert.equal(runConfigFromSpec({ ...spec, numClasses: 0 }, 10).numClasses, 10, '0 = the dataset’s classes');
});

const summary: RunSummaryData = {
  backend: 'wasm',
  parametersBefore: 1000,
  parametersAfter: 400,
  flopsBefore: 9000,
  flopsAfter: 3000,
  accuracyBeforePruning: 0.3,
  accuracyAfterPruning: NaN,
  accuracyAfterFinetune: 0.5,
  bestTestAccuracy: 0.52,
  compressionRatio: 2.5,
  channelsBefore: [64, 64],
  channelsAfter: [30, 34],
  stageSeconds: { train: 3.5 },
  wallSeconds: 4,
  finalCheckpoint: 'best',
  latency: { before: [{ engine: 'onnxruntime', batchSize: 1, p50Ms: 1.5, p95Ms: 2, imagesPerSecond: 600, runs: 10 }], after: [] },
};

test('every streamed event kind crosses the wire as the RunEvent field of its name, field for field; analysis stays in the store', () => {
  const bodies: Exclude<RunEventBody, { kind: 'analysis' }>[] = [
    { kind: 'started', arch: 'vgg13', backend: 'wasm', totalEpochs: 5, trainBatches: 4, parameters: 1000, flops: 9000 },
    { kind: 'progress', phase: 'warmup', epoch: 0, batch: 1, batches: 4, loss: 2.5 },
    { kind: 'epoch', phase: 'final_training', epoch: 4, lr: 0.5, trainLoss: 2, trainAccuracy: 0.25, testLoss: 2.25, testAccuracy: 0.125, seconds: 1.5 },
    { kind: 'round', round: 1, prunedFraction: 0.25, channels: [48, 48], accuracyBeforeFinetune: 0.5, parameters: 700, flops: 6000, measure: 'mag_based', estimator: 'e@a' },
    { kind: 'stage', stage: 'train', seconds: 1, detail: 'warmup epoch 0' },
    { kind: 'finished', summary: { ...summary, accuracyAfterPruning: 0.25 } },
    { kind: 'failed', message: 'cancelled' },
  ];
  for (const body of bodies) {
    const wire = RunEvent.decode(RunEvent.encode(toProtoEvent('r1', 1234, body)!).finish());
    const { kind, ...payload } = body;
    assert.equal(wire.runId, 'r1');
    assert.equal(wire.unixMs, 1234);
    assert.deepEqual(wire[kind], payload, kind);
    assert.deepEqual(
      Object.keys(wire).filter((k) => wire[k as keyof RunEvent] !== undefined && k !== 'runId' && k !== 'unixMs'),
      [kind],
      `${kind}: only its own field is set`,
    );
  }
  assert.equal(toProtoEvent('r1', 0, { kind: 'analysis', analysis: { type: 'flow' } as never }), undefined);
});

// ---- runs stored before the run documents had a version (what 1ca44d1's trainer wrote) ----

/** The spec 1ca44d1's runRecordInput stored: the resolved RunConfig as JSON, untagged. */
const OLD_SPEC = {
  name: '',
  arch: 'vgg13',
  numClasses: 10,
  dataset: 'cifar10',
  seed: 7,
  measure: 'mag_based',
  measureParams: {},
  pruneRatio: 0.5,
  nRounds: 2,
  thresholds: [],
  temperature: 5,
  impSamples: 2560,
  warmupEpochs: 0,
  lrPrune: 0.1,
  momentum: 0.9,
  weightDecay: 0.0001,
  schedule: [{ lr: 0.05, epochs: 3 }],
  batchSize: 16,
  evalBatchSize: 128,
  trainSamples: 64,
  testSamples: 32,
  augment: true,
  preserveMomentum: false,
  graspTemperature: 200,
  trackImportance: false,
  trackBatches: 20,
  alpha: 0.8,
  useL2: false,
  useInit: false,
};
const OLD_INPUT = { spec: OLD_SPEC, model: 'vgg13', dataset: 'cifar10', measure: 'mag_based', pruneRatio: 0.5, seed: 7, backend: 'cpu', status: 'created' as const };
/** Its resume point: the slot and the progress JSON (NaN as null). */
const OLD_RESUME = {
  slot: 'a',
  progress: { nextEpoch: 2, pCumulative: 75, bestAccuracy: -1, bestCheckpoint: '', accuracyBeforePruning: 0.25, accuracyAfterPruning: null, stageSeconds: { train: 2 }, elapsedSeconds: 3 },
};
/** Its summary and events: JSON.parse(JSON.stringify(...)) of the run loop's objects (NaN as null). */
const OLD_SUMMARY = JSON.parse(JSON.stringify(summary)) as Record<string, unknown>;
const OLD_EVENTS = [
  { type: 'started', data: { kind: 'started', arch: 'vgg13', backend: 'cpu', totalEpochs: 5, trainBatches: 4, parameters: 1000, flops: 9000 } },
  { type: 'epoch', data: { kind: 'epoch', phase: 'warmup', epoch: 0, lr: 0.1, trainLoss: 2, trainAccuracy: 0.25, testLoss: 2.25, testAccuracy: 0.125, seconds: 1.5 } },
  { type: 'finished', data: { kind: 'finished', summary: OLD_SUMMARY } },
];

/** A dependency these store-only calls must not reach. */
const unused = <T extends object>(name: string): T =>
  new Proxy({} as T, {
    get: (_t, p) => {
      throw new Error(`${name}.${String(p)} was called; this test only reads the store`);
    },
  });

function manager(store: FileRunStore): RunManager {
  const deps: TrainerDeps = { store, backend: 'wasm', dataLoader: unused('dataLoader'), evaluator: unused('evaluator'), estimators: unused('estimators') };
  return new RunManager(deps, { pollMs: 5, log: () => undefined });
}

async function collect(events: AsyncIterable<TimedEvent>): Promise<RunEventBody[]> {
  const out: RunEventBody[] = [];
  for await (const e of events) out.push(e.body);
  return out;
}

test('an old interrupted run: its config reads back, and ResumeRun queues it at its snapshot’s epoch', async () => {
  const store = new FileRunStore({ root: join(tempDir('old-records'), 'runs') });
  const rec = await store.createRun(OLD_INPUT);
  await store.updateRun(rec.id, { status: 'interrupted', resume: OLD_RESUME });
  const cfg = runConfigFromRecord((await store.getRun(rec.id))!);
  assert.deepEqual(cfg, resolveRunConfig(OLD_SPEC));
  assert.deepEqual(await manager(store).resume(rec.id), { nextEpoch: 2, totalEpochs: planEpochs(cfg).length });
  assert.equal((await store.getRun(rec.id))!.status, 'queued');
});

test('an old completed run replays through WatchRun: its events checked, the summary’s null back as NaN', async () => {
  const store = new FileRunStore({ root: join(tempDir('old-records'), 'runs') });
  const rec = await store.createRun(OLD_INPUT);
  for (const e of OLD_EVENTS) await store.appendEvent(rec.id, e);
  await store.updateRun(rec.id, { status: 'completed', summary: OLD_SUMMARY });
  const bodies = await collect(manager(store).watch(rec.id));
  assert.deepEqual(
    bodies.map((b) => b.kind),
    ['started', 'epoch', 'finished'],
  );
  assert.deepEqual(bodies[2], { kind: 'finished', summary });
});

test('an old completed run without a terminal event ends its watch with the stored summary', async () => {
  const store = new FileRunStore({ root: join(tempDir('old-records'), 'runs') });
  const rec = await store.createRun(OLD_INPUT);
  await store.appendEvent(rec.id, OLD_EVENTS[0]);
  await store.updateRun(rec.id, { status: 'completed', summary: OLD_SUMMARY });
  const bodies = await collect(manager(store).watch(rec.id));
  assert.deepEqual(bodies.at(-1), { kind: 'finished', summary });
});

test('a stored run whose summary is broken fails the watch naming the run and the field', async () => {
  const store = new FileRunStore({ root: join(tempDir('old-records'), 'runs') });
  const rec = await store.createRun(OLD_INPUT);
  await store.updateRun(rec.id, { status: 'completed', summary: { ...OLD_SUMMARY, flopsAfter: 'many' } });
  await assert.rejects(collect(manager(store).watch(rec.id)), (e: Error & { details?: string }) => {
    assert.match(e.details ?? e.message, new RegExp(`run ${rec.id}: its stored summary\\.flopsAfter: must be a number`));
    return true;
  });
});
