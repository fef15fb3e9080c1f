// Trainers sharing the work through one run store, as real processes: a sweep queued on one
// replica is spread over three; `kill -9` of one while it holds a run → another takes it over after
// the lease and resumes it from its snapshot; a trainer paused (SIGSTOP) past its lease is fenced
// off after SIGCONT; WatchRun and CancelRun work through replicas that do not hold the run.
// Every run has the same spec and seed, so every completed run's final weights must be the same
// bits, whether or not it was taken over (wasm pinned, as in resume.test.ts).
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';
import { FileRunStore, type RunRecord } from '@flowprune/store';

const entry = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
const env = { FLOWPRUNE_BACKEND: 'wasm' };
// Short leases so takeovers happen within the test, yet longer than one training step (a step holds
// the event loop, and so the renewal, for seconds on a loaded machine).
const LEASE_S = 8;
const QUEUE_ARGS = ['--lease', String(LEASE_S), '--renew', '1', '--poll', '0.2'];

let runsDir = '';
let store: FileRunStore;
let depArgs: string[] = [];
const services: LaunchedService[] = [];
const output = new Map<string, string[]>();
const trainers = new Map<string, { proc: LaunchedService; client: TrainerServiceClient }>();

// Two epochs (one pruning round, one final epoch) of 20 images: a kill after the first commit
// lands mid-run. MobileNet is the cheapest architecture per step on wasm.
const spec = runSpec({
  name: 'queue',
  arch: 'mobilenet_v1',
  dataset: { name: 'syn' },
  seed: 5,
  measure: 'mag_based',
  prunePercent: 50,
  nRounds: 1,
  warmupEpochs: 1,
  lrPrune: 0.05,
  schedule: [{ lr: 0.05, epochs: 3 }],
  batchSize: 10,
  evalBatchSize: 20,
  augment: true,
  preserveMomentum: true,
});

async function startTrainer(id: string): Promise<void> {
  const lines: string[] = [];
  output.set(id, lines);
  const proc = await launchService({ name: 'trainer', entry: entry('trainer'), args: [...depArgs, ...QUEUE_ARGS, '--trainer-id', id], env, onOutput: (l) => lines.push(l) });
  trainers.set(id, { proc, client: makeClient(TrainerServiceClient, proc.address) });
}

before(async () => {
  const dir = tempDir('queue');
  runsDir = join(dir, 'runs');
  store = new FileRunStore({ root: runsDir });
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 2, testPerClass: 1, seed: 9 });
  const loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`], env });
  const [est, ev] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: entry('importance-estimator'), args: ['--store', runsDir, '--data-loader', loader.address], env }),
    launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address], env }),
  ]);
  services.push(loader, est, ev);
  depArgs = ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address];
  await Promise.all(['t0', 't1', 't2'].map(startTrainer));
});

after(async () => {
  for (const t of trainers.values()) {
    t.client.close();
    if (t.proc.child.signalCode === 'SIGSTOP') t.proc.child.kill('SIGCONT');
  }
  await Promise.all([...trainers.values()].filter((t) => t.proc.child.exitCode === null && t.proc.child.signalCode === null).map((t) => t.proc.stop()));
  await Promise.all(services.reverse().map((p) => p.stop()));
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) {
      const runs = (await store.listRuns()).map((r) => `${r.id} ${r.status} ${r.lease?.holder ?? ''} fence ${r.fence} stats ${r.stats.length}`);
      const logs = [...output].map(([id, lines]) => `${id}:\n  ${lines.slice(-8).join('\n  ')}`);
      assert.fail(`timed out waiting for ${what}\n${runs.join('\n')}\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const committedEpochs = (r: RunRecord) => Number((r.resume?.progress as { nextEpoch?: number } | undefined)?.nextEpoch ?? 0);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const finalSha = async (id: string) => sha((await store.getCheckpoint(id, 'final'))!.bytes);

async function watch(client: TrainerServiceClient, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const m of client.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  return events;
}

/** Every planned epoch's stat exactly once, in order. */
function assertStatsOnce(rec: RunRecord, totalEpochs: number): void {
  assert.deepEqual(
    rec.stats.map((s) => s.epoch),
    [...Array(totalEpochs).keys()],
    `run ${rec.id}: one stat per epoch, none lost or duplicated`,
  );
}

let referenceFinal = '';
let totalEpochs = 0;

test('six runs queued on one replica, three trainers, one kill -9ed while it holds a run: all complete, taken over bit-identically', { timeout: 600_000 }, async () => {
  const t0 = trainers.get('t0')!.client;
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await call(t0, t0.startRun, { spec })).runId);
  // StartRun only queues: at most one run per trainer (--max-runs 1) is running at a time.
  const victim = await until('a trainer holding a run with a committed snapshot', async () => {
    const runs = await store.listRuns({ status: 'running' });
    assert.ok(runs.length <= 3, `${runs.length} runs running on 3 trainers with --max-runs 1`);
    return runs.find((r) => committedEpochs(r) >= 1 && r.lease);
  });
  const holder = victim.lease!.holder;
  const killed = trainers.get(holder)!;
  killed.proc.child.kill('SIGKILL');
  await new Promise((r) => killed.proc.child.once('exit', r));
  killed.client.close();
  trainers.delete(holder);
  // Follow the taken-over run through a replica that did not hold it.
  const [watcherId, watcher] = [...trainers.entries()][0];
  const watched = watch(watcher.client, victim.id);

  const done = await until('all six runs to end', async () => {
    const runs = await Promise.all(ids.map((id) => store.getRun(id)));
    return runs.every((r) => r && ['completed', 'failed', 'cancelled', 'interrupted'].includes(r.status)) ? (runs as RunRecord[]) : undefined;
  });
  for (const r of done) assert.equal(r.status, 'completed', `run ${r.id}: ${r.error?.message}`);
  totalEpochs = (await watch(watcher.client, ids[0])).find((e) => e.started)!.started!.totalEpochs;
  for (const r of done) assertStatsOnce(r, totalEpochs);

  const takenOver = done.find((r) => r.id === victim.id)!;
  assert.ok(takenOver.fence! >= 2, `run ${victim.id} was claimed again after ${holder} died (fence ${takenOver.fence})`);
  const events = await store.readEvents(victim.id);
  assert.ok(
    events.some((e) => e.type === 'stage' && String(e.data?.detail).startsWith('resumed before epoch')),
    'the taken-over run resumed from its snapshot',
  );
  const sums = await Promise.all(ids.map(finalSha));
  const undisturbed = done.filter((r) => r.fence === 1);
  assert.ok(undisturbed.length >= 1, 'some runs ran undisturbed');
  referenceFinal = await finalSha(undisturbed[0].id);
  for (const [i, s] of sums.entries()) assert.equal(s, referenceFinal, `final weights of run ${ids[i]} (fence ${done[i].fence}) equal the undisturbed run's`);

  const seen = await watched;
  assert.ok(seen.at(-1)?.finished, `WatchRun through ${watcherId} follows the taken-over run to its end: ${JSON.stringify(seen.at(-1))}`);
  assert.ok(seen.some((e) => e.stage?.stage === 'resume'), 'and shows the resume');
});

test('a trainer paused (SIGSTOP) past its lease is fenced off after SIGCONT; the run completes unchanged', { timeout: 300_000 }, async () => {
  assert.ok(referenceFinal, 'needs the first test');
  const [a, b] = [...trainers.values()];
  const { runId } = await call(a.client, a.client.startRun, { spec });
  const held = await until('the run to commit a snapshot', async () => {
    const r = await store.getRun(runId);
    return r?.status === 'running' && committedEpochs(r) >= 1 ? r : undefined;
  });
  const holderId = held.lease!.holder;
  const paused = trainers.get(holderId)!;
  const other = paused === a ? b : a;
  // Watch through the other replica, which holds nothing yet.
  const watched = watch(other.client, runId);
  paused.proc.child.kill('SIGSTOP');
  const takeover = await until('another trainer to take the run over', async () => {
    const r = await store.getRun(runId);
    return r?.lease && r.lease.token > held.lease!.token ? r : undefined;
  });
  assert.notEqual(takeover.lease!.holder, holderId);
  paused.proc.child.kill('SIGCONT');
  const lost = await until('the paused trainer to notice', async () =>
    output.get(holderId)!.find((l) => l.includes(`lost the lease of run ${runId} (token ${held.lease!.token})`)),
  );
  assert.match(lost, /stopping work on it/);
  const events = await watched;
  assert.ok(events.at(-1)?.finished, `the run finishes: ${JSON.stringify(events.at(-1))}`);
  const rec = (await store.getRun(runId))!;
  assert.equal(rec.status, 'completed');
  assert.equal(rec.lease, undefined);
  assertStatsOnce(rec, totalEpochs);
  // The paused trainer wrote nothing after the takeover: no event carries its token after that claim.
  const stale = (await store.readEvents(runId)).filter((e) => e.fence === held.lease!.token && e.at > takeover.lease!.claimedAt);
  assert.deepEqual(stale, [], 'no write of the fenced trainer landed after the takeover');
  assert.equal(await finalSha(runId), referenceFinal, 'final weights equal the undisturbed run');
  // The paused trainer is still serving and takes new work.
  assert.equal(paused.proc.child.exitCode, null);
});

test('CancelRun through a replica that does not hold the run: running ones stop, queued ones are cancelled at once', { timeout: 300_000 }, async () => {
  const [a, b] = [...trainers.values()];
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await call(a.client, a.client.startRun, { spec })).runId);
  const running = await until('a run to be running', async () => {
    const r = await store.getRun(ids[0]);
    return r?.status === 'running' ? r : undefined;
  });
  // Of three runs on two trainers, the third waits in the queue.
  const queued = (await store.getRun(ids[2]))!;
  assert.equal(queued.status, 'queued');
  const holder = trainers.get(running.lease!.holder)!;
  const other = holder === a ? b : a;
  assert.equal((await call(other.client, other.client.cancelRun, { runId: ids[2] })).status, 'cancelled');
  assert.equal((await store.getRun(ids[2]))!.status, 'cancelled');
  const q = await watch(other.client, ids[2]);
  assert.equal(q.at(-1)?.failed?.message, 'cancelled');

  const watched = watch(other.client, ids[0]);
  assert.equal((await call(other.client, other.client.cancelRun, { runId: ids[0] })).status, 'cancelling');
  const events = await watched;
  assert.equal(events.at(-1)?.failed?.message, 'cancelled', JSON.stringify(events.at(-1)));
  assert.equal((await store.getRun(ids[0]))!.status, 'cancelled');
  await assert.rejects(call(b.client, b.client.cancelRun, { runId: ids[0] }), /already ended/);
  await call(a.client, a.client.cancelRun, { runId: ids[1] }).catch(() => undefined);
});
