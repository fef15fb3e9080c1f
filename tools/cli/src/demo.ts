// `flowprune demo`: the four services as separate processes, one short prune-while-training run on
// a synthetic CIFAR-10 stand-in, and a table of what pruning did.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { makeClient, runSpec } from '@flowprune/grpc';
import { TrainerServiceClient, type RunSpec } from '@flowprune/proto';
import { WORKSPACE } from './paths.js';
import { startStack } from './stack.js';
import { summaryTables } from './summary-table.js';
import { traceRow } from './trace-hint.js';
import { startAndWatch } from './traced-run.js';

export interface DemoOptions {
  arch: string;
  runsDir: string;
  dataDir: string;
  trainPerClass: number;
  testPerClass: number;
  epochs: number;
  pruneEpochs: number;
  prunePercent: number;
  measure: string;
  batchSize: number;
  lr: number;
  seed: number;
  verbose: boolean;
}

export const DEMO_DEFAULTS: DemoOptions = {
  arch: 'vgg13',
  runsDir: join(WORKSPACE, 'runs'),
  dataDir: join(WORKSPACE, '.flowprune/datasets'),
  trainPerClass: 60,
  testPerClass: 20,
  epochs: 3,
  pruneEpochs: 1,
  prunePercent: 50,
  measure: 'mag_based',
  batchSize: 32,
  lr: 0.05,
  seed: 0,
  verbose: false,
};

/** Builds (once) the synthetic dataset: real CIFAR-10 binary files with learnable class patterns. */
export function ensureSyntheticDataset(o: Pick<DemoOptions, 'dataDir' | 'trainPerClass' | 'testPerClass' | 'seed'>): string {
  const dir = resolve(o.dataDir, `synthetic-cifar10-${o.trainPerClass}x${o.testPerClass}-s${o.seed}`);
  if (!existsSync(join(dir, 'test_batch.bin')))
    generateSyntheticCifar10({ dir, trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, seed: o.seed });
  return dir;
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const dataset = ensureSyntheticDataset(o);
  process.stderr.write(`dataset: synthetic CIFAR-10 (${o.trainPerClass * 10} train / ${o.testPerClass * 10} test images) in ${dataset}\n`);
  // Service logs go to a file unless --verbose, so the terminal shows the run itself.
  const logFile = resolve(o.runsDir, 'demo-services.log');
  mkdirSync(resolve(o.runsDir), { recursive: true });
  const stack = await startStack({
    datasets: [`synthetic=${dataset}`],
    storeDir: resolve(o.runsDir),
    onOutput: o.verbose ? (l) => process.stderr.write(`${l}\n`) : (l) => appendFileSync(logFile, `${new Date().toISOString()} ${l}\n`),
  });
  try {
    const pids = stack.all.map((s) => `${s.name} pid ${s.pid} @ ${s.address}`);
    process.stderr.write(`services (4 processes; logs in ${o.verbose ? 'this terminal' : logFile}):\n  ${pids.join('\n  ')}\n`);
    const trainer = makeClient(TrainerServiceClient, stack.trainer.address);
    const spec: RunSpec = runSpec({
      name: 'demo',
      arch: o.arch,
      numClasses: 0,
      dataset: { name: 'synthetic' },
      seed: o.seed,
      measure: o.measure,
      measureParams: {},
      prunePercent: o.prunePercent,
      nRounds: o.pruneEpochs,
      thresholds: [],
      temperature: 5,
      impSamples: 0,
      warmupEpochs: 0,
      lrPrune: o.lr,
      momentum: 0.9,
      weightDecay: 1e-4,
      // The paper's schedule shape, scaled down: the first phase is shortened by the pruning rounds.
      schedule: [
        { lr: o.lr, epochs: o.epochs - 1 },
        { lr: o.lr / 10, epochs: 1 },
      ],
      batchSize: o.batchSize,
      evalBatchSize: 100,
      trainSamples: 0,
      testSamples: 0,
      augment: true,
      preserveMomentum: false,
    });
    const res = await startAndWatch(trainer, spec);
    const runId = res.runId;
    trainer.close();
    if (!res.summary) {
      process.stderr.write(`run ${runId} failed: ${res.failure ?? 'no summary'}\n`);
      return 1;
    }
    console.log(
      summaryTables(res.summary, [
        ['run', `${runId} (${resolve(o.runsDir, runId)})`],
        ['model', `${o.arch}, ${o.measure}, ${o.prunePercent} % in ${o.pruneEpochs} round(s)`],
        ['demo wall time', `${((performance.now() - t0) / 1000).toFixed(1)} s`],
        ...traceRow(runId, o.runsDir),
      ]),
    );
    return 0;
  } finally {
    await stack.stop();
  }
}
