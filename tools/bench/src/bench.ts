// `flowprune bench`: speed figures printed as ratios. Suites: flowprune's backends against PyTorch
// (bench-backends.ts), importance estimation against PyTorch (bench-importance.ts), model throughput on the active backend, the wasm training-kernel
// micro-benchmark of libs/tensor, and data-loader streaming.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNetwork, Model, type ArchName } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { evaluateModel, Sgd, trainEpoch } from '@flowprune/training';
import { analysisOverhead, type AnalysisBenchOptions } from './bench-analysis.js';
import { backendsThroughput } from './bench-backends.js';
import { dataThroughput, type DataBenchOptions, type TrainingRate } from './bench-data.js';
import { importanceTimes } from './bench-importance.js';
import { latencyRatios } from './bench-latency.js';
import { loadFigures, type LoadBenchOptions } from './bench-load.js';
import { measureTimes, type MeasuresBenchOptions } from './bench-measures.js';
import { trainingProfile } from './bench-profile.js';
import { queueFigures, type QueueBenchOptions } from './bench-queue.js';
import { tracingOverhead, type TracingBenchOptions } from './bench-tracing.js';
import { WORKSPACE } from './paths.js';
import { syntheticBatches } from './synthetic-batches.js';

export interface BenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
  suites: string[];
  data: DataBenchOptions;
  /** Backends of the backends suite (default: every one available). */
  backends?: string[];
  /** The importance suite: measures and their sample budget. */
  importance: { measures: string[]; impSamples: number };
  /** The measures suite: every measure of libs/importance on the active backend, at a small budget. */
  measures?: MeasuresBenchOptions;
  /** The tracing suite: the small demo with telemetry off and on. */
  tracing?: Partial<TracingBenchOptions>;
  /** The load suite: concurrent Estimate calls and StreamBatches streams against one instance each. */
  load?: LoadBenchOptions;
  /** The queue suite: queued runs drained by 1 and 4 trainer processes through the file store. */
  queue?: QueueBenchOptions;
  /** The analysis suite: a run with the gradient-flow analysis against the same run without. */
  analysis?: Partial<AnalysisBenchOptions>;
}

/** Training images/s of one architecture on the active backend, after one warm-up step. */
async function trainRate(arch: ArchName, o: BenchOptions): Promise<number> {
  const model = Model.init(buildNetwork(arch, 10), 0);
  const opt = new Sgd({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  await trainEpoch(model, opt, syntheticBatches(1, o.batchSize), 5);
  const tr = await trainEpoch(model, opt, syntheticBatches(o.steps, o.batchSize), 5);
  opt.dispose();
  model.dispose();
  return tr.samples / tr.seconds;
}

/** The fastest training rate among the benchmarked architectures (measured now unless given). */
async function fastestTraining(o: BenchOptions, known: Map<ArchName, number>): Promise<TrainingRate> {
  const info = await initBackend({ log: () => undefined });
  for (const arch of o.archs) if (!known.has(arch)) known.set(arch, await trainRate(arch, o));
  const [arch, imagesPerSecond] = [...known].reduce((a, b) => (b[1] > a[1] ? b : a));
  return { arch, imagesPerSecond, batchSize: o.batchSize, backend: info.name };
}

/** Training and eval images/s per architecture, after one warm-up step; returns the training rates. */
async function modelThroughput(o: BenchOptions): Promise<Map<ArchName, number>> {
  const rates = new Map<ArchName, number>();
  const info = await initBackend({ log: () => undefined });
  console.log(`\n== model throughput: backend ${info.name} (${info.package}, ${info.threads} thread(s)), batch ${o.batchSize}, ${o.steps} steps ==`);
  console.log(`${'arch'.padEnd(12)} ${'train img/s'.padStart(12)} ${'eval img/s'.padStart(12)}  train/eval`);
  for (const arch of o.archs) {
    const model = Model.init(buildNetwork(arch, 10), 0);
    const opt = new Sgd({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    await trainEpoch(model, opt, syntheticBatches(1, o.batchSize), 5);
    const tr = await trainEpoch(model, opt, syntheticBatches(o.steps, o.batchSize), 5);
    await evaluateModel(model, syntheticBatches(1, o.batchSize), 5);
    const ev = await evaluateModel(model, syntheticBatches(o.steps, o.batchSize), 5);
    const t = tr.samples / tr.seconds;
    const e = ev.samples / ev.seconds;
    console.log(`${arch.padEnd(12)} ${t.toFixed(1).padStart(12)} ${e.toFixed(1).padStart(12)}  ${(t / e).toFixed(2)}x`);
    rates.set(arch, t);
    opt.dispose();
    model.dispose();
  }
  console.log(`live tensors after the suite: ${tf.memory().numTensors}`);
  return rates;
}

function kernelMicroBench(): void {
  console.log('\n== wasm training kernels (libs/tensor/bench/train-step.ts) ==');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(WORKSPACE, 'libs/tensor/bench/train-step.ts'), '--reps', '3'], {
    stdio: 'inherit',
    env: { ...process.env, FLOWPRUNE_BACKEND: 'wasm' },
  });
  if (r.status !== 0) throw new Error(`kernel benchmark failed with code ${r.status}`);
}

export async function runBench(o: BenchOptions): Promise<void> {
  if (o.suites.includes('backends')) backendsThroughput(o);
  if (o.suites.includes('importance')) importanceTimes({ archs: o.archs, batchSize: o.batchSize, ...(o.backends ? { backends: o.backends } : {}), ...o.importance });
  if (o.suites.includes('measures')) await measureTimes(o.measures ?? { batchSize: 32, samples: 64 });
  const trainRates = o.suites.includes('models') ? await modelThroughput(o) : new Map<ArchName, number>();
  if (o.suites.includes('kernels')) kernelMicroBench();
  if (o.suites.includes('latency')) await latencyRatios(o);
  if (o.suites.includes('profile')) trainingProfile(o);
  // The data suite compares the stream with the models suite's training figures (measured here if it did not run).
  if (o.suites.includes('data')) await dataThroughput(o.data, () => fastestTraining(o, trainRates));
  if (o.suites.includes('tracing')) await tracingOverhead(o.tracing);
  if (o.suites.includes('analysis')) await analysisOverhead(o.analysis);
  if (o.suites.includes('load')) await loadFigures(o.load ?? { estimateCalls: 64, estimateConcurrency: 16, streams: 8, images: 5000 });
  if (o.suites.includes('queue')) await queueFigures(o.queue ?? { runs: 200, trainers: [1, 4] });
}
