// `flowprune bench`: speed figures printed as ratios. Suites: model throughput on the active
// backend, and the wasm training-kernel micro-benchmark of libs/tensor.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNetwork, Model, type ArchName } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { evaluateModel, Sgd, trainEpoch, type PixelBatch } from '@flowprune/training';
import { WORKSPACE } from './paths.js';

export interface BenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
  suites: string[];
}

function syntheticBatches(n: number, bs: number): AsyncIterable<PixelBatch> {
  return (async function* () {
    for (let i = 0; i < n; i++)
      yield {
        count: bs,
        height: 32,
        width: 32,
        channels: 3,
        pixels: Uint8Array.from({ length: bs * 3072 }, (_, j) => (j * 31 + i * 7) % 256),
        labels: Array.from({ length: bs }, (_, j) => j % 10),
      };
  })();
}

/** Training and eval images/s per architecture, after one warm-up step. */
async function modelThroughput(o: BenchOptions): Promise<void> {
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
    opt.dispose();
    model.dispose();
  }
  console.log(`live tensors after the suite: ${tf.memory().numTensors}`);
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
  if (o.suites.includes('models')) await modelThroughput(o);
  if (o.suites.includes('kernels')) kernelMicroBench();
}
