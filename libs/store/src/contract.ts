// The behavioural contract every RunStore must meet, as a reusable node:test suite. The file
// store runs it in file-run-store.test.ts; a MongoDB adapter should call
//   runStoreContract('MongoRunStore', async () => ({ store, childFactory, dispose }))
// with a fresh, empty database per fixture.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { summaryFor, type ChildStoreFactory } from './contract-worker.js';
import { StoreError, type StoreErrorCode } from './errors.js';
import type { RunStore } from './run-store.js';
import { startWorkers } from './spawn-workers.js';
import type { EpochStat, RunRecord, RunRecordInput } from './types.js';

export type { ChildStoreFactory } from './contract-worker.js';

export interface StoreFixture {
  /** A store over empty storage. */
  store: RunStore;
  /** How a separate process opens the same storage; without it the multi-process tests are skipped. */
  childFactory?: ChildStoreFactory;
  dispose?: () => Promise<void>;
}

const input = (over: Partial<RunRecordInput> = {}): RunRecordInput => ({
  spec: { model: over.model ?? 'vgg13-bn', schedule: { warmupEpochs: 2, rounds: [0.2, 0.4] } },
  model: 'vgg13-bn',
  dataset: 'cifar10',
  measure: 'magnitude',
  pruneRatio: 0.5,
  seed: 1,
  backend: 'wasm',
  ...over,
});

const stat = (epoch: number, over: Partial<EpochStat> = {}): EpochStat => ({
  phase: 'warmup',
  epoch,
  lr: 0.1,
  trainLoss: 2 - epoch / 10,
  trainAcc: 0.1 + epoch / 100,
  testAcc: 0.2,
  seconds: 12.5,
  ...over,
});

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected StoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

const BAD_IDS: readonly string[] = ['../escape', 'a/b', 'a\\b', '..', '.', '', '/etc', 'a\u0000b', 'x'.repeat(200), '.hidden'];

export function runStoreContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`RunStore contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: RunStore;
    beforeEach(async () => {
      fx = await makeFixture();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.dispose?.();
    });

    describe('runs', () => {
      it('createRun fills id, timestamps, status and empty lists; getRun returns the same document', async () => {
        const run = await store.createRun(input());
        assert.match(run.id, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
        assert.equal(run.status, 'created');
        assert.deepEqual(run.stats, []);
        assert.deepEqual(run.rounds, []);
        assert.equal(run.createdAt, run.updatedAt);
        assert.ok(!Number.isNaN(Date.parse(run.createdAt)));
        assert.deepEqual(await store.getRun(run.id), run);
        // The document survives JSON unchanged (it is stored as JSON / BSON).
        assert.deepEqual(JSON.parse(JSON.stringify(run)), run);
      });

      it('ids are unique', async () => {
        const ids = await Promise.all(Array.from({ length: 20 }, () => store.createRun(input()).then((r) => r.id)));
        assert.equal(new Set(ids).size, 20);
      });

      it('getRun of an unknown id is null; mutations of it are not_found', async () => {
        assert.equal(await store.getRun('20000101-000000-000000'), null);
        await rejectsWith(store.updateRun('20000101-000000-000000', { status: 'running' }), 'not_found');
        await rejectsWith(store.appendEpochStat('20000101-000000-000000', stat(0)), 'not_found');
      });

      it('updateRun merges top-level fields shallowly and bumps updatedAt', async () => {
        const run = await store.createRun(input({ summary: { a: 1, b: { c: 2 } } }));
        await new Promise((r) => setTimeout(r, 5));
        const updated = await store.updateRun(run.id, { status: 'running', summary: { b: { d: 3 } } });
        assert.equal(updated.status, 'running');
        assert.deepEqual(updated.summary, { b: { d: 3 } }); // replaced, not deep-merged
        assert.equal(updated.model, run.model);
        assert.equal(updated.createdAt, run.createdAt);
        assert.ok(updated.updatedAt > run.updatedAt);
        assert.deepEqual(await store.getRun(run.id), updated);
        const failed = await store.updateRun(run.id, { status: 'failed', error: { message: 'boom' }, summary: undefined });
        assert.equal(failed.summary, undefined);
        assert.deepEqual(failed.error, { message: 'boom' });
      });

      it('rejects invalid input: bad status, fixed fields, non-JSON values', async () => {
        const run = await store.createRun(input());
        await rejectsWith(store.updateRun(run.id, { status: 'exploded' as never }), 'invalid_argument');
        await rejectsWith(store.updateRun(run.id, { id: 'other' } as never), 'invalid_argument');
        await rejectsWith(store.updateRun(run.id, { stats: [] } as never), 'invalid_argument');
        await rejectsWith(store.updateRun(run.id, { summary: { loss: Number.NaN } }), 'invalid_argument');
        await rejectsWith(store.createRun(input({ spec: { when: new Date() } })), 'invalid_argument');
        await rejectsWith(store.createRun({ spec: {}, dataset: 'cifar10' } as never), 'invalid_argument');
      });
    });

    describe('stats, rounds, events', () => {
      it('appendEpochStat keeps stats in order and validates the phase', async () => {
        const run = await store.createRun(input());
        await store.appendEpochStat(run.id, stat(0));
        await store.appendEpochStat(run.id, stat(1, { phase: 'pruning_and_training', round: 1 }));
        const last = await store.appendEpochStat(run.id, stat(2, { phase: 'final_training', testLoss: 0.9 }));
        assert.deepEqual(
          last.stats.map((s) => [s.phase, s.epoch]),
          [
            ['warmup', 0],
            ['pruning_and_training', 1],
            ['final_training', 2],
          ],
        );
        assert.deepEqual((await store.getRun(run.id))?.stats, last.stats);
        await rejectsWith(store.appendEpochStat(run.id, stat(3, { phase: 'cooldown' as never })), 'invalid_argument');
        await rejectsWith(store.appendEpochStat(run.id, stat(3, { trainLoss: Number.NaN })), 'invalid_argument');
      });

      it('concurrent appends from one process are all kept', async () => {
        const run = await store.createRun(input());
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendEpochStat(run.id, stat(i))));
        const epochs = ((await store.getRun(run.id))?.stats ?? []).map((s) => s.epoch).sort((a, b) => a - b);
        assert.deepEqual(epochs, Array.from({ length: 30 }, (_, i) => i));
      });

      it('appendRound records pruning rounds', async () => {
        const run = await store.createRun(input());
        const round = {
          round: 1,
          prunedFraction: 0.2,
          remainingChannels: [
            { layer: 'features.0.conv', remaining: 51, original: 64 },
            { layer: 'features.3.conv', remaining: 100, original: 128 },
          ],
          accuracyBeforeFineTune: 0.61,
        };
        const after = await store.appendRound(run.id, round);
        assert.deepEqual(after.rounds, [round]);
        await rejectsWith(store.appendRound(run.id, { ...round, remainingChannels: [{ layer: '', remaining: 1 }] }), 'invalid_argument');
      });

      it('events are appended and read back in order with timestamps', async () => {
        const run = await store.createRun(input());
        assert.deepEqual(await store.readEvents(run.id), []);
        await store.appendEvent(run.id, { type: 'phase-start', data: { phase: 'warmup' } });
        await store.appendEvent(run.id, { type: 'warning', message: 'slow epoch', at: '2026-01-01T00:00:00.000Z' });
        const events = await store.readEvents(run.id);
        assert.deepEqual(
          events.map((e) => [e.type, e.runId]),
          [
            ['phase-start', run.id],
            ['warning', run.id],
          ],
        );
        assert.ok(!Number.isNaN(Date.parse(events[0].at)));
        assert.equal(events[1].at, '2026-01-01T00:00:00.000Z');
        assert.deepEqual(events[0].data, { phase: 'warmup' });
      });
    });

    describe('listRuns', () => {
      it('filters on model, measure, pruneRatio, seed and status, oldest first', async () => {
        const a = await store.createRun(input({ model: 'vgg13-bn', measure: 'magnitude', pruneRatio: 0.5, seed: 1 }));
        const b = await store.createRun(input({ model: 'vgg13-bn', measure: 'grasp', pruneRatio: 0.5, seed: 2 }));
        const c = await store.createRun(input({ model: 'resnet-56', measure: 'magnitude', pruneRatio: 0.8, seed: 1 }));
        const d = await store.createRun(input({ model: 'resnet-56', measure: 'loss-preservation', pruneRatio: 0.5, seed: 1 }));
        await store.updateRun(d.id, { status: 'completed' });
        const ids = async (f?: Parameters<RunStore['listRuns']>[0]): Promise<string[]> => (await store.listRuns(f)).map((r) => r.id).sort();
        const sorted = (...runs: RunRecord[]): string[] => runs.map((r) => r.id).sort();
        assert.deepEqual(await ids(), sorted(a, b, c, d));
        assert.deepEqual(await ids({ model: 'vgg13-bn' }), sorted(a, b));
        assert.deepEqual(await ids({ measure: 'magnitude' }), sorted(a, c));
        assert.deepEqual(await ids({ pruneRatio: 0.5 }), sorted(a, b, d));
        assert.deepEqual(await ids({ seed: 1, pruneRatio: 0.5 }), sorted(a, d));
        assert.deepEqual(await ids({ status: 'completed' }), sorted(d));
        assert.deepEqual(await ids({ status: ['created', 'completed'], model: 'resnet-56' }), sorted(c, d));
        assert.deepEqual(await ids({ model: 'nope' }), []);
        const all = await store.listRuns();
        const order = all.map((r) => `${r.createdAt} ${r.id}`);
        assert.deepEqual(order, [...order].sort());
      });
    });

    describe('checkpoints', () => {
      it('round-trips bytes and meta, lists by name, replaces on put', async () => {
        const run = await store.createRun(input());
        const big = new Uint8Array(randomBytes(300_000));
        const info = await store.putCheckpoint(run.id, 'round-2', big, { round: 2, params: 123 });
        assert.equal(info.size, big.length);
        assert.match(info.sha256, /^[0-9a-f]{64}$/);
        await store.putCheckpoint(run.id, 'final', new Uint8Array(0));
        const got = await store.getCheckpoint(run.id, 'round-2');
        assert.ok(got);
        assert.deepEqual(got.bytes, big);
        assert.deepEqual(got.info, info);
        assert.deepEqual((await store.getCheckpoint(run.id, 'final'))?.bytes, new Uint8Array(0));
        assert.deepEqual(
          (await store.listCheckpoints(run.id)).map((c) => [c.name, c.size]),
          [
            ['final', 0],
            ['round-2', 300_000],
          ],
        );
        await store.putCheckpoint(run.id, 'round-2', Uint8Array.from([1, 2, 3]));
        assert.deepEqual((await store.getCheckpoint(run.id, 'round-2'))?.bytes, Uint8Array.from([1, 2, 3]));
        assert.equal(await store.getCheckpoint(run.id, 'missing'), null);
        assert.deepEqual(await store.listCheckpoints((await store.createRun(input())).id), []);
      });

      it('rejects unsafe checkpoint names', async () => {
        const run = await store.createRun(input());
        for (const bad of ['../x', 'a/b', '..', '', '.x', 'a..b']) {
          await rejectsWith(store.putCheckpoint(run.id, bad, new Uint8Array(1)), 'invalid_argument');
          await rejectsWith(store.getCheckpoint(run.id, bad), 'invalid_argument');
        }
      });
    });

    describe('ids', () => {
      it('rejects ids with path separators, dots or other unsafe characters in every method', async () => {
        for (const bad of BAD_IDS) {
          await rejectsWith(store.getRun(bad), 'invalid_id');
          await rejectsWith(store.updateRun(bad, { status: 'running' }), 'invalid_id');
          await rejectsWith(store.appendEpochStat(bad, stat(0)), 'invalid_id');
          await rejectsWith(store.appendRound(bad, { round: 0, prunedFraction: 0, remainingChannels: [] }), 'invalid_id');
          await rejectsWith(store.appendEvent(bad, { type: 'x' }), 'invalid_id');
          await rejectsWith(store.readEvents(bad), 'invalid_id');
          await rejectsWith(store.putCheckpoint(bad, 'c', new Uint8Array(1)), 'invalid_id');
          await rejectsWith(store.getCheckpoint(bad, 'c'), 'invalid_id');
          await rejectsWith(store.listCheckpoints(bad), 'invalid_id');
        }
      });
    });

    describe('queue, leases and fencing', () => {
      const LONG = 60_000;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

      it('claims queued runs in submission order, one claim each, with growing tokens', async () => {
        assert.equal(await store.claimRun('t1', LONG), null, 'nothing queued');
        const a = await store.createRun(input());
        const b = await store.createRun(input());
        const c = await store.createRun(input());
        assert.equal(await store.claimRun('t1', LONG), null, 'created runs are not queued');
        for (const r of [b, a, c]) {
          const q = await store.enqueueRun(r.id);
          assert.equal(q.status, 'queued');
          assert.ok(q.queuedAt);
          await sleep(2); // distinct queuedAt
        }
        const first = await store.claimRun('t1', LONG);
        const second = await store.claimRun('t2', LONG);
        const third = await store.claimRun('t1', LONG);
        assert.deepEqual([first?.id, second?.id, third?.id], [b.id, a.id, c.id], 'oldest queuedAt first');
        assert.equal(await store.claimRun('t3', LONG), null, 'held runs are not claimable');
        assert.equal(first?.status, 'running');
        assert.equal(first?.lease?.holder, 't1');
        assert.equal(first?.lease?.token, 1);
        assert.equal(first?.fence, 1);
        assert.ok(Date.parse(first!.lease!.expiresAt) - Date.parse(first!.lease!.claimedAt) >= LONG - 1);
        assert.deepEqual(await store.getRun(b.id), first);
      });

      it('an expired lease is taken over with the next token; the old holder is fenced off everywhere', async () => {
        const run = await store.createRun(input());
        await store.enqueueRun(run.id);
        const mine = (await store.claimRun('old', 150))!;
        const t1 = mine.lease!.token;
        await store.appendEpochStat(run.id, stat(0), { fence: t1 });
        await store.appendEvent(run.id, { type: 'epoch' }, { fence: t1 });
        await store.putCheckpoint(run.id, 'resume-a', Uint8Array.from([1]), undefined, { fence: t1 });
        const renewed = await store.renewLease(run.id, t1, 150);
        assert.ok(renewed.lease!.expiresAt >= mine.lease!.expiresAt);
        assert.equal(await store.claimRun('new', LONG), null, 'a live lease is not taken over');
        await sleep(250);
        const theirs = (await store.claimRun('new', LONG))!;
        assert.equal(theirs.id, run.id);
        assert.equal(theirs.lease!.holder, 'new');
        const t2 = theirs.lease!.token;
        assert.equal(t2, t1 + 1);
        const before = await store.getRun(run.id);
        const eventsBefore = await store.readEvents(run.id);
        await rejectsWith(store.renewLease(run.id, t1, LONG), 'fenced');
        await rejectsWith(store.appendEpochStat(run.id, stat(1), { fence: t1 }), 'fenced');
        await rejectsWith(store.appendRound(run.id, { round: 1, prunedFraction: 0.1, remainingChannels: [] }, { fence: t1 }), 'fenced');
        await rejectsWith(store.appendEvent(run.id, { type: 'epoch' }, { fence: t1 }), 'fenced');
        await rejectsWith(store.updateRun(run.id, { summary: { stale: true } }, { fence: t1 }), 'fenced');
        await rejectsWith(store.putCheckpoint(run.id, 'resume-a', Uint8Array.from([2]), undefined, { fence: t1 }), 'fenced');
        await rejectsWith(store.releaseRun(run.id, t1, { status: 'failed' }), 'fenced');
        assert.deepEqual(await store.getRun(run.id), before, 'refused writes leave the record as it was');
        assert.deepEqual(await store.readEvents(run.id), eventsBefore);
        assert.deepEqual((await store.getCheckpoint(run.id, 'resume-a'))?.bytes, Uint8Array.from([1]));
        // The new holder writes; its events carry its token.
        await store.appendEpochStat(run.id, stat(1), { fence: t2 });
        const ev = await store.appendEvent(run.id, { type: 'epoch' }, { fence: t2 });
        assert.equal(ev.fence, t2);
        assert.deepEqual((await store.readEvents(run.id)).map((e) => e.fence), [t1, t2]);
        const done = await store.releaseRun(run.id, t2, { status: 'completed', summary: { ok: 1 } });
        assert.equal(done.status, 'completed');
        assert.equal(done.lease, undefined);
        assert.equal(done.fence, t2);
        assert.deepEqual(done.stats.map((s) => s.epoch), [0, 1]);
        await rejectsWith(store.appendEvent(run.id, { type: 'late' }, { fence: t2 }), 'fenced');
        await rejectsWith(store.enqueueRun(run.id), 'conflict');
      });

      it('enqueueRun: stopped runs go back to the queue, live leases and completed runs are conflicts', async () => {
        const run = await store.createRun(input());
        await store.enqueueRun(run.id);
        const again = await store.enqueueRun(run.id);
        assert.equal(again.status, 'queued', 'enqueueing a queued run changes nothing');
        const held = (await store.claimRun('t', LONG))!;
        await rejectsWith(store.enqueueRun(run.id), 'conflict');
        await store.releaseRun(run.id, held.lease!.token, { status: 'failed', error: { message: 'estimator down' } });
        const requeued = await store.enqueueRun(run.id);
        assert.equal(requeued.status, 'queued');
        assert.equal(requeued.error, undefined);
        const reclaimed = (await store.claimRun('u', LONG))!;
        assert.equal(reclaimed.lease!.token, held.lease!.token + 1);
        await rejectsWith(store.updateRun(run.id, { lease: undefined } as never), 'invalid_argument');
        await rejectsWith(store.updateRun(run.id, { fence: 9 } as never), 'invalid_argument');
      });

      it('requestCancel: a queued run is cancelled and never claimed; a running one is flagged; an ended one is a conflict', async () => {
        const q = await store.createRun(input());
        await store.enqueueRun(q.id);
        const c1 = await store.requestCancel(q.id);
        assert.equal(c1.outcome, 'cancelled');
        assert.equal(c1.run.status, 'cancelled');
        assert.equal(await store.claimRun('t', LONG), null);
        await rejectsWith(store.requestCancel(q.id), 'conflict');
        const r = await store.createRun(input());
        await store.enqueueRun(r.id);
        const held = (await store.claimRun('t', LONG))!;
        const c2 = await store.requestCancel(r.id);
        assert.equal(c2.outcome, 'cancelling');
        assert.equal(c2.run.cancelRequested, true);
        assert.equal((await store.renewLease(r.id, held.lease!.token, LONG)).cancelRequested, true, 'the holder learns it on renewal');
        const ended = await store.releaseRun(r.id, held.lease!.token, { status: 'cancelled' });
        assert.equal(ended.cancelRequested, undefined);
        await rejectsWith(store.requestCancel('20000101-000000-000000'), 'not_found');
      });
    });

    describe('several processes', () => {
      it('four processes draining one queue claim every run exactly once', async (t) => {
        if (!fx.childFactory) return t.skip('no childFactory');
        const runs: RunRecord[] = [];
        for (let i = 0; i < 12; i++) {
          const r = await store.createRun(input({ seed: i }));
          await store.enqueueRun(r.id);
          runs.push(r);
        }
        const factory = fx.childFactory;
        const workers = await startWorkers([0, 1, 2, 3].map((tag) => ({ action: 'claim-all' as const, factory, tag, leaseMs: 60_000 })));
        await workers.finished;
        for (const r of runs) {
          const claims = (await store.readEvents(r.id)).filter((e) => e.type === 'claimed');
          assert.equal(claims.length, 1, `run ${r.id} claimed ${claims.length} times`);
          const doc = (await store.getRun(r.id))!;
          assert.equal(doc.status, 'running');
          assert.equal(doc.lease?.token, 1);
          assert.equal(doc.lease?.holder, `worker-${claims[0].data?.worker}`);
        }
      });

      it('two processes appending 50 stats each concurrently lose none', async (t) => {
        if (!fx.childFactory) return t.skip('no childFactory');
        const run = await store.createRun(input());
        const factory = fx.childFactory;
        const workers = await startWorkers([0, 1].map((tag) => ({ action: 'append-stats' as const, factory, runId: run.id, count: 50, tag })));
        await workers.finished;
        const stats = (await store.getRun(run.id))?.stats ?? [];
        assert.equal(stats.length, 100);
        for (const tag of [0, 1]) {
          const epochs = stats.filter((s) => s.extra?.worker === tag).map((s) => s.epoch);
          assert.deepEqual(epochs, Array.from({ length: 50 }, (_, i) => i), `worker ${tag} stats missing or out of order`);
        }
      });

      it('a reader never sees a partial document while another process rewrites it', async (t) => {
        if (!fx.childFactory) return t.skip('no childFactory');
        const run = await store.createRun(input());
        const payloadBytes = 200_000;
        const workers = await startWorkers([{ action: 'rewrite-summary', factory: fx.childFactory, runId: run.id, count: 40, payloadBytes }]);
        const versions = new Set<number>();
        while (!workers.done()) {
          const doc = await store.getRun(run.id);
          assert.ok(doc, 'run disappeared during rewrite');
          if (doc.summary) {
            const v = doc.summary.version as number;
            assert.deepEqual(doc.summary, summaryFor(v, payloadBytes));
            versions.add(v);
          }
        }
        await workers.finished;
        assert.deepEqual((await store.getRun(run.id))?.summary, summaryFor(40, payloadBytes));
        assert.ok(versions.size >= 2, `reader only observed ${versions.size} versions; the test did not overlap`);
      });
    });
  });
}
