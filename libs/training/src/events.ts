// What a run reports while it works; the trainer service turns these into flowprune.v1.RunEvent.
import type { AnalysisRecord } from './flow-analysis.js';

/** The three phases of the paper's schedule: dense warm-up, prune-while-training, fine-tune. */
export const PHASES = ['warmup', 'pruning_and_training', 'final_training'] as const;
export type Phase = (typeof PHASES)[number];

/** Measured inference latency on one engine at one batch size (flowprune.v1.LatencyMeasurement). */
export interface LatencyMeasurementData {
  engine: string;
  batchSize: number;
  p50Ms: number;
  p95Ms: number;
  imagesPerSecond: number;
  runs: number;
}

export interface RunSummaryData {
  backend: string;
  parametersBefore: number;
  parametersAfter: number;
  flopsBefore: number;
  flopsAfter: number;
  accuracyBeforePruning: number;
  accuracyAfterPruning: number;
  accuracyAfterFinetune: number;
  bestTestAccuracy: number;
  compressionRatio: number;
  channelsBefore: number[];
  channelsAfter: number[];
  stageSeconds: Record<string, number>;
  wallSeconds: number;
  finalCheckpoint: string;
  /** Latency of the trained unpruned model and of the final one, where the evaluator measured it. */
  latency?: { before: LatencyMeasurementData[]; after: LatencyMeasurementData[] };
}

export type RunEventBody =
  | { kind: 'started'; arch: string; backend: string; totalEpochs: number; trainBatches: number; parameters: number; flops: number }
  | { kind: 'progress'; phase: Phase; epoch: number; batch: number; batches: number; loss: number }
  | {
      kind: 'epoch';
      phase: Phase;
      epoch: number;
      lr: number;
      trainLoss: number;
      trainAccuracy: number;
      testLoss: number;
      testAccuracy: number;
      seconds: number;
    }
  | {
      kind: 'round';
      round: number;
      prunedFraction: number;
      channels: number[];
      accuracyBeforeFinetune: number;
      parameters: number;
      flops: number;
      measure: string;
      estimator: string;
    }
  | { kind: 'stage'; stage: string; seconds: number; detail: string }
  /** Opt-in gradient-flow analysis (flow-analysis.ts): stored with the run, not streamed. */
  | { kind: 'analysis'; analysis: AnalysisRecord }
  | { kind: 'finished'; summary: RunSummaryData }
  | { kind: 'failed'; message: string };
