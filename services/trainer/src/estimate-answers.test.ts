// The trainer reads an estimator's answer by conv name, never by position, and checks it: an
// estimator (here a small gRPC server in this process, standing in for another team's service)
// that answers its layers in another order prunes exactly as the scores say; one that leaves out
// a layer, repeats one or sends NaN fails the run with an error naming the estimator, its address
// and the layer, and nothing is pruned.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, startServer, unary, type LaunchedService, type StartedServer } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, networkOf, prunableLayers } from '@flowprune/models';
import {
  ImportanceEstimatorServiceService,
  TrainerServiceClient,
  type EstimateRequest,
  type EstimateResponse,
  type LayerScores,
  type ListMeasuresResponse,
  type RunEvent,
  type WatchRunResponse,
} from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';
import { defaultRatios, nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { initBackend } from '@flowprune/tensor';

const entry = (service: string) => join(import.meta.dirname, '../..', service, 'src/main.ts');
const procs: LaunchedService[] = [];
let fake: StartedServer;
let trainer: TrainerServiceClient;
let runsDir: string;
const requests: EstimateRequest[] = [];

/** Scores a function of (manifest position, channel) only: the answer's order cannot change them. */
const scoresFor = (req: EstimateRequest): number[][] => req.layers.map((l, i) => Array.from({ length: l.outChannels }, (_, c) => ((c * 7919 + i * 104729) % 997) / 997));

/** How each measure of the fake estimator answers (the measure name selects the misbehaviour). */
const ANSWERS: Record<string, (layers: LayerScores[]) => LayerScores[]> = {
  shuffled: (layers) => [...layers].reverse(),
  drops_layer: (layers) => layers.filter((_, i) => i !== 5),
  repeats_layer: (layers) => [...layers, layers[3]],
  sends_nan: (layers) => layers.map((l, i) => (i === 7 ? { ...l, values: l.values.map((v, c) => (c === 2 ? NaN : v)) } : l)),
};

before(async () => {
  const dir = tempDir('answers');
  runsDir = join(dir, 'runs');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 3 });
  fake = await startServer({
    address: '127.0.0.1:0',
    services: [
      {
        name: 'flowprune.v1.ImportanceEstimatorService',
        definition: ImportanceEstimatorServiceService,
        implementation: {
          listMeasures: unary<unknown, ListMeasuresResponse>(async () => ({
            estimator: 'fake',
            measures: Object.keys(ANSWERS).map((name) => ({ name, description: name, needsData: false, needsInitWeights: false, parameters: [] })),
          })),
          estimate: unary<EstimateRequest, EstimateResponse>(async (req) => {
            requests.push(req);
            const layers = scoresFor(req).map((values, layer) => ({ layer, conv: req.layers[layer].conv, values }));
            return { measure: req.measure, layers: ANSWERS[req.measure](layers), samplesUsed: 0, seconds: 0, backend: 'host' };
          }),
        },
      },
    ],
  });
  const loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const evaluator = await launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address] });
  procs.push(evaluator);
  const t = await launchService({
    name: 'trainer',
    entry: entry('trainer'),
    args: ['--store', runsDir, '--data-loader', loader.address, '--evaluator', evaluator.address, '--estimator', fake.address],
  });
  procs.push(t);
  trainer = makeClient(TrainerServiceClient, t.address);
  await initBackend({ log: () => undefined });
});

after(async () => {
  trainer?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  await fake?.shutdown(1000);
  assert.deepEqual(codes, [0, 0, 0]);
});

async function run(measure: string): Promise<{ runId: string; events: RunEvent[] }> {
  const spec = runSpec({
    name: measure,
    arch: 'resnet56',
    dataset: { name: 'syn' },
    seed: 1,
    measure,
    prunePercent: 50,
    nRounds: 1,
    lrPrune: 0.05,
    schedule: [{ lr: 0.05, epochs: 1 }],
    batchSize: 20,
    evalBatchSize: 20,
  });
  const { runId } = await call(trainer, trainer.startRun, { spec });
  const events: RunEvent[] = [];
  for await (const m of trainer.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  return { runId, events };
}

/** Remaining channels per filter layer after round 1 of a 1-round, 50 % schedule pruned by `scores`. */
function expectedChannels(scores: number[][]): number[] {
  const model = Model.init(buildNetwork('resnet56', 10), 0); // the selection reads only the scores and widths
  const ratio = defaultRatios(0.5, 1)[0];
  const res = pruneStep(model, scores, { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(model.net) });
  const kept = res.plan.kept.map((c) => c.length);
  res.model.dispose();
  model.dispose();
  return kept;
}

/** One run answered in reverse manifest order, shared by the two tests that read it. */
let shuffledRun: Promise<{ runId: string; events: RunEvent[] }> | undefined;
const runShuffled = () => (shuffledRun ??= run('shuffled'));

test('the request carries the model bytes and a manifest of its filter layers', async () => {
  const { events } = await runShuffled();
  assert.equal(events.find((e) => e.failed)?.failed?.message, undefined);
  const req = requests[0];
  assert.ok(req.model?.safetensors?.length, 'the model travels as safetensors bytes');
  assert.equal(req.model.checkpoint, undefined);
  const net = networkOf(req.model.safetensors);
  assert.deepEqual(req.layers, prunableLayers(net.filterLayers));
  assert.deepEqual(req.layers[0], { conv: 'conv1.weight', batchNorm: 'bn1', outChannels: 16, depthwise: false });
});

test('an answer in another order than the manifest prunes exactly as the scores say', async () => {
  const { events } = await runShuffled();
  const failed = events.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  const round = events.find((e) => e.round)!.round!;
  assert.equal(round.estimator, `fake@${fake.address}`);
  const expected = expectedChannels(scoresFor(requests[0]));
  assert.deepEqual(round.channels, expected);
  // Read by position, the reversed answer would not even fit the layers' widths.
  assert.throws(() => expectedChannels(scoresFor(requests[0]).reverse()), /conv1\.weight\) must have 16 values/);
});

for (const [measure, layer, what] of [
  ['drops_layer', 'layer1.2.conv1.weight', /missing from the answer/],
  ['repeats_layer', 'layer1.1.conv1.weight', /answered more than once/],
  ['sends_nan', 'layer1.3.conv1.weight', /channel 2 is NaN/],
] as const)
  test(`an answer that ${measure.replace('_', ' ')} fails the run naming the estimator, its address and the layer; nothing is pruned`, async () => {
    const { runId, events } = await run(measure);
    const failed = events.find((e) => e.failed)?.failed;
    assert.ok(failed, 'the run fails');
    assert.ok(failed.message.startsWith(`estimator fake@${fake.address} answered badly for layer "${layer}": `), failed.message);
    assert.match(failed.message, what);
    assert.equal(events.find((e) => e.round), undefined, 'no pruning round');
    const store = new FileRunStore({ root: runsDir });
    const rec = (await store.getRun(runId))!;
    assert.equal(rec.status, 'failed');
    assert.deepEqual(rec.rounds, []);
    const checkpoints = (await store.listCheckpoints(runId)).map((c) => c.name);
    assert.ok(!checkpoints.some((n) => n.includes('pruned')), `no pruned checkpoint: ${checkpoints.join(', ')}`);
  });
