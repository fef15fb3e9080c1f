// Contract test: every dataset format through the real data-loader process, and the stream's
// reproducibility: byte-identical per (seed, epoch), another order per epoch, shards partitioning.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  generateSyntheticCifar10,
  IDX_VARIANTS,
  iterateBatches,
  loadDataset,
  writeIdxDirectory,
  writeCifarPythonDirectory,
  type BatchOptions,
} from '@flowprune/data';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, Split, type ImageBatch, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';
import { mulberry32 } from '@flowprune/common';

let svc: LaunchedService;
let client: DataLoaderServiceClient;
const dir = tempDir('dl-formats');
const PER_CLASS = 13; // 130 train images: batches of 32 leave a short last one
let idxTrain: { images: Uint8Array; labels: Uint8Array };

before(async () => {
  const opts = { trainPerClass: PER_CLASS, testPerClass: 2, seed: 5 };
  for (const format of ['binary', 'python', 'image-folder'] as const) generateSyntheticCifar10({ dir: join(dir, format), format, ...opts });
  const rng = mulberry32(3);
  const rand = (n: number) => {
    const images = Uint8Array.from({ length: n * 3072 }, () => Math.floor(rng() * 256));
    const labels = Uint8Array.from({ length: n }, (_, i) => (i * 37) % 100);
    return { variant: 'cifar100' as const, images, labels, coarseLabels: labels.map((l) => l % 20), count: n };
  };
  writeCifarPythonDirectory(join(dir, 'py100'), { variant: 'cifar100', train: rand(40), test: rand(10), classNames: Array.from({ length: 100 }, (_, i) => `f${i}`) });
  const grey = (n: number) => ({ images: Uint8Array.from({ length: n * 784 }, () => Math.floor(rng() * 256)), labels: Uint8Array.from({ length: n }, (_, i) => i % 10) });
  idxTrain = grey(20);
  writeIdxDirectory(join(dir, 'fashion-mnist'), { train: idxTrain, test: grey(10) });
  const datasets = ['bin=binary', 'py=python', 'img=image-folder', 'py100=py100', 'fm=fashion-mnist'].flatMap((s) => ['--dataset', s.replace('=', `=${dir}/`)]);
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: datasets });
  client = makeClient(DataLoaderServiceClient, svc.address);
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0);
});

const base: StreamBatchesRequest = {
  dataset: { name: 'bin' },
  split: Split.SPLIT_TRAIN,
  batchSize: 32,
  seed: 7,
  epoch: 0,
  shuffle: true,
  augment: true,
  shardIndex: 0,
  shardCount: 1,
  maxSamples: 0,
};

async function batches(req: Partial<StreamBatchesRequest>): Promise<ImageBatch[]> {
  const out: ImageBatch[] = [];
  for await (const m of client.streamBatches({ ...base, ...req })) out.push((m as StreamBatchesResponse).batch!);
  return out;
}

/** The whole stream as one byte string: pixels, labels and sample indices of every batch. */
const bytes = (bs: ImageBatch[]): Buffer =>
  Buffer.concat(bs.flatMap((b) => [Buffer.from(b.pixels), Buffer.from(Uint32Array.from(b.labels).buffer), Buffer.from(Uint32Array.from(b.sampleIndices).buffer)]));

test('Describe: format, classes and counts for every format', async () => {
  const d = async (name: string) => call(client, client.describe, { dataset: { name } });
  const [bin, py, img, py100] = await Promise.all(['bin', 'py', 'img', 'py100'].map(d));
  assert.deepEqual([bin.format, py.format, img.format, py100.format], ['cifar10-binary', 'cifar10-python', 'image-folder', 'cifar100-python']);
  for (const x of [bin, py, img]) {
    assert.deepEqual([x.numClasses, x.trainSize, x.testSize, x.height, x.width, x.channels], [10, 130, 20, 32, 32, 3]);
    assert.deepEqual(x.trainClassCounts, new Array(10).fill(PER_CLASS));
  }
  assert.deepEqual(py.classNames, bin.classNames);
  assert.deepEqual(img.classNames, [...bin.classNames].sort()); // ImageFolder: sorted folder names
  assert.deepEqual([py100.numClasses, py100.trainSize, py100.classNames[99]], [100, 40, 'f99']);
  assert.deepEqual([bin.conversion, img.conversion], ['', '']);
});

test('idx (a folder named fashion-mnist): Describe says how the 28x28 grey images became 32x32x3; the stream serves them so', async () => {
  const fm = await call(client, client.describe, { dataset: { name: 'fm' } });
  assert.deepEqual([fm.format, fm.numClasses, fm.trainSize, fm.testSize, fm.height, fm.width, fm.channels], ['idx', 10, 20, 10, 32, 32, 3]);
  assert.deepEqual(fm.classNames, IDX_VARIANTS['fashion-mnist'].classNames);
  assert.equal(fm.conversion, 'Fashion-MNIST: 28x28 grey images zero-padded by 2 pixels on each side to 32x32, the grey channel repeated into R, G and B');
  const [b] = await batches({ dataset: { name: 'fm' }, batchSize: 20, augment: false });
  // Pixels are HWC on the wire: (y, x, c).
  b.sampleIndices.forEach((s, k) => {
    assert.equal(b.labels[k], idxTrain.labels[s]);
    const px = (y: number, x: number, c: number) => b.pixels[k * 3072 + (y * 32 + x) * 3 + c];
    assert.deepEqual([px(0, 0, 0), px(31, 31, 2), px(1, 15, 1)], [0, 0, 0], 'zero border');
    for (const [y, x] of [[2, 2], [29, 29], [10, 17]]) {
      const grey = idxTrain.images[s * 784 + (y - 2) * 28 + (x - 2)];
      assert.deepEqual([px(y, x, 0), px(y, x, 1), px(y, x, 2)], [grey, grey, grey], `sample ${s} (${y}, ${x})`);
    }
  });
});

test('the same (seed, epoch) gives a byte-identical stream; another epoch or seed another order', async () => {
  const a = await batches({});
  assert.deepEqual(a.map((b) => b.count), [32, 32, 32, 32, 2]);
  assert.ok(bytes(a).equals(bytes(await batches({}))), 'same (seed, epoch): same bytes');
  const e1 = await batches({ epoch: 1 });
  assert.notDeepEqual(e1[0].sampleIndices, a[0].sampleIndices, 'epoch 1 visits samples in another order');
  assert.deepEqual(e1.flatMap((b) => b.sampleIndices).sort((x, y) => x - y), a.flatMap((b) => b.sampleIndices).sort((x, y) => x - y));
  assert.notDeepEqual((await batches({ seed: 8 }))[0].sampleIndices, a[0].sampleIndices);
});

test('the stream is exactly the in-process batches, and binary and python layouts serve the same bytes', async () => {
  const ds = loadDataset(join(dir, 'binary'), 'cifar10-binary');
  const opts: BatchOptions = { seed: 7, epoch: 3, batchSize: 32, augment: true };
  const local = [...iterateBatches(ds.train, opts)];
  const remote = await batches({ epoch: 3 });
  assert.equal(remote.length, local.length);
  remote.forEach((b, i) => {
    assert.ok(Buffer.from(b.pixels).equals(Buffer.from(local[i].pixels)), `batch ${i} pixels`);
    assert.deepEqual(b.labels, Array.from(local[i].labels));
    assert.deepEqual(b.sampleIndices, Array.from(local[i].indices));
  });
  assert.ok(bytes(remote).equals(bytes(await batches({ dataset: { name: 'py' }, epoch: 3 }))));
});

test('shards partition the epoch: disjoint, complete, each sample augmented as in the whole epoch', async () => {
  const whole = await batches({ epoch: 2 });
  const pixelsOf = new Map<number, Buffer>();
  for (const b of whole) b.sampleIndices.forEach((s, k) => pixelsOf.set(s, Buffer.from(b.pixels.subarray(k * 3072, (k + 1) * 3072))));
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const b of await batches({ epoch: 2, shardIndex: i, shardCount: 3 })) {
      b.sampleIndices.forEach((s, k) => assert.ok(Buffer.from(b.pixels.subarray(k * 3072, (k + 1) * 3072)).equals(pixelsOf.get(s)!), `sample ${s}`));
      seen.push(...b.sampleIndices);
    }
  }
  assert.equal(seen.length, 130, 'no sample twice');
  assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: 130 }, (_, i) => i));
});

test('test split: unshuffled, unaugmented, in file order; image folders and CIFAR-100 stream too', async () => {
  const t = await batches({ split: Split.SPLIT_TEST, shuffle: false, augment: false, batchSize: 8 });
  assert.deepEqual(t.flatMap((b) => b.sampleIndices), Array.from({ length: 20 }, (_, i) => i));
  const img = await batches({ dataset: { name: 'img' }, batchSize: 64 });
  assert.equal(img.reduce((n, b) => n + b.count, 0), 130);
  const c100 = await batches({ dataset: { name: 'py100' }, batchSize: 16 });
  assert.ok(c100.every((b) => b.labels.every((l) => l < 100)));
  const g = await call(client, client.sampleBalanced, { dataset: { name: 'img' }, split: Split.SPLIT_TRAIN, perClass: 2, seed: 0, epoch: 0, shuffle: true, augment: false });
  assert.deepEqual(g.groups.map((x) => x.labels), Array.from({ length: 10 }, (_, c) => [c, c]));
});
