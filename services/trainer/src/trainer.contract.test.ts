// Contract test: a tiny prune+train run through the generated client, against real trainer,
// data-loader, estimator and evaluator processes.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { TrainerServiceClient, type RunEvent, type RunSpec, type WatchRunResponse } from '@flowprune/proto';
import { importedCheckpoint, onnxToGraph } from '@flowprune/onnx';
import { FileRunStore } from '@flowprune/store';

const TORCHVISION = join(import.meta.dirname, '../../../libs/onnx/testdata/torchvision');
const svcDir = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
const procs: LaunchedService[] = [];
let client: TrainerServiceClient;
let runsDir: string;

before(async () => {
  const dir = tempDir('trainer');
  runsDir = join(dir, 'runs');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 9 });
  const loader = await launchService({ name: 'data-loader', entry: svcDir('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const [est, ev] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: svcDir('importance-estimator'), args: ['--store', runsDir] }),
    launchService({ name: 'evaluator', entry: svcDir('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address] }),
  ]);
  procs.push(est, ev);
  const trainer = await launchService({
    name: 'trainer',
    entry: svcDir('trainer'),
    args: ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address],
  });
  procs.push(trainer);
  client = makeClient(TrainerServiceClient, trainer.address);
});

after(async () => {
  client?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.deepEqual(codes, [0, 0, 0, 0], 'all four services exit cleanly on SIGTERM');
});

const spec = (over: Partial<RunSpec> = {}): RunSpec =>
  runSpec({
  name: 't',
  arch: 'resnet56',
  numClasses: 0,
  dataset: { name: 'syn' },
  seed: 1,
  measure: 'mag_based',
  measureParams: {},
  prunePercent: 50,
  nRounds: 1,
  thresholds: [],
  temperature: 5,
  impSamples: 0,
  warmupEpochs: 0,
  lrPrune: 0.05,
  momentum: 0.9,
  weightDecay: 1e-4,
  schedule: [{ lr: 0.05, epochs: 2 }],
  batchSize: 20,
  evalBatchSize: 20,
  trainSamples: 0,
  testSamples: 0,
  augment: true,
  preserveMomentum: true,
  ...over,
  });

test('a prune+train run streams its events and lands in the store', async () => {
  const { runId } = await call(client, client.startRun, { spec: spec() });
  const events: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  const failed = events.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  assert.ok(events[0].started, 'first event: started');
  assert.equal(events[0].started!.arch, 'resnet56');
  const epochs = events.filter((e) => e.epoch).map((e) => e.epoch!.phase);
  assert.deepEqual(epochs, ['pruning_and_training', 'final_training']);
  const round = events.find((e) => e.round)!.round!;
  assert.equal(round.measure, 'mag_based');
  assert.ok(round.estimator.startsWith('flowprune-builtin@'));
  assert.ok(round.prunedFraction > 0.3 && round.prunedFraction < 0.7, `pruned ${round.prunedFraction}`);
  const summary = events.at(-1)!.finished!.summary!;
  assert.ok(summary.flopsAfter < summary.flopsBefore, 'FLOPs fall');
  assert.ok(summary.parametersAfter < summary.parametersBefore, 'parameters fall');
  for (const stage of ['train', 'test', 'estimate', 'prune', 'evaluate', 'checkpoint']) assert.ok(summary.stageSeconds[stage] > 0, `${stage} timed`);
  // Measured latency of the unpruned and the final model, batch 1, on both engines.
  for (const side of [summary.latency!.before, summary.latency!.after])
    assert.deepEqual(side.map((l) => [l.engine, l.batchSize, l.runs]), [['onnxruntime', 1, 10], ['flowprune', 1, 10]]);

  const store = new FileRunStore({ root: runsDir });
  const rec = (await store.getRun(runId))!;
  assert.equal(rec.status, 'completed');
  assert.deepEqual(rec.summary?.latency, summary.latency, 'the run record keeps the latency');
  assert.deepEqual(rec.stats.map((s) => s.phase), ['pruning_and_training', 'final_training']);
  assert.equal(rec.rounds.length, 1);
  const cps = (await store.listCheckpoints(runId)).map((c) => c.name);
  for (const name of ['best', 'final', 'round1-pruned', 'round1-trained', 'resume-a-model', 'resume-a-optimizer']) assert.ok(cps.includes(name), `checkpoint ${name}`);
  assert.ok(rec.resume, 'the run document names its last resume slot');
  // A replayed watch of a finished run gives the same persisted events.
  const replay: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) replay.push((m as WatchRunResponse).event!);
  assert.ok(replay.at(-1)?.finished, 'replay ends with finished');
});

test('biased_loss_tracked tracks importance in the trainer over the last minibatches', async () => {
  const { runId } = await call(client, client.startRun, { spec: spec({ measure: 'biased_loss_tracked', trackBatches: 1 }) });
  const events: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  const failed = events.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  const round = events.find((e) => e.round)!.round!;
  assert.equal(round.estimator, 'tracked in trainer');
  assert.ok(round.prunedFraction > 0.3, `pruned ${round.prunedFraction}`);
  const rec = (await new FileRunStore({ root: runsDir }).getRun(runId))!;
  // biased_loss_tracked implies use_l2, preserve_moment and tracking (docs/pruning-semantics.md §1).
  assert.equal(rec.spec.trackImportance, true);
  assert.equal(rec.spec.useL2, true);
  assert.equal(rec.spec.preserveMomentum, true);
});

test('invalid specs are rejected naming the field', async () => {
  const bad: [Partial<RunSpec>, RegExp][] = [
    [{ arch: 'alexnet' }, /spec\.arch: unknown architecture "alexnet"/],
    [{ prunePercent: 99 }, /spec\.prune_percent/],
    [{ nRounds: 0 }, /spec\.n_rounds/],
    [{ numClasses: 100 }, /spec\.num_classes: is 100 but dataset syn has 10/],
    [{ measure: 'nonexistent' }, /measure "nonexistent" is offered by no configured estimator/],
    [{ batchSize: 100000 }, /spec\.batch_size/],
    [{ dataset: { name: '' } }, /spec\.dataset\.name/],
    [{ measure: 'grasp', trackImportance: true }, /spec\.track_importance: cannot be used with grasp/],
    [{ alpha: 2 }, /spec\.alpha/],
  ];
  for (const [over, re] of bad) {
    await assert.rejects(call(client, client.startRun, { spec: spec(over) }), (e: ServiceError) => {
      assert.ok(e.code === status.INVALID_ARGUMENT || e.code === status.NOT_FOUND, `${JSON.stringify(over)} → ${e.code} ${e.details}`);
      assert.match(e.details, re);
      return true;
    });
  }
  await assert.rejects(call(client, client.cancelRun, { runId: 'nope' }), (e: ServiceError) => e.code === status.NOT_FOUND);
});

test('an imported model that does not fit is refused at StartRun, naming the model and the dataset', async () => {
  const model = (name: string) => ({ safetensors: Buffer.from(importedCheckpoint(onnxToGraph(readFileSync(join(TORCHVISION, `${name}.onnx`)), name), name)) });
  const bad: [Partial<RunSpec>, RegExp][] = [
    // torchvision ResNet-18 exported for 1×28×28 images; syn serves 3×32×32.
    [{ arch: '', pretrained: model('resnet18') }, /spec\.dataset: model spec\.pretrained \(imported\) takes 1×28×28 images and predicts 10 classes, but dataset syn has 3×32×32 images and 10 classes/],
    [{ arch: 'resnet56', pretrained: model('densenet121') }, /spec\.arch: is resnet56 but spec\.pretrained is an imported model/],
    [{ arch: '', numClasses: 5, pretrained: model('densenet121') }, /spec\.num_classes: is 5 but the imported model predicts 10 classes/],
  ];
  for (const [over, re] of bad)
    await assert.rejects(call(client, client.startRun, { spec: spec(over) }), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT, `${e.code} ${e.details}`);
      assert.match(e.details, re);
      return true;
    });
});
