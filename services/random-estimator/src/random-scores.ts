// The random-ranking baseline: every channel gets an independent U(0, 1) score, reproducible from
// (seed, layer) alone. Pruning by it removes a uniformly random set of channels per step under the
// pipeline's usual rules (global ranking, 95 % cap, ResNet floor), the control any importance
// measure has to beat.
import { hashSeed, mulberry32 } from '@flowprune/common';

export function randomScores(widths: readonly number[], seed: number): number[][] {
  return widths.map((n, layer) => {
    const rand = mulberry32(hashSeed(seed, layer));
    return Array.from({ length: n }, () => rand());
  });
}
