import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeCifarDirectory } from './cifar-dir.js';
import type { CifarSplit } from './cifar-format.js';
import { classCounts } from './dataset.js';
import { DataError } from './errors.js';
import { writeImageFolder } from './image-folder-write.js';
import { DatasetRegistry, detectFormat, InvalidDatasetNameError, loadDataset, parseDatasetSpecs, UnknownDatasetError } from './registry.js';
import { OutsideRootError } from './root-guard.js';
import { randomImages, tempDir } from './test-helpers.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const root = tempDir();

function split(variant: 'cifar10' | 'cifar100', count: number, numClasses: number, seed: number): CifarSplit {
  const { images, labels } = randomImages(count, numClasses, seed);
  return { variant, images, labels, count, coarseLabels: variant === 'cifar100' ? labels.map((l) => l % 20) : undefined };
}

// One folder of every format.
const dirs = {
  bin10: join(root, 'bin10'),
  bin100: join(root, 'bin100'),
  py10: join(TESTDATA, 'cifar-10-batches-py'),
  py100: join(TESTDATA, 'cifar-100-python'),
  images: join(root, 'images'),
};
writeCifarDirectory(dirs.bin10, { variant: 'cifar10', train: split('cifar10', 20, 10, 1), test: split('cifar10', 5, 10, 2), classNames: 'abcdefghij'.split('') });
writeCifarDirectory(dirs.bin100, {
  variant: 'cifar100',
  train: split('cifar100', 8, 100, 3),
  test: split('cifar100', 2, 100, 4),
  classNames: Array.from({ length: 100 }, (_, i) => `c${i}`),
});
writeImageFolder(dirs.images, { classNames: ['cat', 'dog'], train: { ...randomImages(6, 2, 5), count: 6 }, test: { ...randomImages(2, 2, 6), count: 2 } });

describe('dataset formats', () => {
  it('detects every format by its files and loads it into the common shape', () => {
    const expected = {
      bin10: ['cifar10-binary', 10, 20, 5],
      bin100: ['cifar100-binary', 100, 8, 2],
      py10: ['cifar10-python', 10, 10, 3],
      py100: ['cifar100-python', 100, 4, 2],
      images: ['image-folder', 2, 6, 2],
    } as const;
    for (const [key, [format, classes, train, test]] of Object.entries(expected)) {
      const dir = dirs[key as keyof typeof dirs];
      assert.equal(detectFormat(dir), format, key);
      const ds = loadDataset(dir, format);
      assert.deepEqual([ds.format, ds.classNames.length, ds.train.count, ds.test.count], [format, classes, train, test], key);
      assert.equal(ds.train.images.length, train * 3072);
      assert.equal(classCounts(ds.train, classes).reduce((a, b) => a + b, 0), train);
    }
  });

  it('a folder with no dataset, or the parent of an archive folder, gets a hint', () => {
    const parent = join(root, 'parent');
    mkdirSync(parent);
    cpSync(dirs.py10, join(parent, 'cifar-10-batches-py'), { recursive: true });
    assert.throws(() => detectFormat(parent), (e: unknown) => e instanceof DataError && /point at .*cifar-10-batches-py instead/.test(e.message));
    assert.throws(() => detectFormat(join(root, 'nowhere')), (e: unknown) => e instanceof DataError && e.field === 'format');
  });
});

describe('DatasetRegistry: a request names a dataset, never a path', () => {
  // The "secret" dataset exists on disk next to the served one but is not configured.
  const secret = join(root, 'secret');
  writeCifarDirectory(secret, { variant: 'cifar10', train: split('cifar10', 5, 10, 7), test: split('cifar10', 5, 10, 8), classNames: 'abcdefghij'.split('') });
  const registry = new DatasetRegistry(parseDatasetSpecs([`served=${dirs.bin10}`]));

  it('serves the configured name', () => {
    assert.equal(registry.get('served').train.count, 20);
    assert.deepEqual(registry.names(), ['served']);
  });

  it('path-like names are invalid and never touch the disk', () => {
    for (const name of ['../secret', 'a/../../secret', secret, '..', '.', './served', 'served/../secret', '', 'x\0y', `served${'/'}`]) {
      assert.throws(
        () => registry.get(name),
        (e: unknown) => e instanceof InvalidDatasetNameError && e.kind === 'invalid-argument' && /not a dataset name.*serves: served/.test(e.message),
        JSON.stringify(name),
      );
    }
  });

  it('a well-formed name that is not configured is unknown, even if such a folder exists', () => {
    for (const name of ['secret', 'bin100', 'Served']) {
      assert.throws(() => registry.get(name), (e: unknown) => e instanceof UnknownDatasetError && e.kind === 'not-found');
    }
  });

  it('--dataset names must be identifiers, given once', () => {
    assert.throws(() => parseDatasetSpecs([`../x=${dirs.bin10}`]), /must be letters, digits/);
    assert.throws(() => parseDatasetSpecs([`a=${dirs.bin10}`, `a=${dirs.py10}`]), /given twice/);
    assert.throws(() => parseDatasetSpecs([dirs.bin10]), /name=\/path/);
  });

  it('a failed load is not cached: fixing the files makes the dataset load', () => {
    const dir = join(root, 'later');
    mkdirSync(dir);
    cpSync(dirs.py10, dir, { recursive: true });
    const reg = new DatasetRegistry(parseDatasetSpecs([`later=${dir}`]));
    cpSync(join(dirs.py100, 'meta'), join(dir, 'batches.meta')); // wrong meta: no label_names
    assert.throws(() => reg.get('later'), (e: unknown) => e instanceof DataError && e.field === 'label_names');
    cpSync(join(dirs.py10, 'batches.meta'), join(dir, 'batches.meta'));
    assert.equal(reg.get('later').train.count, 10);
  });
});

describe('dataset roots are boundaries: files that resolve outside a root are refused', () => {
  // A CIFAR-10 binary folder outside every served root, which links inside a root point at.
  const outside = join(root, 'outside');
  writeCifarDirectory(outside, { variant: 'cifar10', train: split('cifar10', 5, 10, 11), test: split('cifar10', 5, 10, 12), classNames: 'abcdefghij'.split('') });
  let copies = 0;

  /** A copy of `src` whose `file` is replaced by a symbolic link to `target`. */
  function copyWithLink(src: string, file: string, target: string): string {
    const dir = join(root, `linked-${copies++}`);
    cpSync(src, dir, { recursive: true });
    rmSync(join(dir, file));
    symlinkSync(target, join(dir, file));
    return dir;
  }

  const refused = (fn: () => unknown, file: string) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof OutsideRootError, String(e));
      assert.equal(e.kind, 'permission-denied');
      assert.equal(e.field, 'path');
      assert.match(e.message, new RegExp(`${file}: resolves to .*outside the dataset root`));
      return true;
    });

  it('a CIFAR binary batch or class-name file linked out of the root', () => {
    for (const file of ['test_batch.bin', 'data_batch_3.bin', 'batches.meta.txt']) {
      const dir = copyWithLink(dirs.bin10, file, join(outside, file));
      refused(() => loadDataset(dir, 'cifar10-binary'), file);
      // Through the registry, as the data-loader reads it.
      refused(() => new DatasetRegistry(parseDatasetSpecs([`linked=${dir}`])).get('linked'), file);
    }
  });

  it('a CIFAR python pickle linked out of the root', () => {
    const dir = copyWithLink(dirs.py10, 'batches.meta', join(dirs.py10, 'batches.meta'));
    refused(() => loadDataset(dir, 'cifar10-python'), 'batches.meta');
  });

  it('a directory link out of the root (image folder class)', () => {
    const dir = join(root, `linked-${copies++}`);
    cpSync(dirs.images, dir, { recursive: true });
    const away = join(root, 'away-class');
    cpSync(join(dirs.images, 'train', 'cat'), away, { recursive: true });
    rmSync(join(dir, 'train', 'cat'), { recursive: true });
    symlinkSync(away, join(dir, 'train', 'cat'));
    refused(() => loadDataset(dir, 'image-folder'), 'cat');
  });

  it('links that stay inside the root, and a root that is itself a link, are served', () => {
    const dir = join(root, `linked-${copies++}`);
    cpSync(dirs.bin10, dir, { recursive: true });
    mkdirSync(join(dir, 'store'));
    cpSync(join(dir, 'test_batch.bin'), join(dir, 'store', 'test_batch.bin'));
    rmSync(join(dir, 'test_batch.bin'));
    symlinkSync(join(dir, 'store', 'test_batch.bin'), join(dir, 'test_batch.bin'));
    assert.equal(loadDataset(dir, 'cifar10-binary').test.count, 5);
    const rootLink = join(root, 'root-link');
    symlinkSync(dirs.bin10, rootLink);
    assert.equal(new DatasetRegistry(parseDatasetSpecs([`l=${rootLink}`])).get('l').train.count, 20);
  });
});
