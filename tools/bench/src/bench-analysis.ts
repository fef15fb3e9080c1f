// `flowprune bench --suites analysis`: what the in-run gradient-flow analysis costs. The same base
// training run (libs/training runPruneTrain, in this process, synthetic batches, checkpoints and
// evaluation in memory) runs without analysis and with `analysis: {every_batches: k}`, alternately;
// the overhead is the ratio of the mean wall times (goal: under 15 % at k = 50).
import { batchListData } from '@flowprune/importance';
import { parseArch, type Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { evaluateModel, makeFlowAnalysis, resolveRunConfig, runPruneTrain, type RunConfig, type RunPorts } from '@flowprune/training';
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
  for (let r = 0; r < o.reps; r++) {
    off.push((await oneRun(o, false)).seconds);
    const w = await oneRun(o, true);
    on.push(w.seconds);
    points = w.points;
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const overhead = mean(on) / mean(off) - 1;
  console.log(`without analysis: ${off.map((x) => x.toFixed(1)).join(', ')} s (mean ${mean(off).toFixed(1)}); with: ${on.map((x) => x.toFixed(1)).join(', ')} s (mean ${mean(on).toFixed(1)}; ${points} analysis point(s) per run)`);
  console.log(`overhead: ${(100 * overhead).toFixed(1)} % (goal < ${100 * ANALYSIS_GOAL} %: ${overhead < ANALYSIS_GOAL ? 'met' : 'NOT met'})`);
  return { overhead };
}
