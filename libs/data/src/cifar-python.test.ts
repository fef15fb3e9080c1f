import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cifarBatchDict, decodeCifarPickle, readCifarPythonDirectory, writeCifarPythonDirectory } from './cifar-python.js';
import type { CifarSplit } from './cifar-format.js';
import { DataError } from './errors.js';
import { NdArray } from './pickle-values.js';
import { writePickle } from './pickle-writer.js';
import { catchDataError, fixturePixels, randomImages, tempDir } from './test-helpers.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const root = tempDir();
const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function split10(count: number, seed: number): CifarSplit {
  const { images, labels } = randomImages(count, 10, seed);
  return { variant: 'cifar10', images, labels, count };
}

describe('CIFAR python layout: reference files made by Python', () => {
  it('cifar-10-batches-py (Python 2 cPickle bytes): five train batches in order, test batch, label names', () => {
    const ds = readCifarPythonDirectory(join(TESTDATA, 'cifar-10-batches-py'), { variant: 'cifar10' });
    assert.deepEqual(ds.classNames, CIFAR10_NAMES);
    assert.equal(ds.train.count, 10);
    assert.equal(ds.test.count, 3);
    const trainPixels = Buffer.concat([1, 2, 3, 4, 5].map((f) => fixturePixels(f, 2)));
    assert.deepEqual(Buffer.from(ds.train.images), trainPixels);
    assert.deepEqual(Array.from(ds.train.labels), [1, 2, 3, 4, 5].flatMap((f) => [(f * 3) % 10, (f * 3 + 1) % 10]));
    assert.deepEqual(Buffer.from(ds.test.images), Buffer.from(fixturePixels(6, 3)));
    assert.deepEqual(Array.from(ds.test.labels), [8, 9, 0]);
  });

  it('cifar-100-python (Python 3, protocol 2, bytes keys): fine and coarse labels and names', () => {
    const ds = readCifarPythonDirectory(join(TESTDATA, 'cifar-100-python'), { variant: 'cifar100' });
    assert.equal(ds.classNames.length, 100);
    assert.equal(ds.classNames[42], 'fine42');
    assert.deepEqual(ds.coarseClassNames?.slice(0, 2), ['coarse00', 'coarse01']);
    const fine = [0, 1, 2, 3].map((i) => (37 + i * 11) % 100);
    assert.deepEqual(Array.from(ds.train.labels), fine);
    assert.deepEqual(Array.from(ds.train.coarseLabels ?? []), fine.map((x) => x % 20));
    assert.deepEqual(Buffer.from(ds.train.images), Buffer.from(fixturePixels(1, 4)));
    assert.deepEqual(Buffer.from(ds.test.images), Buffer.from(fixturePixels(2, 2)));
  });

  it('single batches in protocol 4 and 5 with str keys', () => {
    for (const p of [4, 5]) {
      const s = decodeCifarPickle(readFileSync(join(TESTDATA, `protocol${p}.pickle`)), 'p', { variant: 'cifar10' });
      assert.deepEqual(Array.from(s.labels), [((10 + p) * 3) % 10, ((10 + p) * 3 + 1) % 10]);
      assert.deepEqual(Buffer.from(s.images), Buffer.from(fixturePixels(10 + p, 2)));
    }
  });
});

describe('CIFAR python layout: write and read back', () => {
  it('CIFAR-10 and CIFAR-100 directories round-trip', () => {
    const train = split10(23, 1);
    const test = split10(4, 2);
    writeCifarPythonDirectory(join(root, 'c10'), { variant: 'cifar10', train, test, classNames: CIFAR10_NAMES });
    const ds = readCifarPythonDirectory(join(root, 'c10'), { variant: 'cifar10' });
    assert.deepEqual(ds.train.images, train.images);
    assert.deepEqual(ds.train.labels, train.labels);
    assert.deepEqual(ds.test.labels, test.labels);

    const { images, labels } = randomImages(6, 100, 3);
    const c100: CifarSplit = { variant: 'cifar100', images, labels, coarseLabels: labels.map((l) => l % 20), count: 6 };
    const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
    writeCifarPythonDirectory(join(root, 'c100'), { variant: 'cifar100', train: c100, test: c100, classNames: names });
    const ds100 = readCifarPythonDirectory(join(root, 'c100'), { variant: 'cifar100' });
    assert.deepEqual(ds100.train.coarseLabels, c100.coarseLabels);
    assert.deepEqual(ds100.classNames, names);
  });
});

describe('CIFAR python layout: bad files', () => {
  const good = (): Uint8Array => writePickle(cifarBatchDict(split10(3, 4), 'b'));

  it('truncated batch file: names the file and the offset', () => {
    const dir = join(root, 'trunc');
    cpSync(join(TESTDATA, 'cifar-10-batches-py'), dir, { recursive: true });
    const path = join(dir, 'data_batch_3');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 500));
    const err = catchDataError(() => readCifarPythonDirectory(dir, { variant: 'cifar10' }));
    assert.equal(err.file, path);
    assert.ok(typeof err.offset === 'number' && err.offset > 0);
    assert.match(err.message, new RegExp(`^${path}: pickle is truncated.*byte offset ${err.offset}`));
  });

  it('corrupt byte in the opcode stream: DataError with the offset, never a crash', () => {
    const bytes = good();
    const hit: number[] = [];
    for (let at = 2; at < 200; at++) {
      const bad = Uint8Array.from(bytes);
      bad[at] ^= 0x5a;
      try {
        decodeCifarPickle(bad, 'corrupt', { variant: 'cifar10' });
      } catch (err) {
        assert.ok(err instanceof DataError, `byte ${at}: ${String(err)}`);
        assert.equal(err.file, 'corrupt');
        hit.push(at);
      }
    }
    // Flips inside names or memo indices can still decode to a valid batch; the rest must be DataErrors.
    assert.ok(hit.length > 100, `most corruptions are detected (${hit.length})`);
  });

  it('wrong record size: data rows that are not 3072 bytes', () => {
    const d = cifarBatchDict(split10(2, 5), 'b');
    d.set('data', NdArray.of(new Uint8Array(2 * 3000), [2, 3000]));
    const err = catchDataError(() => decodeCifarPickle(writePickle(d), 'rows', { variant: 'cifar10' }));
    assert.equal(err.field, 'data');
    assert.ok((err.offset ?? 0) > 0, 'offset of the pixel bytes');
    assert.match(err.message, /shape \(2, 3000\).*wrong record size/);
  });

  it('label out of range: names the field and the record', () => {
    const d = cifarBatchDict(split10(3, 6), 'b');
    d.set('labels', [1, 10, 2]);
    const err = catchDataError(() => decodeCifarPickle(writePickle(d), 'lbl', { variant: 'cifar10' }));
    assert.deepEqual([err.field, err.record], ['labels', 1]);
    assert.match(err.message, /labels\[1\] = 10 is outside 0\.\.9/);
  });

  it('label count must match the images, and the variant must match the keys', () => {
    const d = cifarBatchDict(split10(3, 7), 'b');
    d.set('labels', [1, 2]);
    assert.match(catchDataError(() => decodeCifarPickle(writePickle(d), 'n', { variant: 'cifar10' })).message, /2 entries but 'data' has 3/);
    const c10 = writePickle(cifarBatchDict(split10(2, 8), 'b'));
    assert.match(catchDataError(() => decodeCifarPickle(c10, 'v', { variant: 'cifar100' })).message, /no 'fine_labels'.*CIFAR-10 file/);
  });

  it('missing files are listed together', () => {
    const dir = join(root, 'missing');
    cpSync(join(TESTDATA, 'cifar-10-batches-py'), dir, { recursive: true });
    rmSync(join(dir, 'data_batch_4'));
    rmSync(join(dir, 'batches.meta'));
    const err = catchDataError(() => readCifarPythonDirectory(dir, { variant: 'cifar10' }));
    assert.equal(err.file, join(dir, 'data_batch_4'));
    assert.match(err.message, /is missing data_batch_4, batches\.meta/);
  });
});
