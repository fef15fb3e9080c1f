// The run as a flat list of epochs (docs/pruning-semantics.md §9), so a run can stop after any of them and
// resume at the next.
import { defaultRatios, thresholdRatios } from '@flowprune/pruning';
import type { Phase } from './events.js';
import type { RunConfig } from './run-config.js';

export interface PlannedEpoch {
  phase: Phase;
  lr: number;
  /** 1-based pruning round that follows this epoch's training and test. */
  round?: number;
  /** That round's ratio r_k. */
  ratio?: number;
}

/**
 * Warmup: w − 1 epochs at lr_prune (quirk Q10). Rounds: one epoch each at lr_prune, then a
 * pruning step. Final training: the schedule's phases, the first shortened by n + w.
 * Base training (no measure) is the schedule alone.
 */
export function planEpochs(cfg: RunConfig): PlannedEpoch[] {
  const pruning = cfg.measure !== '';
  const ratios = !pruning ? [] : cfg.thresholds.length ? thresholdRatios(cfg.thresholds) : defaultRatios(cfg.pruneRatio, cfg.nRounds);
  const w = pruning ? cfg.warmupEpochs : 0;
  const plan: PlannedEpoch[] = [];
  for (let i = 0; i < w - 1; i++) plan.push({ phase: 'warmup', lr: cfg.lrPrune });
  ratios.forEach((ratio, k) => plan.push({ phase: 'pruning_and_training', lr: cfg.lrPrune, round: k + 1, ratio }));
  cfg.schedule.forEach((p, i) => {
    const n = i === 0 ? Math.max(0, p.epochs - ratios.length - w) : p.epochs;
    for (let e = 0; e < n; e++) plan.push({ phase: 'final_training', lr: p.lr });
  });
  return plan;
}
