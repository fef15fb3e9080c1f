import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mulberry32 } from '@flowprune/common';
import { classCounts } from './dataset.js';
import { DataError } from './errors.js';
import { IDX_SYSTEM_DIRS } from './idx-sources.js';
import { encodeIdxImages, encodeIdxLabels, IDX_CLASS_FILE, IDX_IMAGE_BYTES, IDX_LAYOUT, IDX_VARIANTS, idxVariantOf, readIdxDirectory, writeIdxDirectory } from './idx.js';
import { detectFormat, loadDataset } from './registry.js';
import { tempDir } from './test-helpers.js';

const root = tempDir();
let n = 0;

/** `count` random 28x28 grey images with labels cycling through 10 classes. */
function greyImages(count: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const rng = mulberry32(seed);
  return {
    images: Uint8Array.from({ length: count * IDX_IMAGE_BYTES }, () => Math.floor(rng() * 256)),
    labels: Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10),
  };
}

/** A fresh idx folder (gzipped unless told) named `name`, with 7 train and 3 test images. */
function idxDir(name: string, gzip = true): string {
  const dir = join(root, `${n++}`, name);
  writeIdxDirectory(dir, { train: greyImages(7, 1), test: greyImages(3, 2), gzip });
  return dir;
}

/** Rewrites one of the four files (gunzipped bytes in, gzipped out when it was). */
function edit(dir: string, name: string, change: (bytes: Buffer) => Uint8Array): string {
  const gz = join(dir, `${name}.gz`);
  const path = existsSync(gz) ? gz : join(dir, name);
  const raw = path.endsWith('.gz') ? gunzipSync(readFileSync(path)) : readFileSync(path);
  const out = change(Buffer.from(raw));
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(out) : out);
  return path;
}

function rejects(dir: string, check: { file: string; offset?: number; field: string; message: RegExp }): void {
  assert.throws(
    () => loadDataset(dir, detectFormat(dir)),
    (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.deepEqual([e.file, e.offset, e.field], [check.file, check.offset, check.field]);
      assert.match(e.message, check.message);
      return true;
    },
  );
}

describe('idx reader (files written in the idx format)', () => {
  it('pads each 28x28 image by 2 pixels to 32x32 and repeats the grey plane into R, G, B', () => {
    const dir = idxDir('anything');
    const src = greyImages(7, 1);
    const ds = loadDataset(dir, detectFormat(dir));
    assert.equal(ds.format, 'idx');
    assert.deepEqual([ds.train.count, ds.test.count], [7, 3]);
    assert.deepEqual(Array.from(ds.train.labels), Array.from(src.labels));
    for (const i of [0, 6]) {
      const img = ds.train.images.subarray(i * 3072, (i + 1) * 3072);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
            const want = inside ? src.images[i * 784 + (y - 2) * 28 + (x - 2)] : 0;
            assert.equal(img[c * 1024 + y * 32 + x], want, `image ${i} c${c} y${y} x${x}`);
          }
    }
    assert.match(ds.conversion ?? '', /28x28 grey images zero-padded by 2 pixels on each side to 32x32, the grey channel repeated into R, G and B/);
  });

  it('reads raw (not gzipped) files the same as gzipped ones', () => {
    const raw = loadDataset(idxDir('plain', false), 'idx');
    const gz = loadDataset(idxDir('plain'), 'idx');
    assert.deepEqual(raw.train.images, gz.train.images);
    assert.deepEqual(raw.test.labels, gz.test.labels);
  });

  it('class names: the known list for a folder named after the dataset, else "0".."9", and classes.txt wins', () => {
    assert.deepEqual(readIdxDirectory(idxDir('fashion-mnist')).classNames, IDX_VARIANTS['fashion-mnist'].classNames);
    assert.equal(readIdxDirectory(idxDir('fashion-mnist')).variant, 'fashion-mnist');
    assert.deepEqual(readIdxDirectory(idxDir('KMNIST')).classNames.slice(0, 3), ['o', 'ki', 'su']);
    assert.deepEqual(readIdxDirectory(idxDir('mnist')).classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const other = readIdxDirectory(idxDir('my-digits'));
    assert.deepEqual([other.variant, other.classNames.join('')], [undefined, '0123456789']);
    assert.match(other.conversion ?? '', /^idx: /);
    const named = idxDir('data');
    writeFileSync(join(named, IDX_CLASS_FILE), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    assert.deepEqual(loadDataset(named, 'idx').classNames, 'abcdefghij'.split(''));
  });

  it('a link named after the dataset is recognised (data fetch --from makes one)', () => {
    const target = idxDir('x');
    const link = join(root, 'fashion-mnist-link');
    symlinkSync(target, link);
    assert.deepEqual(loadDataset(link, detectFormat(link)).classNames, IDX_VARIANTS['fashion-mnist'].classNames);
    assert.equal(idxVariantOf(join(root, 'nothing-here')), undefined);
  });

  it('wrong magic number: names the file and offset 0, and spots swapped files', () => {
    const dir = idxDir('magic');
    const file = edit(dir, IDX_LAYOUT.train.images, (b) => {
      b.writeUInt32BE(0x00000804, 0);
      return b;
    });
    rejects(dir, { file, offset: 0, field: 'magic', message: /wrong magic number 0x00000804 at byte offset 0 of the decompressed data; expected 0x00000803/ });

    const swapped = idxDir('swapped', false);
    const labels = join(swapped, IDX_LAYOUT.test.labels);
    writeFileSync(labels, encodeIdxImages(greyImages(3, 2).images));
    rejects(swapped, { file: labels, offset: 0, field: 'magic', message: /magic number 0x00000803 at byte offset 0; expected 0x00000801.*swapped/ });
  });

  it('truncated images file: names the file and the byte offset of the cut image', () => {
    const dir = idxDir('trunc', false);
    const file = edit(dir, IDX_LAYOUT.test.images, (b) => b.subarray(0, 16 + 2 * 784 + 100));
    rejects(dir, { file, offset: 16 + 2 * 784, field: 'size', message: /truncated: the header announces 3 images but the file ends after 2; record 2 at byte offset 1584 has only 100 of 784 bytes/ });
  });

  it('truncated header and a cut gzip stream are reported too', () => {
    const dir = idxDir('short', false);
    const file = edit(dir, IDX_LAYOUT.train.labels, (b) => b.subarray(0, 5));
    rejects(dir, { file, offset: 5, field: 'size', message: /5 bytes is shorter than the 8-byte idx header/ });
    const gz = idxDir('cutgz');
    const path = join(gz, `${IDX_LAYOUT.train.images}.gz`);
    writeFileSync(path, readFileSync(path).subarray(0, 200));
    assert.throws(() => loadDataset(gz, 'idx'), (e: DataError) => e.file === path && e.field === 'gzip' && /not a complete gzip file/.test(e.message));
  });

  it('label out of range: names the file, the record and its byte offset', () => {
    const dir = idxDir('label');
    const file = edit(dir, IDX_LAYOUT.train.labels, (b) => {
      b[8 + 4] = 10;
      return b;
    });
    rejects(dir, { file, offset: 12, field: 'label', message: /label 4 \(at byte offset 12 of the decompressed data\) is 10, but the dataset has 10 classes/ });
  });

  it('image and label counts differ: names the labels file, the images file and the count offset', () => {
    const dir = idxDir('count', false);
    const file = join(dir, IDX_LAYOUT.train.labels);
    writeFileSync(file, encodeIdxLabels([1, 2, 3, 4, 5, 6]));
    rejects(dir, {
      file,
      offset: 4,
      field: 'count',
      message: new RegExp(`announces 6 labels \\(count at byte offset 4\\) but ${join(dir, IDX_LAYOUT.train.images)} announces 7 images`),
    });
  });

  it('a missing file is named, with the files expected', () => {
    const dir = idxDir('fashion-mnist');
    rmSync(join(dir, `${IDX_LAYOUT.test.labels}.gz`));
    assert.throws(
      () => loadDataset(dir, detectFormat(dir)),
      (e: DataError) =>
        e.field === 'missing' && /^Fashion-MNIST directory .* is missing t10k-labels-idx1-ubyte\.gz; expected files: train-images-idx3-ubyte\.gz/.test(e.message),
    );
  });
});

const fashion = IDX_SYSTEM_DIRS['fashion-mnist'] ?? '';
const installed = existsSync(fashion);

describe('the real Fashion-MNIST files (Debian package dataset-fashion-mnist)', { skip: !installed && `${fashion} is absent (apt-get install dataset-fashion-mnist)` }, () => {
  it('60,000 / 10,000 images, ten classes of 6,000 / 1,000, the first labels as published', () => {
    assert.equal(detectFormat(fashion), 'idx');
    const ds = loadDataset(fashion, 'idx');
    assert.deepEqual([ds.train.count, ds.test.count], [60_000, 10_000]);
    assert.deepEqual(ds.classNames, IDX_VARIANTS['fashion-mnist'].classNames);
    assert.deepEqual(classCounts(ds.train, 10), new Array(10).fill(6000));
    assert.deepEqual(classCounts(ds.test, 10), new Array(10).fill(1000));
    // As python3's gzip module reads the files (train: 9 = Ankle boot, 0 = T-shirt/top, ...).
    assert.deepEqual(Array.from(ds.train.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert.deepEqual(Array.from(ds.test.labels.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // The first training image's 784 grey pixels sum to 76,247; padding adds zeros, R, G and B repeat it.
    const first = ds.train.images.subarray(0, 3072);
    assert.equal(first.reduce((a, b) => a + b, 0), 3 * 76_247);
  });
});
