// Load test: 8 concurrent StreamBatches with slow consumers. The data-loader must follow HTTP/2
// backpressure (write() → 'drain'), not buffer whole epochs: its memory stays far below what 8
// buffered epochs would take, and every stream delivers exactly the batches of a sequential stream.
import { createHash } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { launchService, processMemory, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, Split, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';

const MiB = 1024 * 1024;
const IMAGES = 8000;
const STREAMS = 8;
let svc: LaunchedService;
let client: DataLoaderServiceClient;

before(async () => {
  const dir = tempDir('dl-load');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: IMAGES / 10, testPerClass: 1, seed: 3 });
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  // Default 64 KiB window (not makeClient's 8 MiB): a slow reader stalls the server quickly.
  client = new DataLoaderServiceClient(svc.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * MiB });
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0);
});

const request = (epoch: number): StreamBatchesRequest => ({ dataset: { name: 'syn' }, split: Split.SPLIT_TRAIN, batchSize: 100, seed: 5, epoch, shuffle: true, augment: true, shardIndex: 0, shardCount: 1, maxSamples: 0 });

/** Digest of every batch of a stream, read with `delayMs` between batches. */
async function digests(epoch: number, delayMs: number): Promise<string[]> {
  const out: string[] = [];
  for await (const m of client.streamBatches(request(epoch))) {
    const b = (m as StreamBatchesResponse).batch!;
    out.push(createHash('sha1').update(b.pixels).update(Buffer.from(Uint32Array.from(b.labels).buffer)).digest('hex'));
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  return out;
}

test(`${STREAMS} concurrent slow-consumer streams: all complete, identical to sequential, server memory bounded`, async () => {
  const reference = await Promise.all([0, 1].map((e) => digests(e, 0))); // also loads the dataset
  const base = processMemory(svc.pid);
  const t0 = performance.now();
  const streams = await Promise.all(Array.from({ length: STREAMS }, (_, i) => digests(i % 2, 15)));
  const seconds = (performance.now() - t0) / 1000;
  streams.forEach((s, i) => assert.deepEqual(s, reference[i % 2], `stream ${i}: every batch, in order`));
  const peak = processMemory(svc.pid);
  const epochMiB = (IMAGES * 3072) / MiB;
  if (base && peak) {
    const growth = (peak.peakRss - base.rss) / MiB;
    console.log(`data-loader: ${STREAMS} streams × ${epochMiB.toFixed(0)} MiB epochs in ${seconds.toFixed(1)} s; RSS ${(base.rss / MiB).toFixed(0)} MiB before, peak +${growth.toFixed(0)} MiB`);
    // Buffering every stream's epoch would add STREAMS × epoch (≈ 188 MiB) at once.
    assert.ok(growth < (STREAMS * epochMiB) / 2, `peak RSS grew by ${growth.toFixed(0)} MiB`);
  }
});
