// Contract test: bad dataset files and path-escape attempts against the real data-loader process.
// Every failure is a status naming the file and the offset or field; the service stays up.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import pngjs from 'pngjs';
import {
  cifarBatchDict,
  encodeCifarBinary,
  encodeIdxLabels,
  generateSyntheticCifar10,
  IDX_LAYOUT,
  writeIdxDirectory,
  synthesizeCifar10,
  writeCifarPythonDirectory,
  writePickle,
} from '@flowprune/data';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, Split, type StreamBatchesResponse } from '@flowprune/proto';

let svc: LaunchedService;
let client: DataLoaderServiceClient;
const dir = tempDir('dl-errors');
const at = (...p: string[]): string => join(dir, ...p);

function png(width: number, height: number): Buffer {
  const img = new pngjs.PNG({ width, height });
  img.data.fill(128);
  return pngjs.PNG.sync.write(img, { colorType: 2 });
}

/** Bad datasets, each broken in one way; the data-loader only reads them when asked. */
function makeDatasets(): string[] {
  const syn = synthesizeCifar10({ trainPerClass: 3, testPerClass: 1, seed: 1 });
  const binary = (name: string): string => {
    generateSyntheticCifar10({ dir: at(name), trainPerClass: 3, testPerClass: 1, seed: 1 });
    return at(name);
  };
  const good = binary('good');

  const trunc = binary('trunc');
  const b3 = readFileSync(join(trunc, 'data_batch_3.bin'));
  writeFileSync(join(trunc, 'data_batch_3.bin'), b3.subarray(0, b3.length - 100));

  const recsize = binary('recsize');
  writeFileSync(join(recsize, 'data_batch_2.bin'), encodeCifarBinary(syn.test.images.subarray(0, 2 * 3072), [1, 2], 'cifar100', [0, 0]));

  const label = binary('label');
  const t = readFileSync(join(label, 'test_batch.bin'));
  t[2 * 3073] = 10;
  writeFileSync(join(label, 'test_batch.bin'), t);

  const missing = binary('missing');
  rmSync(join(missing, 'data_batch_4.bin'));

  const py = (name: string): string => {
    writeCifarPythonDirectory(at(name), { variant: 'cifar10', ...syn });
    return at(name);
  };
  const pytrunc = py('pytrunc');
  const tb = readFileSync(join(pytrunc, 'test_batch'));
  writeFileSync(join(pytrunc, 'test_batch'), tb.subarray(0, 1000));
  const pylabel = py('pylabel');
  const d = cifarBatchDict({ variant: 'cifar10', images: syn.test.images, labels: syn.test.labels, count: syn.test.count }, 'test');
  d.set('labels', Array.from(syn.test.labels, (l, i) => (i === 4 ? 12 : l)));
  writeFileSync(join(pylabel, 'test_batch'), writePickle(d));

  const folder = (name: string): string => {
    mkdirSync(at(name, 'train', 'cat'), { recursive: true });
    mkdirSync(at(name, 'test', 'cat'), { recursive: true });
    writeFileSync(at(name, 'train', 'cat', 'a.png'), png(32, 32));
    return at(name);
  };
  writeFileSync(join(folder('imgsize'), 'train', 'cat', 'b.png'), png(64, 48));
  writeFileSync(at('outside.png'), png(32, 32));
  symlinkSync(at('outside.png'), join(folder('imglink'), 'train', 'cat', 'link.png'));
  // idx (MNIST family), raw files so the offsets are those on disk.
  const idx = (name: string): string => {
    const grey = (n: number) => ({ images: new Uint8Array(n * 784).fill(7), labels: Uint8Array.from({ length: n }, (_, i) => i % 10) });
    writeIdxDirectory(at(name), { train: grey(6), test: grey(4), gzip: false });
    return at(name);
  };
  const idxmagic = idx('idxmagic');
  const ti = readFileSync(join(idxmagic, IDX_LAYOUT.train.images));
  ti.writeUInt32BE(0x00000801, 0);
  writeFileSync(join(idxmagic, IDX_LAYOUT.train.images), ti);
  const idxtrunc = idx('idxtrunc');
  const xi = readFileSync(join(idxtrunc, IDX_LAYOUT.test.images));
  writeFileSync(join(idxtrunc, IDX_LAYOUT.test.images), xi.subarray(0, 16 + 3 * 784 + 10));
  const idxlabel = idx('idxlabel');
  const tl = readFileSync(join(idxlabel, IDX_LAYOUT.train.labels));
  tl[8 + 5] = 200;
  writeFileSync(join(idxlabel, IDX_LAYOUT.train.labels), tl);
  const idxcount = idx('idxcount');
  writeFileSync(join(idxcount, IDX_LAYOUT.test.labels), encodeIdxLabels([0, 1, 2]));
  // A dataset folder that exists on disk but is not configured.
  cpSync(good, at('secret'), { recursive: true });

  const roots = { good, trunc, recsize, label, missing, pytrunc, pylabel, imgsize: at('imgsize'), imglink: at('imglink'), idxmagic, idxtrunc, idxlabel, idxcount };
  return Object.entries(roots).flatMap(
    ([name, root]) => ['--dataset', `${name}=${root}`],
  );
}

before(async () => {
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: makeDatasets() });
  client = makeClient(DataLoaderServiceClient, svc.address);
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0, 'data-loader exits 0 on SIGTERM');
});

const describe = (name: string) => call(client, client.describe, { dataset: { name } });

async function stream(name: string, split = Split.SPLIT_TRAIN): Promise<StreamBatchesResponse[]> {
  const out: StreamBatchesResponse[] = [];
  const s = client.streamBatches({ dataset: { name }, split, batchSize: 8, seed: 1, epoch: 0, shuffle: true, augment: false, shardIndex: 0, shardCount: 1, maxSamples: 0 });
  for await (const m of s) out.push(m as StreamBatchesResponse);
  return out;
}

const sample = (name: string) =>
  call(client, client.sampleBalanced, { dataset: { name }, split: Split.SPLIT_TRAIN, perClass: 1, seed: 0, epoch: 0, shuffle: true, augment: false });

/** Expects FAILED_PRECONDITION whose details match every pattern. */
function failed(...patterns: RegExp[]) {
  return (e: ServiceError): boolean => {
    assert.equal(e.code, status.FAILED_PRECONDITION, e.details);
    for (const p of patterns) assert.match(e.details, p);
    return true;
  };
}

/** Expects PERMISSION_DENIED (a dataset file outside its root) whose details match the pattern. */
function denied(pattern: RegExp) {
  return (e: ServiceError): boolean => {
    assert.equal(e.code, status.PERMISSION_DENIED, e.details);
    assert.match(e.details, pattern);
    return true;
  };
}

test('truncated binary file: status names the file and the byte offset of the cut record (Describe and StreamBatches)', async () => {
  const file = at('trunc', 'data_batch_3.bin');
  const size = 6 * 3073 - 100;
  const check = failed(new RegExp(`${file}: size ${size} bytes is not a multiple of the CIFAR-10 record size 3073`), /record \(index 5, at byte offset 15365\) is truncated/);
  await assert.rejects(describe('trunc'), check);
  await assert.rejects(stream('trunc'), check);
});

test('wrong record size: a CIFAR-100 file among CIFAR-10 batches', async () => {
  await assert.rejects(describe('recsize'), failed(new RegExp(`${at('recsize', 'data_batch_2.bin')}: size 6148 bytes`), /looks like a CIFAR-100 file/));
});

test('label out of range: names the file, the record and the byte offset', async () => {
  await assert.rejects(describe('label'), failed(new RegExp(`${at('label', 'test_batch.bin')}: record 2 \\(label byte at offset 6146\\) has label 10`)));
});

test('missing file: names it', async () => {
  await assert.rejects(describe('missing'), failed(new RegExp(`${at('missing')} is missing data_batch_4\\.bin`)));
});

test('python layout: truncated pickle (file + offset) and label out of range (file + field)', async () => {
  await assert.rejects(describe('pytrunc'), failed(new RegExp(`${at('pytrunc', 'test_batch')}: pickle is truncated: BINSTRING needs \\d+ bytes from offset \\d+`), /at byte offset \d+/));
  await assert.rejects(stream('pylabel', Split.SPLIT_TEST), failed(new RegExp(`${at('pylabel', 'test_batch')}: labels\\[4\\] = 12 is outside 0\\.\\.9`)));
});

test('image folder: wrong image size names the file and its size; a link out of the root is refused', async () => {
  await assert.rejects(describe('imgsize'), failed(new RegExp(`${at('imgsize', 'train', 'cat', 'b.png')}: image is 64x48; every image must be 32x32`)));
  await assert.rejects(describe('imglink'), denied(new RegExp(`${at('imglink', 'train', 'cat', 'link.png')}: resolves to .*outside\\.png, outside the dataset root`)));
});

test('idx: wrong magic number names the file and offset 0 (and spots a labels file in the images place)', async () => {
  const file = at('idxmagic', IDX_LAYOUT.train.images);
  await assert.rejects(describe('idxmagic'), failed(new RegExp(`${file}: wrong magic number 0x00000801 at byte offset 0; expected 0x00000803`), /swapped/));
});

test('idx: truncated images file names the file and the byte offset of the cut image', async () => {
  const file = at('idxtrunc', IDX_LAYOUT.test.images);
  const check = failed(new RegExp(`${file}: truncated: the header announces 4 images but the file ends after 3; record 3 at byte offset 2368 has only 10 of 784 bytes`));
  await assert.rejects(describe('idxtrunc'), check);
  await assert.rejects(stream('idxtrunc', Split.SPLIT_TEST), check);
});

test('idx: label out of range names the file, the label and its byte offset', async () => {
  await assert.rejects(describe('idxlabel'), failed(new RegExp(`${at('idxlabel', IDX_LAYOUT.train.labels)}: label 5 \\(at byte offset 13\\) is 200, but the dataset has 10 classes`)));
});

test('idx: image and label counts differ: names both files and the count offset', async () => {
  const labels = at('idxcount', IDX_LAYOUT.test.labels);
  const images = at('idxcount', IDX_LAYOUT.test.images);
  await assert.rejects(describe('idxcount'), failed(new RegExp(`${labels}: announces 3 labels \\(count at byte offset 4\\) but ${images} announces 4 images`)));
});

test('path-escape attempts: invalid or unknown names on every RPC, nothing read outside the roots', async () => {
  for (const name of ['../secret', 'good/../secret', 'a/../../secret', at('secret'), '..', './good']) {
    const invalid = (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /not a dataset name/.test(e.details) && !/data_batch|\.bin/.test(e.details);
    await assert.rejects(describe(name), invalid, name);
    await assert.rejects(stream(name), invalid, name);
    await assert.rejects(sample(name), invalid, name);
  }
  // A plain name that exists as a folder next to the roots but is not configured.
  await assert.rejects(describe('secret'), (e: ServiceError) => e.code === status.NOT_FOUND && /unknown dataset "secret"; this data-loader serves: good, trunc/.test(e.details));
});

test('the test split is never augmented', async () => {
  const s = client.streamBatches({ dataset: { name: 'good' }, split: Split.SPLIT_TEST, batchSize: 8, seed: 1, epoch: 0, shuffle: false, augment: true, shardIndex: 0, shardCount: 1, maxSamples: 0 });
  await assert.rejects(
    (async () => {
      for await (const _m of s) void _m;
    })(),
    (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /augment: the test split is never augmented/.test(e.details),
  );
});

test('after all of that the service is still up and serving', async () => {
  assert.equal(svc.child.exitCode, null);
  const d = await describe('good');
  assert.deepEqual([d.format, d.trainSize, d.testSize], ['cifar10-binary', 30, 10]);
  assert.equal((await stream('good')).length, 4);
});
