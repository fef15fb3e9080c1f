import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentChwToHwc, augmentParams } from './augment.js';
import { batchCount, epochOrder, iterateBatches, planEpoch, type BatchOptions, type BatchSource } from './batches.js';
import { chwToHwc } from './layout.js';
import { randomImages } from './test-helpers.js';

const N = 53;
const { images, labels } = randomImages(N, 10, 11);
const source: BatchSource = { images, labels, count: N };

function streamBytes(opts: BatchOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const b of iterateBatches(source, opts)) {
    parts.push(b.pixels, new Uint8Array(b.labels.buffer), new Uint8Array(b.indices.buffer));
  }
  return Buffer.concat(parts);
}

describe('epoch order', () => {
  it('is a permutation, fixed by (seed, epoch), different across epochs and seeds', () => {
    const a = epochOrder(N, 1, 0);
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
    assert.deepEqual(epochOrder(N, 1, 0), a);
    assert.notDeepEqual(epochOrder(N, 1, 1), a);
    assert.notDeepEqual(epochOrder(N, 2, 0), a);
  });

  it('shards partition the epoch: disjoint, union is everything, sizes differ by at most one', () => {
    for (const shards of [1, 2, 3, 7, 60]) {
      const seen = new Set<number>();
      const sizes: number[] = [];
      for (let i = 0; i < shards; i++) {
        const plan = planEpoch(N, { seed: 4, epoch: 2, shard: { index: i, count: shards } });
        sizes.push(plan.indices.length);
        for (const idx of plan.indices) {
          assert.ok(!seen.has(idx), `index ${idx} in two shards`);
          seen.add(idx);
        }
      }
      assert.equal(seen.size, N);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  });

  it('rejects an invalid shard', () => {
    assert.throws(() => planEpoch(N, { seed: 0, epoch: 0, shard: { index: 3, count: 3 } }), RangeError);
  });
});

describe('batches', () => {
  it('same (seed, epoch) gives an identical byte stream; another epoch a different one', () => {
    const opts: BatchOptions = { seed: 9, epoch: 3, batchSize: 8, augment: true };
    assert.deepEqual(streamBytes(opts), streamBytes({ ...opts }));
    assert.notDeepEqual(streamBytes(opts), streamBytes({ ...opts, epoch: 4 }));
  });

  it('splits into batches of batchSize with a smaller last batch', () => {
    const sizes = [...iterateBatches(source, { seed: 0, epoch: 0, batchSize: 10 })].map((b) => b.size);
    assert.deepEqual(sizes, [10, 10, 10, 10, 10, 3]);
    assert.equal(batchCount(N, 10), 6);
    assert.equal(batchCount(N, 10, { index: 1, count: 2 }), 3); // 26 samples
  });

  it('without shuffle or augmentation it is the dataset in order, converted to HWC', () => {
    const batches = [...iterateBatches(source, { seed: 0, epoch: 0, batchSize: 16, shuffle: false })];
    const all = batches.flatMap((b) => [...b.indices]);
    assert.deepEqual(all, Array.from({ length: N }, (_, i) => i));
    const b = batches[1];
    assert.equal(b.pixels.length, 16 * 3072);
    for (let k = 0; k < b.size; k++) {
      assert.deepEqual(b.pixels.subarray(k * 3072, (k + 1) * 3072), chwToHwc(images, b.indices[k] * 3072));
      assert.equal(b.labels[k], labels[b.indices[k]]);
    }
    assert.ok(b.labels instanceof Int32Array);
  });

  it('augmentation is keyed by epoch position, so sharding does not change a sample', () => {
    const opts: BatchOptions = { seed: 5, epoch: 1, batchSize: 4, augment: true };
    const full = new Map<number, Uint8Array>();
    for (const b of iterateBatches(source, opts)) {
      for (let k = 0; k < b.size; k++) full.set(b.indices[k], b.pixels.slice(k * 3072, (k + 1) * 3072));
    }
    for (const b of iterateBatches(source, { ...opts, shard: { index: 1, count: 3 } })) {
      for (let k = 0; k < b.size; k++) {
        assert.deepEqual(b.pixels.subarray(k * 3072, (k + 1) * 3072), full.get(b.indices[k]));
        const expected = new Uint8Array(3072);
        augmentChwToHwc(images, b.indices[k] * 3072, augmentParams(5, 1, b.positions[k]), expected, 0);
        assert.deepEqual(b.pixels.subarray(k * 3072, (k + 1) * 3072), expected);
      }
    }
  });

  it('batch arrays are compact (own their buffers) for sending on the wire', () => {
    const [b] = iterateBatches(source, { seed: 1, epoch: 0, batchSize: 5 });
    assert.equal(b.indices.buffer.byteLength, 5 * 4);
    assert.equal(b.labels.buffer.byteLength, 5 * 4);
    assert.equal(b.pixels.buffer.byteLength, 5 * 3072);
  });
});
