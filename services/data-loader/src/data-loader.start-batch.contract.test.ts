// Contract: start_batch re-opens an epoch where a broken stream stopped — the same batches
// (pixels, augmentation, indices) as the tail of the whole stream, with whole-epoch indices.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, Split, type ImageBatch, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';

let svc: LaunchedService;
let client: DataLoaderServiceClient;

before(async () => {
  const dir = tempDir('dl-start');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 10, testPerClass: 2, seed: 8 });
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  client = makeClient(DataLoaderServiceClient, svc.address);
});

after(async () => {
  client?.close();
  await svc?.stop();
});

async function batches(over: Partial<StreamBatchesRequest>): Promise<ImageBatch[]> {
  const req: StreamBatchesRequest = {
    dataset: { name: 'syn' },
    split: Split.SPLIT_TRAIN,
    batchSize: 16,
    seed: 3,
    epoch: 2,
    shuffle: true,
    augment: true,
    shardIndex: 0,
    shardCount: 1,
    maxSamples: 0,
    ...over,
  };
  const out: ImageBatch[] = [];
  for await (const m of client.streamBatches(req)) out.push((m as StreamBatchesResponse).batch!);
  return out;
}

test('start_batch yields the tail of the epoch, byte for byte, with whole-epoch indices', async () => {
  const whole = await batches({});
  assert.equal(whole.length, 7); // 100 samples in batches of 16
  for (const start of [1, 4, 6]) {
    const tail = await batches({ startBatch: start });
    assert.deepEqual(tail.map((b) => b.index), whole.slice(start).map((b) => b.index));
    for (const [i, b] of tail.entries()) {
      const w = whole[start + i];
      assert.ok(Buffer.from(b.pixels).equals(Buffer.from(w.pixels)), `batch ${b.index}: same augmented pixels`);
      assert.deepEqual(b.sampleIndices, w.sampleIndices);
      assert.deepEqual(b.labels, w.labels);
    }
  }
  assert.deepEqual(await batches({ startBatch: 7 }), [], 'past the end: an empty stream');
  // With a max_samples limit and a shard, indices still count from the limited shard's start.
  const limited = await batches({ maxSamples: 40, shardIndex: 1, shardCount: 2 });
  const limitedTail = await batches({ maxSamples: 40, shardIndex: 1, shardCount: 2, startBatch: 1 });
  assert.deepEqual(limitedTail.map((b) => b.sampleIndices), limited.slice(1).map((b) => b.sampleIndices));
});
