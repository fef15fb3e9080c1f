// Fault injection through the real service processes: kill -9 the importance-estimator or the
// data-loader mid-run and restart it on its port (the run waits and completes), or keep one down
// (the run fails naming it, then ResumeRun completes it). Every run must end with the same weights,
// stats and checkpoints as an undisturbed run of the same seed, and a whole run store.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { parseSafeTensors } from '@flowprune/models';
import { TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';
import { FileRunStore, type EpochStat, type RunRecord } from '@flowprune/store';

const entry = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
// Results are compared bit for bit across processes: pin the deterministic wasm backend.
const env = { FLOWPRUNE_BACKEND: 'wasm' };
const SHORT_TIMEOUT_S = 4;

let runsDir = '';
let dataDir = '';
const output: string[] = [];
const svc: Record<'loader' | 'estimator' | 'evaluator' | 'trainer' | 'shortTrainer', LaunchedService | undefined> = {
  loader: undefined,
  estimator: undefined,
  evaluator: undefined,
  trainer: undefined,
  shortTrainer: undefined,
};
const clients: TrainerServiceClient[] = [];
let reference: { id: string; record: RunRecord } | undefined;
let trainerDeps: string[] = [];

const spec = runSpec({
  name: 'faults',
  arch: 'resnet56',
  dataset: { name: 'syn' },
  seed: 11,
  measure: 'mag_based',
  prunePercent: 50,
  nRounds: 2,
  warmupEpochs: 1,
  lrPrune: 0.05,
  schedule: [
    { lr: 0.05, epochs: 4 },
    { lr: 0.005, epochs: 1 },
  ],
  batchSize: 20,
  evalBatchSize: 20,
  preserveMomentum: true,
  augment: true,
});

const launch = (name: string, args: string[], address?: string) =>
  launchService({ name, entry: entry(name), args, env, address, onOutput: (line) => output.push(line) });
const startLoader = (address?: string) => launch('data-loader', ['--dataset', `syn=${dataDir}`], address);
const startEstimator = (address?: string) => launch('importance-estimator', ['--store', runsDir, '--data-loader', svc.loader!.address], address);

async function kill9(p: LaunchedService): Promise<void> {
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGKILL');
  await exited;
}

/** Resolves once a service's output shows a retry of calls to `dependency` at `address`. */
async function retriedAgainst(dependency: string, address: string, timeoutMs = 60_000): Promise<void> {
  const needle = `${dependency} at ${address}: UNAVAILABLE`;
  const t0 = Date.now();
  while (!output.some((l) => l.includes(needle))) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`no service retried ${dependency} at ${address} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Follows a run to its end; `onEvent` may inject a fault (the stream buffers meanwhile). */
async function watch(client: TrainerServiceClient, runId: string, onEvent?: (e: RunEvent) => Promise<void>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) {
    const e = (m as WatchRunResponse).event!;
    events.push(e);
    await onEvent?.(e);
  }
  return events;
}

const statKey = (s: EpochStat) => ({ phase: s.phase, epoch: s.epoch, lr: s.lr, trainLoss: s.trainLoss, trainAcc: s.trainAcc, testLoss: s.testLoss, testAcc: s.testAcc });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The run store after a fault: stats are the reference's (or, for a stopped run, its prefix up to
 * the committed snapshot) with no duplicate or gap, rounds likewise, every checkpoint whole (size,
 * checksum, safetensors that parse), the committed snapshot slot whole; a completed run's
 * checkpoints equal the undisturbed run's, byte for byte.
 */
async function checkStore(id: string, complete: boolean): Promise<RunRecord> {
  const store = new FileRunStore({ root: runsDir });
  const rec = (await store.getRun(id))!;
  const ref = reference!.record;
  const committed = Number((rec.resume?.progress as { nextEpoch?: number } | undefined)?.nextEpoch ?? 0);
  const n = complete ? ref.stats.length : committed;
  assert.deepEqual(rec.stats.map(statKey), ref.stats.slice(0, n).map(statKey), `run ${id}: per-epoch stats are the undisturbed run's, without duplicates or gaps`);
  const roundsDone = ref.stats.slice(0, n).filter((s) => s.phase === 'pruning_and_training').length;
  const roundKey = (r: RunRecord['rounds'][number]) => ({ round: r.round, prunedFraction: r.prunedFraction, remaining: r.remainingChannels, acc: r.accuracyBeforeFineTune });
  assert.deepEqual(rec.rounds.map(roundKey), ref.rounds.slice(0, roundsDone).map(roundKey), `run ${id}: rounds recorded once each`);

  const infos = await store.listCheckpoints(id);
  const bytes = new Map<string, Uint8Array>();
  for (const info of infos) {
    const cp = (await store.getCheckpoint(id, info.name))!;
    assert.equal(cp.bytes.byteLength, info.size, `${info.name}: size`);
    assert.equal(sha(cp.bytes), info.sha256, `${info.name}: checksum`);
    parseSafeTensors(cp.bytes, `run ${id} checkpoint ${info.name}`); // throws on a torn or truncated file
    bytes.set(info.name, cp.bytes);
  }
  const slot = String(rec.resume?.slot ?? '');
  if (complete || committed > 0)
    assert.ok(bytes.has(`resume-${slot}-model`) && bytes.has(`resume-${slot}-optimizer`), `run ${id}: committed snapshot slot "${slot}" is whole`);
  if (complete) {
    assert.equal(rec.status, 'completed');
    assert.equal(committed, ref.stats.length, 'the last snapshot is after the last epoch');
    const refStore = new FileRunStore({ root: runsDir });
    const refInfos = await refStore.listCheckpoints(reference!.id);
    assert.deepEqual(infos.map((i) => i.name), refInfos.map((i) => i.name), 'the same checkpoints as the undisturbed run');
    for (const i of refInfos) assert.equal(sha(bytes.get(i.name)!), i.sha256, `checkpoint ${i.name} equals the undisturbed run's`);
    assert.equal(sha(bytes.get(`resume-${slot}-model`)!), sha(bytes.get('final')!), 'the committed snapshot holds the final weights');
  }
  return rec;
}

before(async () => {
  const dir = tempDir('faults');
  runsDir = join(dir, 'runs');
  dataDir = join(dir, 'syn');
  generateSyntheticCifar10({ dir: dataDir, trainPerClass: 6, testPerClass: 2, seed: 5 });
  svc.loader = await startLoader();
  [svc.estimator, svc.evaluator] = await Promise.all([
    startEstimator(),
    launch('evaluator', ['--store', runsDir, '--data-loader', svc.loader.address]),
  ]);
  trainerDeps = ['--store', runsDir, '--data-loader', svc.loader.address, '--evaluator', svc.evaluator.address, '--estimator', svc.estimator.address];
  svc.trainer = await launch('trainer', [...trainerDeps, '--dependency-timeout', '120']);
});

after(async () => {
  for (const c of clients) c.close();
  // (A service a failed test left killed has nothing to drain.)
  const running = Object.values(svc).filter((p): p is LaunchedService => p !== undefined && p.child.exitCode === null && p.child.signalCode === null);
  const codes = await Promise.all(running.map((p) => p.stop()));
  assert.ok(codes.every((c) => c === 0), `services exit 0 on SIGTERM: ${codes.join(', ')}`);
});

function trainerClient(which: 'trainer' | 'shortTrainer'): TrainerServiceClient {
  const c = makeClient(TrainerServiceClient, svc[which]!.address);
  clients.push(c);
  return c;
}

async function referenceRun(): Promise<void> {
  if (reference) return;
  const client = trainerClient('trainer');
  const { runId } = await call(client, client.startRun, { spec });
  const events = await watch(client, runId);
  assert.ok(events.at(-1)?.finished, events.at(-1)?.failed?.message ?? 'the reference run finishes');
  const record = (await new FileRunStore({ root: runsDir }).getRun(runId))!;
  assert.deepEqual(
    record.stats.map((s) => s.epoch),
    [...Array(events.find((e) => e.started)!.started!.totalEpochs).keys()],
  );
  reference = { id: runId, record };
}

test('kill -9 of the importance-estimator mid-run, restarted on its port: the run waits and completes unchanged', { timeout: 300_000 }, async () => {
  await referenceRun();
  const client = trainerClient('trainer');
  const { runId } = await call(client, client.startRun, { spec });
  const address = svc.estimator!.address;
  let killed = false;
  const events = await watch(client, runId, async (e) => {
    if (e.epoch && !killed) {
      killed = true;
      await kill9(svc.estimator!);
    }
    // Round 1's estimate is now in flight against a dead estimator: bring it back once it retried.
    if (e.stage?.detail === 'round 1 trained') {
      await retriedAgainst('importance-estimator', address);
      svc.estimator = await startEstimator(address);
    }
  });
  assert.ok(killed);
  assert.ok(events.at(-1)?.finished, events.at(-1)?.failed?.message ?? 'the run finishes');
  await checkStore(runId, true);
});

test('kill -9 of the data-loader mid-epoch, restarted on its port: the run waits and completes unchanged', { timeout: 300_000 }, async () => {
  await referenceRun();
  const client = trainerClient('trainer');
  const { runId } = await call(client, client.startRun, { spec });
  const address = svc.loader!.address;
  let killed = false;
  const events = await watch(client, runId, async (e) => {
    if (!killed && e.progress?.epoch === 1 && e.progress.batch === 1) {
      killed = true;
      await kill9(svc.loader!);
      await retriedAgainst('data-loader', address);
      svc.loader = await startLoader(address);
    }
  });
  assert.ok(killed, 'the data-loader was killed mid-epoch');
  assert.ok(events.at(-1)?.finished, events.at(-1)?.failed?.message ?? 'the run finishes');
  await checkStore(runId, true);
});

test('a dependency that stays down fails the run clearly; once it is back, ResumeRun completes it unchanged', { timeout: 300_000 }, async () => {
  await referenceRun();
  // Trainers on one store share its queue: the short-timeout trainer replaces the other, so that it
  // is the one that claims this run.
  await svc.trainer!.stop();
  svc.trainer = undefined;
  svc.shortTrainer = await launch('trainer', [...trainerDeps, '--dependency-timeout', String(SHORT_TIMEOUT_S)]);
  const client = trainerClient('shortTrainer');
  const { runId } = await call(client, client.startRun, { spec });
  const address = svc.estimator!.address;
  let killed = false;
  // Round 1 is in epoch 0; with the estimator gone after it, round 2 (epoch 1) cannot be estimated.
  const events = await watch(client, runId, async (e) => {
    if (e.round?.round === 1 && !killed) {
      killed = true;
      await kill9(svc.estimator!);
    }
  });
  const failure = events.at(-1)?.failed?.message ?? assert.fail('the run fails while the estimator is down');
  const expected = new RegExp(`^importance-estimator at ${address.replace(/\./g, '\\.')} unreachable for (\\d+) s .*\`flowprune resume ${runId}\``);
  assert.match(failure, expected);
  assert.ok(Number(expected.exec(failure)![1]) >= SHORT_TIMEOUT_S, `gave up only after --dependency-timeout: ${failure}`);
  const stopped = await checkStore(runId, false);
  assert.equal(stopped.status, 'failed');
  assert.match(stopped.error?.message ?? '', expected);

  svc.estimator = await startEstimator(address);
  const resumed = await call(client, client.resumeRun, { runId });
  assert.equal(resumed.nextEpoch, Number((stopped.resume?.progress as { nextEpoch: number }).nextEpoch), 'resumes after the committed epochs');
  assert.ok(resumed.nextEpoch >= 1, 'epoch 0 was committed before the failure');
  const rest = await watch(client, runId);
  assert.ok(rest.at(-1)?.finished, rest.at(-1)?.failed?.message ?? 'the resumed run finishes');
  await checkStore(runId, true);
});
