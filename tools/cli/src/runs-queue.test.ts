// `flowprune runs ls` over a shared queue (positions of queued runs, the trainer holding each
// running one) and `flowprune runs wait` (returns once every run has ended, wherever it ran).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@flowprune/grpc/testing';
import { FileRunStore } from '@flowprune/store';
import { listRunsTable, showRun, waitForRuns } from './runs.js';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const input = { spec: {}, model: 'resnet56', dataset: 'cifar10' };

test('runs ls shows queued runs with their position and running ones with their trainer', async () => {
  const store = new FileRunStore({ root: join(tempDir('runs-queue'), 'runs') });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await store.createRun(input);
    await store.enqueueRun(r.id);
    ids.push(r.id);
    await new Promise((r) => setTimeout(r, 2));
  }
  await store.claimRun('gpu-node-7', 60_000);
  const table = await listRunsTable(store, {});
  const row = (id: string) => table.split('\n').find((l) => l.includes(id)) ?? '';
  assert.match(row(ids[0]), /running.*gpu-node-7/);
  assert.match(row(ids[1]), /queued.*#1 in queue/);
  assert.match(row(ids[2]), /queued.*#2 in queue/);
  assert.match(await showRun(store, ids[0]), /gpu-node-7 \(lease until .*, token 1\)/);
  assert.match(await showRun(store, ids[2]), /#2 since /);
  // Filtered views keep the positions in the whole queue.
  assert.match((await listRunsTable(store, { status: 'queued', seed: undefined })).split('\n').find((l) => l.includes(ids[2])) ?? '', /#2 in queue/);
});

test('runs wait returns when every run has ended and exits 1 unless all completed', async () => {
  const root = join(tempDir('runs-wait'), 'runs');
  const store = new FileRunStore({ root });
  const a = await store.createRun(input);
  const b = await store.createRun(input);
  await store.enqueueRun(a.id);
  await store.enqueueRun(b.id);
  const lines: string[] = [];
  const waiting = waitForRuns(store, [a.id, b.id], 20, (l) => lines.push(l));
  const held = (await store.claimRun('t', 60_000))!;
  await store.releaseRun(held.id, held.lease!.token, { status: 'completed' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(lines.length, 1, 'one run has ended so far');
  await store.requestCancel(b.id);
  const done = await waiting;
  assert.deepEqual(done.map((r) => r.status), ['completed', 'cancelled']);
  assert.deepEqual(lines, [`${a.id} completed`, `${b.id} cancelled: cancelled`]);
  const cli = spawnSync(process.execPath, [CLI, 'runs', 'wait', a.id, b.id, '--store', root, '--poll', '0.1'], { encoding: 'utf8' });
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stdout, new RegExp(`${a.id} completed\\n${b.id} cancelled`));
});
