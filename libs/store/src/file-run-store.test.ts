import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runStoreContract } from './contract.js';
import { summaryFor } from './contract-worker.js';
import { StoreError } from './errors.js';
import { FileRunStore } from './file-run-store.js';
import { startWorkers } from './spawn-workers.js';

const STORE_MODULE = fileURLToPath(new URL('./file-run-store.ts', import.meta.url));

function freshRoot(): string {
  return mkdtempSync(join(tmpdir(), 'flowprune-store-'));
}

runStoreContract('FileRunStore', async () => {
  const root = freshRoot();
  return {
    store: new FileRunStore({ root }),
    childFactory: { module: STORE_MODULE, exportName: 'createFileRunStore', options: { root } },
    dispose: async () => rmSync(root, { recursive: true, force: true }),
  };
});

const spec = { spec: { a: 1 }, model: 'vgg13-bn', dataset: 'cifar10' };

describe('FileRunStore on disk', () => {
  it('lays out runs/<id>/run.json, events.jsonl and checkpoints/<name>.safetensors + .json', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root });
      const run = await store.createRun(spec);
      await store.appendEvent(run.id, { type: 'hello' });
      await store.putCheckpoint(run.id, 'round-1', Uint8Array.from([9, 8, 7]), { round: 1 });
      const dir = join(root, run.id);
      assert.deepEqual(readdirSync(dir).sort(), ['checkpoints', 'events.jsonl', 'run.json']);
      assert.deepEqual(readdirSync(join(dir, 'checkpoints')).sort(), ['round-1.json', 'round-1.safetensors']);
      assert.deepEqual(readFileSync(join(dir, 'checkpoints', 'round-1.safetensors')), Buffer.from([9, 8, 7]));
      assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).id, run.id);
      assert.equal(JSON.parse(readFileSync(join(dir, 'events.jsonl'), 'utf8').trim()).type, 'hello');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ids sort by creation time', async () => {
    const root = freshRoot();
    try {
      let t = Date.parse('2026-11-24T15:30:12Z');
      const store = new FileRunStore({ root, now: () => new Date((t += 1000)) });
      const a = await store.createRun(spec);
      const b = await store.createRun(spec);
      assert.match(a.id, /^20261124-153013-[0-9a-f]{6}$/);
      assert.ok(a.id < b.id);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('invalid ids never touch anything outside the root', async () => {
    const parent = freshRoot();
    const root = join(parent, 'runs');
    try {
      const store = new FileRunStore({ root });
      await store.createRun(spec);
      await assert.rejects(store.appendEvent('../escape', { type: 'x' }), (e: unknown) => e instanceof StoreError && e.code === 'invalid_id');
      await assert.rejects(store.putCheckpoint('..', 'x', new Uint8Array(1)), StoreError);
      assert.deepEqual(readdirSync(parent), ['runs']);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('listRuns skips half-created run directories, temp files and foreign entries', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root });
      const run = await store.createRun(spec);
      writeFileSync(join(root, 'README.txt'), 'hi');
      writeFileSync(join(root, '.tmp-x'), 'partial');
      mkdirSync(join(root, '20990101-000000-abcdef')); // created, run.json not written yet
      assert.deepEqual((await store.listRuns()).map((r) => r.id), [run.id]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a raw reader of run.json never sees a torn file while another process rewrites it', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root });
      const run = await store.createRun(spec);
      const path = join(root, run.id, 'run.json');
      const payloadBytes = 300_000;
      const workers = await startWorkers([
        { action: 'rewrite-summary', factory: { module: STORE_MODULE, exportName: 'createFileRunStore', options: { root } }, runId: run.id, count: 30, payloadBytes },
      ]);
      let reads = 0;
      while (!workers.done()) {
        const doc = JSON.parse(readFileSync(path, 'utf8')) as { summary?: { version: number } };
        if (doc.summary) assert.deepEqual(doc.summary, summaryFor(doc.summary.version, payloadBytes));
        reads++;
        await new Promise((r) => setImmediate(r));
      }
      await workers.finished;
      assert.ok(reads > 5, `only ${reads} reads`);
      // No temp files are left behind.
      assert.deepEqual(readdirSync(join(root, run.id)).sort(), ['run.json']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('FileRunStore locking', () => {
  function lockFile(root: string, id: string, owner: { pid: number; host?: string }): string {
    // Same format FileRunStore writes: pid + host identify the holder.
    const path = join(root, id, '.lock');
    writeFileSync(path, JSON.stringify({ pid: owner.pid, host: owner.host ?? hostname(), token: 'someone-else', at: Date.now() }));
    return path;
  }

  it('breaks a lock older than staleMs', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root, lock: { staleMs: 1000 } });
      const run = await store.createRun(spec);
      const path = lockFile(root, run.id, { pid: process.pid });
      const old = new Date(Date.now() - 5000);
      utimesSync(path, old, old);
      await store.updateRun(run.id, { status: 'running' });
      assert.equal((await store.getRun(run.id))?.status, 'running');
      assert.ok(!existsSync(path));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('breaks a fresh lock at once when its holder process is dead', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root, lock: { timeoutMs: 2000 } });
      const run = await store.createRun(spec);
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      assert.ok(dead);
      lockFile(root, run.id, { pid: dead });
      const started = Date.now();
      await store.appendEpochStat(run.id, { phase: 'warmup', epoch: 0, lr: 0.1, trainLoss: 1, trainAcc: 0.1, seconds: 1 });
      assert.ok(Date.now() - started < 1000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('waits for a live holder and times out with a clear error', async () => {
    const root = freshRoot();
    try {
      const store = new FileRunStore({ root, lock: { timeoutMs: 300 } });
      const run = await store.createRun(spec);
      const path = lockFile(root, run.id, { pid: process.pid });
      await assert.rejects(
        store.updateRun(run.id, { status: 'running' }),
        (e: unknown) => e instanceof StoreError && e.code === 'lock_timeout' && e.message.includes(path),
      );
      rmSync(path);
      await store.updateRun(run.id, { status: 'running' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
