import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCifarDirectory, writeCifarDirectory } from './cifar-dir.js';
import type { CifarSplit } from './cifar-format.js';
import { DataError } from './errors.js';
import { randomImages, tempDir } from './test-helpers.js';

const root = tempDir();

function split(variant: 'cifar10' | 'cifar100', count: number, numClasses: number, seed: number): CifarSplit {
  const { images, labels } = randomImages(count, numClasses, seed);
  const s: CifarSplit = { variant, images, labels, count };
  if (variant === 'cifar100') s.coarseLabels = labels.map((l) => l % 20);
  return s;
}

const names10 = Array.from({ length: 10 }, (_, i) => `class-${i}`);

describe('CIFAR directories', () => {
  it('CIFAR-10: train split over data_batch_1..5 is read back in order', () => {
    const dir = join(root, 'c10');
    const train = split('cifar10', 12, 10, 1);
    const test = split('cifar10', 4, 10, 2);
    const files = writeCifarDirectory(dir, { variant: 'cifar10', train, test, classNames: names10 });
    assert.equal(files.length, 7);
    const ds = readCifarDirectory(dir, { variant: 'cifar10' });
    assert.deepEqual(ds.classNames, names10);
    assert.deepEqual(ds.train.images, train.images);
    assert.deepEqual(ds.train.labels, train.labels);
    assert.deepEqual(ds.test.images, test.images);
    assert.equal(ds.coarseClassNames, undefined);
  });

  it('CIFAR-100: train.bin, test.bin and both name files', () => {
    const dir = join(root, 'c100');
    const train = split('cifar100', 6, 100, 3);
    const test = split('cifar100', 2, 100, 4);
    const classNames = Array.from({ length: 100 }, (_, i) => `fine-${i}`);
    writeCifarDirectory(dir, { variant: 'cifar100', train, test, classNames });
    const ds = readCifarDirectory(dir, { variant: 'cifar100' });
    assert.equal(ds.classNames.length, 100);
    assert.equal(ds.coarseClassNames?.length, 20);
    assert.deepEqual(ds.train.labels, train.labels);
    assert.deepEqual(ds.train.coarseLabels, train.coarseLabels);
    assert.deepEqual(ds.test.images, test.images);
  });

  it('missing files: one error lists them all and the expected names', () => {
    const dir = join(root, 'partial');
    writeCifarDirectory(dir, { variant: 'cifar10', train: split('cifar10', 5, 10, 5), test: split('cifar10', 1, 10, 6), classNames: names10 });
    rmSync(join(dir, 'data_batch_3.bin'));
    rmSync(join(dir, 'test_batch.bin'));
    assert.throws(
      () => readCifarDirectory(dir, { variant: 'cifar10' }),
      (err: unknown) =>
        err instanceof DataError &&
        err.file === join(dir, 'data_batch_3.bin') &&
        /is missing data_batch_3\.bin, test_batch\.bin/.test(err.message) &&
        /expected files: data_batch_1\.bin, .*batches\.meta\.txt/.test(err.message),
    );
  });

  it('pointing at the archive parent suggests the nested folder', () => {
    const parent = join(root, 'parent');
    mkdirSync(join(parent, 'cifar-10-batches-bin'), { recursive: true });
    assert.throws(() => readCifarDirectory(parent, { variant: 'cifar10' }), /point at .*cifar-10-batches-bin instead/);
  });

  it('a directory that does not exist is reported as such', () => {
    const dir = join(root, 'does-not-exist');
    assert.throws(
      () => readCifarDirectory(dir, { variant: 'cifar100' }),
      (err: unknown) => err instanceof DataError && err.file === dir && /does not exist.*train\.bin, test\.bin/.test(err.message),
    );
  });

  it('class-name count must match the number of classes', () => {
    const dir = join(root, 'names');
    writeCifarDirectory(dir, { variant: 'cifar10', train: split('cifar10', 5, 10, 7), test: split('cifar10', 1, 10, 8), classNames: names10 });
    writeFileSync(join(dir, 'batches.meta.txt'), 'a\nb\n\n');
    assert.throws(
      () => readCifarDirectory(dir, { variant: 'cifar10' }),
      (err: unknown) => err instanceof DataError && err.field === 'classNames' && /lists 2 class names but 10/.test(err.message),
    );
  });
});
