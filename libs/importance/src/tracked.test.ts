// TrackedImportance against hand computations of docs/pruning-semantics.md §8.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FilterLayer } from '@flowprune/models';
import { TrackedImportance } from './tracked.js';

// One layer, 2 filters with fan-in 2: W = [[1, −2], [3, 0.5]].
const layer: FilterLayer = { index: 0, conv: 'c.weight', bn: 'bn', outChannels: 2, inChannels: 2, groups: 1, kernel: 1, stride: 1, fanIn: 2 };
const W = Float32Array.from([1, -2, 3, 0.5]);
const W0 = Float32Array.from([0.5, -1, 3.5, 0.5]);
const g1 = Float32Array.from([0.5, 0.25, -1, 2]);
const g2 = Float32Array.from([-1, 1, 0, 4]);

const close = (a: number[][], e: number[][]) =>
  a.forEach((row, l) => row.forEach((v, i) => assert.ok(Math.abs(v - e[l][i]) < 1e-12, `[${l}][${i}] ${v} vs ${e[l][i]}`)));

test('biased_loss_tracked with use_l2: M ← α·Σ|W|·|W·g| + (1 − α)·M from zeros', () => {
  const t = new TrackedImportance([layer], { useL2: true });
  assert.deepEqual(t.values(), [[0, 0]]);
  t.update([{ weight: W, grad: g1 }]);
  // Σ_j |W_j|·|W_j g_j| = Σ W_j²|g_j|: filter 0: 1·0.5 + 4·0.25 = 1.5; filter 1: 9·1 + 0.25·2 = 9.5.
  close(t.values(), [[0.8 * 1.5, 0.8 * 9.5]]);
  t.update([{ weight: W, grad: g2 }]);
  // new: filter 0: 1·1 + 4·1 = 5; filter 1: 9·0 + 0.25·4 = 1.
  close(t.values(), [[0.8 * 5 + 0.2 * 1.2, 0.8 * 1 + 0.2 * 7.6]]);
  t.reset();
  assert.deepEqual(t.values(), [[0, 0]]);
});

test('use_l2 with use_init reduces with |W − W0|; alpha is honoured', () => {
  const t = new TrackedImportance([layer], { useL2: true, useInit: true, alpha: 0.5 });
  t.update([{ weight: W, grad: g1, init: W0 }]);
  // |W−W0| = [0.5, 1, 0.5, 0]; |W g| = [0.5, 0.5, 3, 1]: filter 0: 0.25 + 0.5 = 0.75; filter 1: 1.5 + 0 = 1.5.
  close(t.values(), [[0.5 * 0.75, 0.5 * 1.5]]);
  assert.throws(() => t.update([{ weight: W, grad: g1 }]), /use_init needs θ₀/);
});

test('per-filter measures track without use_l2; the invalid combinations are refused', () => {
  const t = new TrackedImportance([layer], { measure: 'tfo', alpha: 1 });
  t.update([{ weight: W, grad: g1 }]);
  close(t.values(), [[Math.abs(0.5 - 0.5), Math.abs(-3 + 1)]]);
  const f = new TrackedImportance([layer], { measure: 'fisher', alpha: 1 });
  f.update([{ weight: W, grad: g2 }]);
  close(f.values(), [[1 * 1 + 4 * 1, 9 * 0 + 0.25 * 16]]);
  assert.throws(() => new TrackedImportance([layer], {}), /needs use_l2/);
  assert.throws(() => new TrackedImportance([layer], { measure: 'loss_based', useL2: true }), /use_l2 reduces per-weight measures only/);
  assert.throws(() => new TrackedImportance([layer], { alpha: 0, useL2: true }), /alpha/);
});

test('only the last track_batches minibatches of an epoch are tracked; reset takes the pruned layers', () => {
  const t = new TrackedImportance([layer], { useL2: true, trackBatches: 3 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((b) => t.tracks(b, 7)), [false, false, false, false, true, true, true]);
  t.reset([{ ...layer, outChannels: 1 }]);
  assert.deepEqual(t.values(), [[0]]);
  assert.throws(() => t.update([{ weight: W, grad: g1 }]), /weight and grad need 2 values/);
});
