// Contract test: the generated client against the real data-loader process.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, Split, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';

let svc: LaunchedService;
let client: DataLoaderServiceClient;

before(async () => {
  const dir = tempDir('dl');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 20, testPerClass: 5, seed: 3 });
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  client = makeClient(DataLoaderServiceClient, svc.address);
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0, 'data-loader exits 0 on SIGTERM');
});

async function collect(req: Partial<StreamBatchesRequest>): Promise<StreamBatchesResponse[]> {
  const out: StreamBatchesResponse[] = [];
  const stream = client.streamBatches({
    dataset: { name: 'syn' },
    split: Split.SPLIT_TRAIN,
    batchSize: 32,
    seed: 7,
    epoch: 0,
    shuffle: true,
    augment: true,
    shardIndex: 0,
    shardCount: 0,
    maxSamples: 0,
    ...req,
  });
  for await (const m of stream) out.push(m as StreamBatchesResponse);
  return out;
}

test('Describe reports sizes and classes', async () => {
  const d = await call(client, client.describe, { dataset: { name: 'syn' } });
  assert.equal(d.numClasses, 10);
  assert.equal(d.trainSize, 200);
  assert.equal(d.testSize, 50);
  assert.deepEqual(d.trainClassCounts, new Array(10).fill(20));
  assert.equal(d.format, 'cifar10-binary');
});

test('StreamBatches is reproducible per (seed, epoch) and covers the split', async () => {
  const a = await collect({});
  const b = await collect({});
  assert.equal(a.length, 7);
  assert.equal(a[0].totalBatches, 7);
  assert.deepEqual(a.map((m) => Buffer.from(m.batch!.pixels)), b.map((m) => Buffer.from(m.batch!.pixels)));
  const seen = a.flatMap((m) => m.batch!.sampleIndices).sort((x, y) => x - y);
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
  const c = await collect({ epoch: 1 });
  assert.notDeepEqual(a[0].batch!.sampleIndices, c[0].batch!.sampleIndices, 'another epoch, another order');
  assert.equal(a[0].batch!.pixels.length, 32 * 32 * 32 * 3);
});

test('SampleBalanced returns per_class samples of every class', async () => {
  const r = await call(client, client.sampleBalanced, { dataset: { name: 'syn' }, split: Split.SPLIT_TRAIN, perClass: 3, seed: 1, epoch: 0, shuffle: true, augment: false });
  assert.equal(r.groups.length, 10);
  r.groups.forEach((g, c) => {
    assert.equal(g.count, 3);
    assert.deepEqual(g.labels, [c, c, c]);
  });
});

test('bad requests get statuses that name the field', async () => {
  await assert.rejects(call(client, client.describe, { dataset: { name: 'nope' } }), (e: ServiceError) => e.code === status.NOT_FOUND && /unknown dataset "nope".*syn/.test(e.details));
  await assert.rejects(collect({ batchSize: 0 }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /batch_size/.test(e.details));
  await assert.rejects(collect({ split: Split.SPLIT_UNSPECIFIED }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /split/.test(e.details));
  await assert.rejects(collect({ shardIndex: 3, shardCount: 2 }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /shard_index/.test(e.details));
  // The service is still up.
  const d = await call(client, client.describe, { dataset: { name: 'syn' } });
  assert.equal(d.numClasses, 10);
});
