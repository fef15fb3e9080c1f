// `flowprune bench --suites analysis`: what the in-run gradient-flow analysis costs. The same base
// training run (libs/training runPruneTrain, in this process, synthetic batches, checkpoints and
// evaluation in memory) runs without analysis and with `analysis: {every_batches: k}`, alternately;
// the overhead is the median over the reps of each pair's ratio (goal: under 15 % at k = 50). The
// base run has no pruning step, so this is the cost of the points between pruning steps (first-order
// quantities only; flow-analysis.ts).
import { batchListData } from '@flowprune/importance';
import { parseArch, type Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { evaluateModel, makeFlowAnalysis, resolveRunConfig, runPruneTrain, type RunConfig, type RunPorts } from '@flowprune/training';
import { median } from '@flowprune/common';
import { syntheticBatch, syntheticBatches } from './synthetic-batches.js';

export interface AnalysisBenchOptions {
  arch: string;
  batchSize: number;
  /** Training batches per run (one epoch). */
  batches: number;
  everyBatches: number;
  /** Analysis sample size. */
  samples: number;
  reps: number;
}

// The analysis sample as large as a batch: at the paper's batch 128, the default analysis.samples (128).
export const ANALYSIS_BENCH_DEFAULTS: AnalysisBenchOptions = { arch: 'mobilenet_v1', batchSize: 32, batches: 100, everyBatches: 50, samples: 32, reps: 1 };
export const ANALYSIS_GOAL = 0.15;

function memoryPorts(cfg: RunConfig, o: AnalysisBenchOptions): RunPorts {
  const saved = new Map<string, Model>();
  return {
    backend: 'bench',
    trainBatchCount: o.batches,
    trainBatches: () => syntheticBatches(o.batches, o.batchSize),
    testBatches: () => syntheticBatches(1, o.batchSize),
    estimate: () => Promise.reject(new Error('base training has no pruning step')),
    saveCheckpoint: async (model, name) => {
      saved.set(name, model);
      return name;
    },
    evaluateCheckpoint: async () => {
      const r = await evaluateModel([...saved.values()].pop()!, syntheticBatches(1, o.batchSize), cfg.temperature);
      return { accuracy: r.accuracy, flops: 0, parameters: 0, compressionRatio: 1 };
    },
    saveSnapshot: async () => undefined,
    emit: () => undefined,
    isCancelled: () => false,
  };
}

async function oneRun(o: AnalysisBenchOptions, withAnalysis: boolean): Promise<{ seconds: number; points: number }> {
  const cfg = resolveRunConfig({
    arch: o.arch,
    dataset: 'synthetic',
    numClasses: 10,
    schedule: [{ lr: 0.01, epochs: 1 }],
    batchSize: o.batchSize,
    ...(withAnalysis ? { analysis: { everyBatches: o.everyBatches, samples: o.samples } } : {}),
  });
  const ports = memoryPorts(cfg, o);
  let points = 0;
  if (withAnalysis) {
    const sample = Array.from({ length: Math.ceil(o.samples / o.batchSize) }, (_, i) => syntheticBatch(1000 + i, o.batchSize));
    ports.analysis = makeFlowAnalysis({ cfg, data: batchListData(sample), emit: () => points++ });
  }
  const t0 = performance.now();
  await runPruneTrain(cfg, ports);
  return { seconds: (performance.now() - t0) / 1000, points };
}

export async function analysisOverhead(opts: Partial<AnalysisBenchOptions> = {}): Promise<{ overhead: number }> {
  const o = { ...ANALYSIS_BENCH_DEFAULTS, ...opts, arch: parseArch(opts.arch ?? ANALYSIS_BENCH_DEFAULTS.arch) };
  const info = await initBackend({ log: () => undefined });
  console.log(
    `\n== gradient-flow analysis overhead: ${o.arch}, ${o.batches} batches of ${o.batchSize}, analysis every ${o.everyBatches} batches on ${o.samples} images, backend ${info.name}, ${o.reps} rep(s) ==`,
  );
  // Warm-up of both modes (kernels of the double backward included), so neither pays one-time costs.
  await oneRun({ ...o, batches: 2 }, false);
  await oneRun({ ...o, batches: 2, everyBatches: 1 }, true);
  const off: number[] = [];
  const on: number[] = [];
  let points = 0;
  // Interleaved pairs, in alternating order, so that a shared machine's changing load falls on both modes.
  for (let r = 0; r < o.reps; r++) {
    for (const withAnalysis of r % 2 === 0 ? [false, true] : [true, false]) {
      const run = await oneRun(o, withAnalysis);
      (withAnalysis ? on : off).push(run.seconds);
      if (withAnalysis) points = run.points;
    }
    console.log(`pair ${r + 1}: without ${off[r].toFixed(1)} s, with ${on[r].toFixed(1)} s`);
  }
  const ratios = on.map((s, i) => s / off[i] - 1);
  const overhead = median(ratios);
  const list = (v: number[], digits: number) => v.map((x) => x.toFixed(digits)).join(', ');
  console.log(`without analysis: ${list(off, 1)} s (median ${median(off).toFixed(1)}); with: ${list(on, 1)} s (median ${median(on).toFixed(1)}; ${points} analysis point(s) per run)`);
  console.log(`overhead per pair: ${list(ratios.map((x) => 100 * x), 1)} %`);
  console.log(`overhead: ${(100 * overhead).toFixed(1)} % (median over ${ratios.length} pair(s); goal < ${100 * ANALYSIS_GOAL} %: ${overhead < ANALYSIS_GOAL ? 'met' : 'NOT met'})`);
  return { overhead };
}
