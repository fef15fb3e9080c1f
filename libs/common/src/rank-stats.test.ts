// Reference values from SciPy 1.x (scipy.stats.spearmanr / kendalltau, variant 'b').
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { averageRanks, jaccard, kendallTauB, kendallTauBPairs, spearman, median } from './rank-stats.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('average ranks share tied positions', () => {
  assert.deepEqual(averageRanks([10, 30, 20, 20]), [1, 4, 2.5, 2.5]);
});

test('Spearman and Kendall without ties', () => {
  const a = [1, 2, 3, 4, 5];
  const b = [2, 1, 4, 3, 5];
  close(spearman(a, b), 0.8, 'spearman'); // 1 − 6·4/(5·24)
  close(kendallTauB(a, b), 0.6, 'kendall'); // (8 − 2) / 10
  close(spearman(a, [...a].reverse()), -1, 'reversed');
});

test('Kendall τ-b with ties matches scipy.stats.kendalltau', () => {
  // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 2]).statistic = 0.4 (C 4, D 1, one tie on each side)
  close(kendallTauB([1, 2, 2, 3], [1, 3, 2, 2]), 0.4, 'tau-b');
  // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 2]).statistic = 0.5
  close(spearman([1, 2, 2, 3], [1, 3, 2, 2]), 0.5, 'spearman with ties');
});

test('a constant side has no correlation', () => {
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(kendallTauB([1, 1, 1], [1, 2, 3])));
});

test('Jaccard overlap', () => {
  close(jaccard(new Set([1, 2, 3]), new Set([2, 3, 4])), 0.5, 'jaccard');
  assert.equal(jaccard(new Set(), new Set()), 1);
});

test('the O(n log n) Kendall equals direct pair counting, ties included', () => {
  let x = 7;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const n of [2, 3, 10, 57, 400]) {
    const a = Array.from({ length: n }, () => Math.floor(rnd() * 12));
    const b = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? a[i] : Math.floor(rnd() * 9)));
    close(kendallTauB(a, b), kendallTauBPairs(a, b), `n = ${n}`);
  }
});

test('median: the middle value, the mean of the two middle ones for an even count, NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
