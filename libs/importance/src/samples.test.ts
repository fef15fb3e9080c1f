// The sample rules of docs/reference-fixtures.md §4 on small synthetic data: whole batches until the
// budget is reached, class groups = first images of each class in order.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { buildNetwork, Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { firstOrderStatistics } from './first-order.js';
import { batchListData, checkBatches, classGroupsInOrder, splitIntoBatches } from './samples.js';

const labels = [3, 1, 3, 0, 2, 1, 0, 2, 3, 1];
/** Image i has every byte equal to i, so groups can be read back. */
const pixels = Uint8Array.from({ length: labels.length * 3072 }, (_, j) => Math.floor(j / 3072));

before(async () => {
  await initBackend({ log: () => undefined });
});

test('batches split in order; the budget is checked before each batch (whole batches only)', async () => {
  const batches = splitIntoBatches(pixels, labels, 4);
  assert.deepEqual(batches.map((b) => b.count), [4, 4, 2]);
  assert.deepEqual(Array.from(batches[1].labels), [2, 1, 0, 2]);
  const model = Model.init(buildNetwork('resnet56', 4), 1);
  for (const [imp, used] of [[1, [4]], [4, [4]], [5, [4, 4]], [9, [4, 4, 2]], [100, [4, 4, 2]]] as const) {
    const s = await firstOrderStatistics(model, batchListData(batches), { temperature: 5, impSamples: imp });
    assert.deepEqual(s.batchWeights, used, `imp_samples ${imp}`);
  }
  model.dispose();
});

test('class groups hold the first images of each class in order, or name the short classes', () => {
  const batches = splitIntoBatches(pixels, labels, 3);
  const groups = classGroupsInOrder(batches, 2, 4);
  assert.deepEqual(groups.map((g) => [g.pixels[0], g.pixels[3072]]), [[3, 6], [1, 5], [4, 7], [0, 2]]);
  assert.deepEqual(groups.map((g) => Array.from(g.labels)), [[0, 0], [1, 1], [2, 2], [3, 3]]);
  assert.throws(() => classGroupsInOrder(batches, 3, 4), /class 0 has 2, class 2 has 2/);
  assert.throws(() => checkBatches(batches, 3), /batches\[0\]: label 3 of image 0 is outside 0\.\.2/);
});
