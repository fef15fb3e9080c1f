// The retry policy on a fake clock: which errors are retried, the backoff sequence, jitter, and
// the clear failure once a dependency has stayed down past the limit.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { Backoff, DependencyUnavailableError, isRetryable, withRetry, type Clock, type RetryPolicy } from './retry.js';

const rpcError = (code: status, details = 'x'): ServiceError => Object.assign(new Error(details), { code, details, metadata: new Metadata() });

/** Time moves only when someone sleeps; every sleep is recorded. */
function fakeClock(): Clock & { sleeps: number[]; t: number } {
  const c = {
    t: 1_000_000,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

const policy: RetryPolicy = { dependencyTimeoutMs: 5000, initialBackoffMs: 200, maxBackoffMs: 1000, multiplier: 2, jitter: 0.5 };
const dependency = { name: 'importance-estimator', address: '127.0.0.1:50053' };

test('retries UNAVAILABLE with exponential backoff (capped) until the call succeeds', async () => {
  const clock = fakeClock();
  let calls = 0;
  const out = await withRetry(
    async () => {
      if (++calls < 6) throw rpcError(status.UNAVAILABLE, 'No connection established');
      return 'ok';
    },
    { dependency, policy, idempotent: true, clock, random: () => 0 },
  );
  assert.equal(out, 'ok');
  assert.equal(calls, 6);
  assert.deepEqual(clock.sleeps, [200, 400, 800, 1000, 1000]);
});

test('jitter draws each wait from [backoff × (1 − jitter), backoff]', async () => {
  const clock = fakeClock();
  let calls = 0;
  await withRetry(
    async () => {
      if (++calls < 3) throw rpcError(status.UNAVAILABLE);
      return 1;
    },
    { dependency, policy, idempotent: true, clock, random: () => 1 },
  );
  assert.deepEqual(clock.sleeps, [100, 200]);
});

test('a dependency down past the limit fails with its name, address, the wait and the last error', async () => {
  const clock = fakeClock();
  let calls = 0;
  const start = clock.now();
  const err = await withRetry(
    async () => {
      calls++;
      throw rpcError(status.UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1:50053');
    },
    { dependency, policy, idempotent: true, clock, random: () => 0 },
  ).then(
    () => assert.fail('should have given up'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DependencyUnavailableError);
  assert.equal(err.code, status.UNAVAILABLE);
  assert.equal(clock.now() - start, 5000, 'the last attempt falls right at the limit');
  assert.equal(err.waitedMs, 5000);
  assert.match(err.details, /^importance-estimator at 127\.0\.0\.1:50053 unreachable for 5 s \(last error UNAVAILABLE: connect ECONNREFUSED/);
  assert.match(err.details, /start it again/);
  assert.deepEqual(clock.sleeps, [200, 400, 800, 1000, 1000, 1000, 600]);
  assert.equal(calls, 8);
});

test('only UNAVAILABLE is retried for non-idempotent calls; other codes fail at once', async () => {
  assert.equal(isRetryable(rpcError(status.UNAVAILABLE), false), true);
  assert.equal(isRetryable(rpcError(status.DEADLINE_EXCEEDED), false), false);
  assert.equal(isRetryable(rpcError(status.RESOURCE_EXHAUSTED), false), false);
  assert.equal(isRetryable(rpcError(status.DEADLINE_EXCEEDED), true), true);
  assert.equal(isRetryable(rpcError(status.RESOURCE_EXHAUSTED, 'server busy, try later'), true), true);
  assert.equal(isRetryable(rpcError(status.RESOURCE_EXHAUSTED, 'Received message larger than max (300 vs. 200)'), true), false);
  for (const code of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.INTERNAL, status.FAILED_PRECONDITION, status.CANCELLED])
    assert.equal(isRetryable(rpcError(code), true), false, status[code]);
  assert.equal(isRetryable(new Error('local bug'), true), false);
  // A nested retry that already gave up is not retried again by the caller.
  assert.equal(isRetryable(new DependencyUnavailableError(dependency, 1, rpcError(status.UNAVAILABLE)), true), false);

  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw rpcError(status.INVALID_ARGUMENT, 'spec.arch: unknown');
      },
      { dependency, policy, idempotent: true, clock },
    ),
    /spec\.arch: unknown/,
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.sleeps, []);
});

test('a success resets the backoff and the outage clock', async () => {
  const clock = fakeClock();
  const b = new Backoff({ dependency, policy, idempotent: true, clock, random: () => 0 });
  for (let i = 0; i < 4; i++) await b.failed(rpcError(status.UNAVAILABLE));
  assert.deepEqual(clock.sleeps, [200, 400, 800, 1000]);
  b.succeeded();
  clock.t += 60_000; // long healthy stretch: not counted as an outage
  await b.failed(rpcError(status.UNAVAILABLE));
  assert.equal(clock.sleeps.at(-1), 200);
});

test('a caller that is stopping gets the error at once instead of further attempts', async () => {
  const clock = fakeClock();
  let stopping = false;
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        if (calls === 2) stopping = true; // e.g. the run was cancelled while we waited
        throw rpcError(status.UNAVAILABLE, 'down');
      },
      { dependency, policy, idempotent: true, clock, random: () => 0, shouldStop: () => stopping },
    ),
    (e: ServiceError) => e.code === status.UNAVAILABLE && e.details === 'down',
  );
  assert.equal(calls, 2);
  assert.deepEqual(clock.sleeps, [200]);
});
