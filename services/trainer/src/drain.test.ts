// Graceful drain on SIGTERM, through real service processes: an in-flight data stream and an
// in-flight Evaluate complete and the process exits 0; a trainer stopped mid-run marks the run
// `interrupted` at its last epoch snapshot, and a new trainer resumes it to the end.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, testSplitRequest, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, EvaluatorServiceClient, Split, TrainerServiceClient, type RunEvent, type StreamBatchesResponse, type WatchRunResponse } from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';

const entry = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
const env = { FLOWPRUNE_BACKEND: 'wasm' };
let runsDir = '';
let dataDir = '';
const procs: LaunchedService[] = [];

const output: string[] = [];
const launch = async (name: string, args: string[]) => {
  const p = await launchService({ name, entry: entry(name), args, env, onOutput: (line) => output.push(line) });
  procs.push(p);
  return p;
};
const sigterm = (p: LaunchedService) => p.child.kill('SIGTERM');
const exitCode = (p: LaunchedService) => new Promise<number | null>((resolve) => (p.child.exitCode !== null ? resolve(p.child.exitCode) : p.child.once('exit', resolve)));

before(() => {
  const dir = tempDir('drain');
  runsDir = join(dir, 'runs');
  dataDir = join(dir, 'syn');
  generateSyntheticCifar10({ dir: dataDir, trainPerClass: 20, testPerClass: 20, seed: 4 });
});

after(async () => {
  await Promise.all(procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.stop()));
});

test('data-loader: a stream in flight at SIGTERM is served to its end, then the process exits 0', async () => {
  const loader = await launch('data-loader', ['--dataset', `syn=${dataDir}`]);
  // grpc-js' default 64 KiB receive window (not makeClient's 8 MiB): the server cannot send the
  // whole epoch ahead, so the call is still open on the server when the signal arrives.
  const client = new DataLoaderServiceClient(loader.address, credentials.createInsecure());
  const stream = client.streamBatches({ ...testSplitRequest('syn', 10), split: Split.SPLIT_TRAIN, seed: 1, shuffle: true });
  const indices: number[] = [];
  for await (const m of stream) {
    indices.push((m as StreamBatchesResponse).batch!.index);
    if (indices.length === 1) {
      sigterm(loader);
      await new Promise((r) => setTimeout(r, 500)); // the server is draining while we hold the stream
    }
  }
  assert.deepEqual(indices, [...Array(20).keys()], 'every batch of the epoch arrives');
  assert.equal(await exitCode(loader), 0);
  client.close();
});

const spec = runSpec({
  name: 'drain',
  arch: 'resnet56',
  dataset: { name: 'syn' },
  seed: 3,
  measure: 'mag_based',
  prunePercent: 50,
  nRounds: 1,
  warmupEpochs: 1,
  // Enough epochs after the first that the run is still going when SIGTERM lands: under load the
  // watch sees "epoch 0 committed" seconds late (with 3 epochs the run sometimes finished first).
  schedule: [{ lr: 0.05, epochs: 8 }],
  batchSize: 25,
  evalBatchSize: 25,
  trainSamples: 50,
  testSamples: 25,
});

async function watch(client: TrainerServiceClient, runId: string, onEvent?: (e: RunEvent) => void): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) {
    events.push((m as WatchRunResponse).event!);
    onEvent?.(events.at(-1)!);
  }
  return events;
}

test('trainer: SIGTERM mid-run marks the run interrupted at its last snapshot; a new trainer resumes it; then Evaluate drains', { timeout: 300_000 }, async () => {
  const loader = await launch('data-loader', ['--dataset', `syn=${dataDir}`]);
  const [est, ev] = await Promise.all([
    launch('importance-estimator', ['--store', runsDir, '--data-loader', loader.address]),
    launch('evaluator', ['--store', runsDir, '--data-loader', loader.address]),
  ]);
  const args = ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address];
  const first = await launch('trainer', args);
  let client = makeClient(TrainerServiceClient, first.address);
  const { runId } = await call(client, client.startRun, { spec });
  // Once epoch 0 is committed: the drain stops epoch 1 at its next batch (bounded by the grace period).
  const events = await watch(client, runId, (e) => {
    if (e.stage?.detail === 'resume state after epoch 0') sigterm(first);
  });
  assert.equal(await exitCode(first), 0, 'the trainer exits 0 after draining');
  client.close();
  const failed = events.at(-1)?.failed?.message ?? assert.fail(`the watch ends with the interruption; it ended with ${JSON.stringify(events.slice(-3))}`);
  assert.match(failed, new RegExp(`trainer shut down .*\`flowprune resume ${runId}\``));
  const store = new FileRunStore({ root: runsDir });
  const stopped = (await store.getRun(runId))!;
  assert.equal(stopped.status, 'interrupted');
  const committed = Number((stopped.resume?.progress as { nextEpoch: number }).nextEpoch);
  assert.ok(committed >= 1, 'epoch 0 is committed');
  assert.deepEqual(stopped.stats.map((s) => s.epoch), [...Array(committed).keys()], 'stats of the committed epochs only');

  const second = await launch('trainer', args);
  client = makeClient(TrainerServiceClient, second.address);
  const resumed = await call(client, client.resumeRun, { runId });
  assert.equal(resumed.nextEpoch, committed);
  const rest = await watch(client, runId);
  assert.ok(rest.at(-1)?.finished, rest.at(-1)?.failed?.message ?? 'the resumed run finishes');
  const done = (await store.getRun(runId))!;
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.stats.map((s) => s.epoch), [...Array(resumed.totalEpochs).keys()], 'every epoch once');
  client.close();
  // Trainers on one store share its queue: this one must not claim the next test's run.
  await second.stop();

  // Evaluate of the whole train split is in flight (seconds on wasm) when the evaluator gets SIGTERM.
  const evc = makeClient(EvaluatorServiceClient, ev.address);
  const pending = call(evc, evc.evaluate, { model: { checkpoint: { runId, name: 'final' } }, dataset: { name: 'syn' }, split: Split.SPLIT_TRAIN, batchSize: 20, temperature: 1, maxSamples: 0 });
  await new Promise((r) => setTimeout(r, 300));
  sigterm(ev);
  const r = await pending;
  assert.equal(r.samples, 200, 'the in-flight Evaluate completes');
  assert.equal(await exitCode(ev), 0);
  evc.close();
});

test('trainer: SIGTERM while a run waits for a dependency that is down stops at once, the run interrupted', { timeout: 120_000 }, async () => {
  const loader = await launch('data-loader', ['--dataset', `syn=${dataDir}`]);
  const [est, ev] = await Promise.all([
    launch('importance-estimator', ['--store', runsDir, '--data-loader', loader.address]),
    launch('evaluator', ['--store', runsDir, '--data-loader', loader.address]),
  ]);
  // The default dependency timeout (minutes): only the drain can end the wait quickly.
  const trainer = await launch('trainer', ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address]);
  const client = makeClient(TrainerServiceClient, trainer.address);
  const { runId } = await call(client, client.startRun, { spec });
  const done = watch(client, runId);
  est.child.kill('SIGKILL');
  const needle = `importance-estimator at ${est.address}: UNAVAILABLE`;
  while (!output.some((l) => l.startsWith('[trainer]') && l.includes(needle))) await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  sigterm(trainer);
  assert.equal(await exitCode(trainer), 0);
  assert.ok(Date.now() - t0 < 15_000, `the trainer stopped waiting for the estimator (${Date.now() - t0} ms)`);
  const events = await done;
  assert.match(events.at(-1)?.failed?.message ?? '', /trainer shut down/);
  assert.equal((await new FileRunStore({ root: runsDir }).getRun(runId))!.status, 'interrupted');
  client.close();
});
