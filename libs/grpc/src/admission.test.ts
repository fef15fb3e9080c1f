// Unit tests of the admission queue: bounded concurrency, FIFO order, refusal when full, no call lost.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { AdmissionQueue } from './admission.js';
import { RpcError } from './errors.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('at most `concurrency` run at once, waiters start in arrival order', async () => {
  const q = new AdmissionQueue({ concurrency: 2, queueLength: 10 }, 'Work');
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      q.run(async () => {
        order.push(i);
        running++;
        most = Math.max(most, running);
        await tick();
        await tick();
        running--;
        return i * i;
      }),
    ),
  );
  assert.deepEqual(results, [0, 1, 4, 9, 16, 25, 36, 49]);
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(q.stats(), { running: 0, queued: 0, peakRunning: 2, peakQueued: 6 });
});

test('a call beyond concurrency + queue length is refused with RESOURCE_EXHAUSTED; the rest complete', async () => {
  const q = new AdmissionQueue({ concurrency: 1, queueLength: 2 }, 'Estimate', '--max-queued');
  const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => q.run(async () => (await tick(), i))));
  assert.deepEqual(settled.slice(0, 3).map((s) => s.status === 'fulfilled' && s.value), [0, 1, 2]);
  for (const s of settled.slice(3)) {
    assert.equal(s.status, 'rejected');
    const e = (s as PromiseRejectedResult).reason as RpcError;
    assert.equal(e.code, status.RESOURCE_EXHAUSTED);
    assert.match(e.message, /^Estimate: 1 calls running and 2 queued, the most this server takes \(--max-queued\); retry later/);
  }
  // Slots come back after failures too.
  await assert.rejects(q.run(async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await q.run(async () => 'again'), 'again');
  assert.equal(q.stats().running, 0);
});

test('a call whose caller left while queued is skipped with CANCELLED', async () => {
  const q = new AdmissionQueue({ concurrency: 1, queueLength: 1 }, 'Work');
  const caller = { cancelled: false };
  let ran = false;
  const first = q.run(async () => (await tick(), caller.cancelled = true));
  const second = q.run(async () => (ran = true), caller);
  await first;
  await assert.rejects(second, (e: RpcError) => e.code === status.CANCELLED);
  assert.equal(ran, false);
});

test('limits are checked', () => {
  assert.throws(() => new AdmissionQueue({ concurrency: 0, queueLength: 1 }, 'x'), /concurrency/);
  assert.throws(() => new AdmissionQueue({ concurrency: 1, queueLength: -1 }, 'x'), /queue length/);
});
