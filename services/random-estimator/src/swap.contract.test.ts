// Swapping estimators: a pruning run picks the measure `random` by name. The trainer is given the
// built-in estimator and this one as separate processes, resolves `random` through ListMeasures,
// and prunes by its scores: the round's remaining channels are exactly the selection libs/pruning
// makes from randomScores(seed). The random-estimator is given a second file store, not the run's
// (standing in for a MongoDB run store it cannot open): the model travels in the request.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model } from '@flowprune/models';
import { TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';
import { defaultRatios, nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { FileRunStore } from '@flowprune/store';
import { initBackend } from '@flowprune/tensor';
import { randomScores } from './random-scores.js';

const entry = (service: string) => join(import.meta.dirname, '../..', service, 'src/main.ts');
const procs: LaunchedService[] = [];
let trainer: TrainerServiceClient;
let randomAddress: string;
let otherStore: string;

before(async () => {
  const dir = tempDir('swap');
  const runs = join(dir, 'runs');
  otherStore = join(dir, 'another-store');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 5 });
  const loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const [builtin, random, evaluator] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: entry('importance-estimator'), args: ['--store', runs, '--data-loader', loader.address] }),
    launchService({ name: 'random-estimator', entry: entry('random-estimator'), args: ['--store', otherStore] }),
    launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runs, '--data-loader', loader.address] }),
  ]);
  procs.push(builtin, random, evaluator);
  randomAddress = random.address;
  // The built-in estimator first: `random` is found only by asking the second one.
  const t = await launchService({
    name: 'trainer',
    entry: entry('trainer'),
    args: ['--store', runs, '--data-loader', loader.address, '--evaluator', evaluator.address, '--estimator', builtin.address, random.address],
  });
  procs.push(t);
  trainer = makeClient(TrainerServiceClient, t.address);
});

after(async () => {
  trainer?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.deepEqual(codes, [0, 0, 0, 0, 0], 'all five services exit cleanly');
});

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

test('a run with measure "random" is estimated by the random-estimator process and pruned by its scores', async () => {
  await initBackend({ log: () => undefined });
  const seed = 7;
  const spec = runSpec({
    name: 'swap',
    arch: 'resnet56',
    dataset: { name: 'syn' },
    seed: 1,
    measure: 'random',
    measureParams: { seed },
    prunePercent: 50,
    nRounds: 1,
    lrPrune: 0.05,
    schedule: [{ lr: 0.05, epochs: 1 }],
    batchSize: 20,
    evalBatchSize: 20,
    augment: true,
  });
  const { runId } = await call(trainer, trainer.startRun, { spec });
  const events: RunEvent[] = [];
  for await (const m of trainer.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  const failed = events.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  const round = events.find((e) => e.round)?.round;
  assert.ok(round, 'a pruning round happened');
  assert.equal(round.measure, 'random');
  assert.equal(round.estimator, `flowprune-random@${randomAddress}`, 'estimated by the second estimator process');

  const widths = buildNetwork('resnet56', 10).filterLayers.map((l) => l.outChannels);
  const expected = expectedChannels(randomScores(widths, seed));
  assert.deepEqual(round.channels, expected, "the remaining channels follow the random estimator's scores");
  // The check discriminates: another seed's scores select differently.
  assert.notDeepEqual(expectedChannels(randomScores(widths, seed + 1)), expected);
  // Its own store knows nothing of the run: the estimate needed no store.
  const own = new FileRunStore({ root: otherStore });
  assert.equal(await own.getRun(runId), null);
});
