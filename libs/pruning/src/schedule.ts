// The per-round pruning ratios and the paper's integer p_cumulative (docs/pruning-semantics.md §4).

export class ScheduleError extends Error {
  readonly kind = 'invalid-argument';
}

/** r_k = p / (k·p + n·(1 − p)), k = 1..n: removing r_k of the current entries each round leaves 1 − p. */
export function defaultRatios(pTotal: number, nRounds: number): number[] {
  if (!(pTotal >= 0 && pTotal <= 0.95)) throw new ScheduleError(`prune_percent must be in 0..95, got ${pTotal * 100}`);
  if (!Number.isInteger(nRounds) || nRounds < 1) throw new ScheduleError(`n_rounds must be a positive integer, got ${nRounds}`);
  return Array.from({ length: nRounds }, (_, i) => pTotal / ((i + 1) * pTotal + nRounds * (1 - pTotal)));
}

/** Manual cumulative percentages of the original filters: r_1 = p_1, r_i = (p_i − p_{i−1}) / (1 − p_{i−1}). */
export function thresholdRatios(thresholds: number[]): number[] {
  if (thresholds.length === 0) throw new ScheduleError('thresholds must not be empty');
  const p = thresholds.map((t) => t / 100);
  p.forEach((v, i) => {
    if (!(v > 0 && v < 1)) throw new ScheduleError(`thresholds[${i}] = ${thresholds[i]} must be in (0, 100)`);
    if (i > 0 && v <= p[i - 1]) throw new ScheduleError(`thresholds must increase: ${thresholds[i - 1]} then ${thresholds[i]}`);
  });
  return p.map((v, i) => (i === 0 ? v : (v - p[i - 1]) / (1 - p[i - 1])));
}

/** p_cumulative ← int(p_cumulative · (1 − r)): truncation accumulates, as in the original. */
export function nextPCumulative(pCumulative: number, ratio: number): number {
  return Math.trunc(pCumulative * (1 - ratio));
}
