// The schedule and p_cumulative against the worked examples of docs/pruning-semantics.md §4.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { defaultRatios, nextPCumulative, ScheduleError, thresholdRatios } from './schedule.js';

const cumulative = (ratios: number[]) => {
  const out: number[] = [];
  let pc = 100;
  for (const r of ratios) out.push((pc = nextPCumulative(pc, r)));
  return out;
};

test('default schedule: r_k and the truncating p_cumulative (0.75 in 25 rounds ends at 18)', () => {
  const r = defaultRatios(0.75, 25);
  assert.equal(r.length, 25);
  assert.ok(Math.abs(r[0] - 0.107143) < 1e-6 && Math.abs(r[1] - 0.096774) < 1e-6 && Math.abs(r[24] - 0.03) < 1e-12);
  assert.ok(Math.abs(r.reduce((a, x) => a * (1 - x), 1) - 0.25) < 1e-12, 'Π(1 − r_k) = 1 − p_total');
  assert.deepEqual(cumulative(r), [89, 80, 72, 66, 61, 56, 52, 48, 45, 42, 39, 37, 35, 33, 31, 29, 27, 25, 24, 23, 22, 21, 20, 19, 18]);
});

test('high ratios: 0.9/25 ends at 2; 0.95/25 reaches 0 at round 19', () => {
  assert.equal(cumulative(defaultRatios(0.9, 25)).at(-1), 2);
  assert.equal(cumulative(defaultRatios(0.95, 25)).indexOf(0) + 1, 19);
});

test('manual thresholds: r_i = (p_i − p_{i−1})/(1 − p_{i−1}); [90] gives p_cumulative 9', () => {
  assert.deepEqual(cumulative(thresholdRatios([90])), [9]);
  const r = thresholdRatios([10, 50, 80]);
  assert.ok(Math.abs(r[0] - 0.1) < 1e-15 && Math.abs(r[1] - 0.4 / 0.9) < 1e-15 && Math.abs(r[2] - 0.3 / 0.5) < 1e-15);
  assert.throws(() => thresholdRatios([50, 40]), ScheduleError);
  assert.throws(() => defaultRatios(0.99, 3), /prune_percent must be in 0\.\.95/);
});
