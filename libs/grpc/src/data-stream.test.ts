// streamImageBatches against an in-process fake data-loader that breaks, stalls, restarts or
// predates start_batch: the consumer sees every batch of the epoch exactly once, in order; a
// data-loader that stays down fails with a message naming it.
import { strict as assert } from 'node:assert';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  DataLoaderServiceClient,
  DataLoaderServiceService,
  type DataLoaderServiceServer,
  type StreamBatchesRequest,
  type StreamBatchesResponse,
} from '@flowprune/proto';
import { makeClient } from './client.js';
import { streamImageBatches, testSplitRequest } from './data-stream.js';
import { idempotentCall } from './resilient-call.js';
import type { RetryPolicy } from './retry.js';
import { startServer, type StartedServer } from './server.js';

const TOTAL = 6;
const policy: RetryPolicy = { dependencyTimeoutMs: 3000, initialBackoffMs: 20, maxBackoffMs: 200, multiplier: 2, jitter: 0.5 };

interface FakeBehaviour {
  /** What the n-th StreamBatches call (0-based) does after sending `sendBefore` batches. */
  onOpen(n: number, req: StreamBatchesRequest): { sendBefore: number; then: 'end' | 'fail' | 'stall' };
  /** The fake honours start_batch (else it sends from 0, like an older data-loader). */
  honoursStart: boolean;
}

function fakeLoader(b: FakeBehaviour, requests: StreamBatchesRequest[]): DataLoaderServiceServer {
  return {
    describe: (_call, cb) => cb(null, { name: 'fake', format: 'fake', numClasses: 10, classNames: [], trainSize: 60, testSize: 60, height: 32, width: 32, channels: 3, trainClassCounts: [], testClassCounts: [], conversion: '' }),
    sampleBalanced: (_call, cb) => cb({ code: status.UNIMPLEMENTED, details: 'fake' }),
    streamBatches: (call: ServerWritableStream<StreamBatchesRequest, StreamBatchesResponse>) => {
      const n = requests.push(call.request) - 1;
      const plan = b.onOpen(n, call.request);
      let index = b.honoursStart ? (call.request.startBatch ?? 0) : 0;
      for (let sent = 0; index < TOTAL && (plan.then === 'end' || sent < plan.sendBefore); sent++, index++)
        call.write({ batch: { index, count: 1, height: 1, width: 1, channels: 1, pixels: Buffer.from([index]), labels: [index], sampleIndices: [index] }, totalBatches: TOTAL });
      if (plan.then === 'fail') call.emit('error', { code: status.UNAVAILABLE, details: 'fake data-loader going away' });
      else if (plan.then === 'end' || index >= TOTAL) call.end();
      // 'stall': leave the stream open with nothing more to say.
    },
  };
}

async function serve(impl: DataLoaderServiceServer, address = '127.0.0.1:0'): Promise<StartedServer> {
  return startServer({ address, services: [{ name: 'flowprune.v1.DataLoaderService', definition: DataLoaderServiceService, implementation: impl }] });
}

async function consume(client: DataLoaderServiceClient, idleMs = 5000): Promise<number[]> {
  const seen: number[] = [];
  for await (const b of streamImageBatches(client, testSplitRequest('fake', 1), { policy, idleMs })) seen.push(b.index);
  return seen;
}

const every = [...Array(TOTAL).keys()];

test('a stream broken by UNAVAILABLE is re-opened at the next batch (start_batch)', async () => {
  const requests: StreamBatchesRequest[] = [];
  const server = await serve(fakeLoader({ honoursStart: true, onOpen: (n) => (n < 2 ? { sendBefore: 2, then: 'fail' } : { sendBefore: 0, then: 'end' }) }, requests));
  const client = makeClient(DataLoaderServiceClient, server.address);
  try {
    assert.deepEqual(await consume(client), every);
    assert.deepEqual(requests.map((r) => r.startBatch ?? 0), [0, 2, 4]);
  } finally {
    client.close();
    await server.shutdown(100);
  }
});

test('a data-loader that ignores start_batch: already consumed batches are skipped client-side', async () => {
  const requests: StreamBatchesRequest[] = [];
  const server = await serve(fakeLoader({ honoursStart: false, onOpen: (n) => (n === 0 ? { sendBefore: 3, then: 'fail' } : { sendBefore: 0, then: 'end' }) }, requests));
  const client = makeClient(DataLoaderServiceClient, server.address);
  try {
    assert.deepEqual(await consume(client), every);
    assert.equal(requests.length, 2);
  } finally {
    client.close();
    await server.shutdown(100);
  }
});

test('a stalled stream is re-opened after the idle timeout', async () => {
  const requests: StreamBatchesRequest[] = [];
  const server = await serve(fakeLoader({ honoursStart: true, onOpen: (n) => (n === 0 ? { sendBefore: 1, then: 'stall' } : { sendBefore: 0, then: 'end' }) }, requests));
  const client = makeClient(DataLoaderServiceClient, server.address);
  try {
    const t0 = performance.now();
    assert.deepEqual(await consume(client, 300), every);
    assert.ok(performance.now() - t0 >= 300, 'waited for the idle timeout');
    assert.deepEqual(requests.map((r) => r.startBatch ?? 0), [0, 1]);
  } finally {
    client.close();
    await server.shutdown(100);
  }
});

/** A TCP relay in front of a server: `kill()` resets every connection (as a process death does). */
async function relay(target: string, port = 0): Promise<{ address: string; kill(): Promise<void> }> {
  const [host, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(targetPort, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.resetAndDestroy();
      await closed;
    },
  };
}

test('the data-loader going away mid-stream (connections reset) and coming back on its port', async () => {
  const requests: StreamBatchesRequest[] = [];
  // The backend hangs after two batches on its first stream; a reset connection is the only way out.
  const backend = await serve(fakeLoader({ honoursStart: true, onOpen: (n) => (n === 0 ? { sendBefore: 2, then: 'stall' } : { sendBefore: 0, then: 'end' }) }, requests));
  const first = await relay(backend.address);
  const client = makeClient(DataLoaderServiceClient, first.address);
  let second: Awaited<ReturnType<typeof relay>> | undefined;
  try {
    const seen: number[] = [];
    for await (const b of streamImageBatches(client, testSplitRequest('fake', 1), { policy, idleMs: 5000 })) {
      seen.push(b.index);
      if (seen.length === 2) {
        await first.kill();
        setTimeout(() => void relay(backend.address, Number(first.address.split(':')[1])).then((r) => (second = r)), 300);
      }
    }
    assert.deepEqual(seen, every);
    assert.deepEqual(requests.map((r) => r.startBatch ?? 0), [0, 2]);
  } finally {
    client.close();
    await second?.kill();
    await backend.shutdown(100);
  }
});

test('a data-loader that stays down: a clear error naming it after the dependency timeout', async () => {
  const server = await serve(fakeLoader({ honoursStart: true, onOpen: () => ({ sendBefore: 0, then: 'end' }) }, []));
  const address = server.address;
  await server.shutdown(100); // nothing listens there any more
  const client = makeClient(DataLoaderServiceClient, address);
  const short = { ...policy, dependencyTimeoutMs: 800 };
  try {
    const t0 = performance.now();
    await assert.rejects(
      (async () => {
        for await (const _ of streamImageBatches(client, testSplitRequest('fake', 1), { policy: short })) assert.fail('no batch expected');
      })(),
      (e: Error & { code?: number }) => {
        assert.equal(e.code, status.UNAVAILABLE);
        assert.match(e.message, new RegExp(`^data-loader at ${address.replace(/\./g, '\\.')} unreachable for \\d+ s`));
        return true;
      },
    );
    assert.ok(performance.now() - t0 >= 800);
    await assert.rejects(idempotentCall(client, client.describe, { dataset: { name: 'fake' } }, { name: 'data-loader', policy: short, timeoutMs: 500 }), /data-loader at .* unreachable/);
  } finally {
    client.close();
  }
});

test('idempotentCall waits for a dependency that comes up late', async () => {
  const probe = await serve(fakeLoader({ honoursStart: true, onOpen: () => ({ sendBefore: 0, then: 'end' }) }, []));
  const address = probe.address;
  await probe.shutdown(100);
  const client = makeClient(DataLoaderServiceClient, address);
  let late: StartedServer | undefined;
  const timer = setTimeout(() => void serve(fakeLoader({ honoursStart: true, onOpen: () => ({ sendBefore: 0, then: 'end' }) }, []), address).then((s) => (late = s)), 400);
  try {
    const r = await idempotentCall(client, client.describe, { dataset: { name: 'fake' } }, { name: 'data-loader', policy, timeoutMs: 500 });
    assert.equal(r.numClasses, 10);
  } finally {
    clearTimeout(timer);
    client.close();
    await late?.shutdown(100);
  }
});
