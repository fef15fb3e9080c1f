import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCifarDirectory } from './cifar-dir.js';
import type { CifarSplit } from './cifar-format.js';
import { loadDataset } from './registry.js';
import { generateSyntheticCifar10, synthesizeCifar10 } from './synthetic.js';
import { tempDir } from './test-helpers.js';

const root = tempDir();

function dirBytes(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

/** Nearest-class-mean on raw pixels: the simplest learner that proves the classes are real. */
function nearestClassMeanAccuracy(train: CifarSplit, test: CifarSplit): number {
  const means = Array.from({ length: 10 }, () => new Float64Array(3072));
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < train.count; i++) {
    const m = means[train.labels[i]];
    counts[train.labels[i]]++;
    for (let p = 0; p < 3072; p++) m[p] += train.images[i * 3072 + p];
  }
  means.forEach((m, c) => m.forEach((v, p) => (m[p] = v / counts[c])));
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < 10; c++) {
      let dist = 0;
      for (let p = 0; p < 3072; p++) dist += (test.images[i * 3072 + p] - means[c][p]) ** 2;
      if (dist < bestDist) [best, bestDist] = [c, dist];
    }
    if (best === test.labels[i]) correct++;
  }
  return correct / test.count;
}

describe('synthetic CIFAR-10', () => {
  it('writes a real CIFAR-10 directory that the reader loads', () => {
    const dir = join(root, 'a');
    const res = generateSyntheticCifar10({ dir, trainPerClass: 11, testPerClass: 3, seed: 1 });
    assert.deepEqual(readdirSync(dir).sort(), [
      'batches.meta.txt',
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    assert.equal(res.trainCount, 110);
    // 110 train images over five files: 22 each.
    assert.equal(readFileSync(join(dir, 'data_batch_5.bin')).length, 22 * 3073);
    const ds = readCifarDirectory(dir, { variant: 'cifar10' });
    assert.equal(ds.train.count, 110);
    assert.equal(ds.test.count, 30);
    assert.equal(ds.classNames.length, 10);
    assert.equal(new Set(ds.classNames).size, 10);
    assert.match(ds.classNames[0], /^stripes-0deg-.*-red$/);
  });

  it('is deterministic: same seed gives identical bytes, a different seed different bytes', () => {
    const opts = { trainPerClass: 5, testPerClass: 2 };
    generateSyntheticCifar10({ dir: join(root, 's1'), seed: 42, ...opts });
    generateSyntheticCifar10({ dir: join(root, 's1b'), seed: 42, ...opts });
    generateSyntheticCifar10({ dir: join(root, 's2'), seed: 43, ...opts });
    const a = dirBytes(join(root, 's1'));
    const b = dirBytes(join(root, 's1b'));
    const c = dirBytes(join(root, 's2'));
    assert.deepEqual(a, b);
    for (const f of ['data_batch_1.bin', 'test_batch.bin']) assert.notDeepEqual(a.get(f), c.get(f));
  });

  it('is class-balanced with exactly perClass images per class, classes interleaved', () => {
    const { train, test } = synthesizeCifar10({ trainPerClass: 20, testPerClass: 7, seed: 3 });
    for (const [s, n] of [[train, 20], [test, 7]] as const) {
      const counts = new Array<number>(10).fill(0);
      s.labels.forEach((l) => counts[l]++);
      assert.deepEqual(counts, new Array(10).fill(n));
    }
    assert.notDeepEqual(Array.from(train.labels.subarray(0, 20)), new Array(20).fill(train.labels[0]));
  });

  it('images vary within a class (not a constant template)', () => {
    const { train } = synthesizeCifar10({ trainPerClass: 2, testPerClass: 1, seed: 9 });
    const ofClass0 = [...train.labels.keys()].filter((i) => train.labels[i] === 0);
    const [x, y] = ofClass0.map((i) => train.images.subarray(i * 3072, (i + 1) * 3072));
    let diff = 0;
    for (let p = 0; p < 3072; p++) diff += Math.abs(x[p] - y[p]);
    assert.ok(diff / 3072 > 10, `mean abs difference ${diff / 3072} too small`);
  });

  it('is learnable: nearest-class-mean on raw test pixels scores well above chance', () => {
    const { train, test } = synthesizeCifar10({ trainPerClass: 60, testPerClass: 20, seed: 5 });
    const acc = nearestClassMeanAccuracy(train, test);
    assert.ok(acc > 0.4, `nearest-class-mean accuracy ${acc} should be > 0.4`);
  });

  it('writes the same images as python pickles or as a PNG image folder', () => {
    const opts = { trainPerClass: 3, testPerClass: 1, seed: 6 };
    for (const format of ['binary', 'python', 'image-folder'] as const) generateSyntheticCifar10({ dir: join(root, `f-${format}`), format, ...opts });
    const bin = loadDataset(join(root, 'f-binary'), 'cifar10-binary');
    const py = loadDataset(join(root, 'f-python'), 'cifar10-python');
    assert.deepEqual([py.classNames, py.train.images, py.train.labels, py.test.images], [bin.classNames, bin.train.images, bin.train.labels, bin.test.images]);
    // The folder holds the same (image, class) pairs, in ImageFolder order (class, then file name).
    const img = loadDataset(join(root, 'f-image-folder'), 'image-folder');
    const pairs = (ds: typeof bin): string[] =>
      Array.from({ length: ds.train.count }, (_, i) => `${ds.classNames[ds.train.labels[i]]}:${Buffer.from(ds.train.images.subarray(i * 3072, (i + 1) * 3072)).toString('base64')}`).sort();
    assert.deepEqual(pairs(img), pairs(bin));
  });
});
