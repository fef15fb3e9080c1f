// `flowprune demo`: the four services as separate processes, one short prune-while-training run on
// real images (Fashion-MNIST, when Debian's dataset-fashion-mnist is installed) or else on a
// synthetic CIFAR-10 stand-in, and a table of what pruning did.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureSyntheticCifar10, hasIdxFiles, IDX_SYSTEM_DIRS, IDX_VARIANTS } from '@flowprune/data';
import { makeClient, runSpec } from '@flowprune/grpc';
import { TrainerServiceClient, type RunSpec } from '@flowprune/proto';
import { WORKSPACE } from './paths.js';
import { startStack } from './stack.js';
import { summaryTables } from './summary-table.js';
import { traceRow } from './trace-hint.js';
import { startAndWatch } from './traced-run.js';

/** auto: Fashion-MNIST when Debian's dataset-fashion-mnist is installed, else synthetic. */
export type DemoDataset = 'auto' | 'fashion-mnist' | 'synthetic';
export const DEMO_DATASETS: readonly DemoDataset[] = ['auto', 'fashion-mnist', 'synthetic'];

/** What differs between the two datasets the demo runs on. */
export interface DemoPreset {
  arch: string;
  epochs: number;
  pruneEpochs: number;
  prunePercent: number;
  batchSize: number;
  lr: number;
  /** Fashion-MNIST: training images per epoch (drawn afresh from the 60,000 each epoch) and test images; 0 = all. */
  trainSamples: number;
  testSamples: number;
  augment: boolean;
}

export interface DemoOptions extends Partial<DemoPreset> {
  dataset: DemoDataset;
  runsDir: string;
  dataDir: string;
  trainPerClass: number;
  testPerClass: number;
  measure: string;
  seed: number;
  verbose: boolean;
}

export const DEMO_DEFAULTS: DemoOptions = {
  dataset: 'auto',
  runsDir: join(WORKSPACE, 'runs'),
  dataDir: join(WORKSPACE, '.flowprune/datasets'),
  trainPerClass: 60,
  testPerClass: 20,
  measure: 'mag_based',
  seed: 0,
  verbose: false,
};

/**
 * Sizes per dataset, chosen so the demo takes about a minute on 2 cores. Fashion-MNIST: the
 * paper's MobileNet-V1 with 75 % of its filters pruned by magnitude over 3 rounds reaches >= 75 %
 * test accuracy after fine-tuning (README, "The demo").
 */
export const DEMO_PRESETS: Record<Exclude<DemoDataset, 'auto'>, DemoPreset> = {
  'fashion-mnist': { arch: 'mobilenet_v1', epochs: 5, pruneEpochs: 3, prunePercent: 75, batchSize: 64, lr: 0.05, trainSamples: 4000, testSamples: 1000, augment: false },
  synthetic: { arch: 'vgg13', epochs: 3, pruneEpochs: 1, prunePercent: 50, batchSize: 32, lr: 0.05, trainSamples: 0, testSamples: 0, augment: true },
};

export interface DemoData {
  name: string;
  root: string;
  preset: DemoPreset;
}

/** The dataset the demo trains on, with one line on stderr saying which and why. */
export function demoData(o: DemoOptions, fashion: string | undefined = IDX_SYSTEM_DIRS['fashion-mnist']): DemoData {
  const installed = fashion !== undefined && hasIdxFiles(fashion);
  if (o.dataset === 'fashion-mnist' && !installed) throw new Error(`--dataset fashion-mnist: ${fashion} has no Fashion-MNIST files; install the Debian package dataset-fashion-mnist`);
  if (fashion !== undefined && installed && o.dataset !== 'synthetic') {
    const preset = { ...DEMO_PRESETS['fashion-mnist'], ...definedOf(o) };
    const sizes = `${preset.trainSamples || 60_000} of 60,000 train images per epoch, ${preset.testSamples || 10_000} test images`;
    process.stderr.write(`dataset: ${IDX_VARIANTS['fashion-mnist'].displayName} (${sizes}; 28x28 grey, padded to 32x32x3) from ${fashion}\n`);
    return { name: 'fashion-mnist', root: fashion, preset };
  }
  const root = ensureSyntheticCifar10(o);
  const why = o.dataset === 'synthetic' ? 'as asked' : `${fashion} not found: apt-get install dataset-fashion-mnist for real images`;
  process.stderr.write(`dataset: synthetic CIFAR-10 stand-in (${o.trainPerClass * 10} train / ${o.testPerClass * 10} test images; ${why}) in ${root}\n`);
  return { name: 'synthetic', root, preset: { ...DEMO_PRESETS.synthetic, ...definedOf(o) } };
}

/** The preset fields given on the command line. */
function definedOf(o: DemoOptions): Partial<DemoPreset> {
  const keys: (keyof DemoPreset)[] = ['arch', 'epochs', 'pruneEpochs', 'prunePercent', 'batchSize', 'lr', 'trainSamples', 'testSamples', 'augment'];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const data = demoData(o);
  const p = data.preset;
  // Service logs go to a file unless --verbose, so the terminal shows the run itself.
  const logFile = resolve(o.runsDir, 'demo-services.log');
  mkdirSync(resolve(o.runsDir), { recursive: true });
  const stack = await startStack({
    datasets: [`${data.name}=${data.root}`],
    storeDir: resolve(o.runsDir),
    onOutput: o.verbose ? (l) => process.stderr.write(`${l}\n`) : (l) => appendFileSync(logFile, `${new Date().toISOString()} ${l}\n`),
  });
  try {
    const pids = stack.all.map((s) => `${s.name} pid ${s.pid} @ ${s.address}`);
    process.stderr.write(`services (4 processes; logs in ${o.verbose ? 'this terminal' : logFile}):\n  ${pids.join('\n  ')}\n`);
    const trainer = makeClient(TrainerServiceClient, stack.trainer.address);
    const spec: RunSpec = runSpec({
      name: 'demo',
      arch: p.arch,
      numClasses: 0,
      dataset: { name: data.name },
      seed: o.seed,
      measure: o.measure,
      measureParams: {},
      prunePercent: p.prunePercent,
      nRounds: p.pruneEpochs,
      thresholds: [],
      temperature: 5,
      impSamples: 0,
      warmupEpochs: 0,
      lrPrune: p.lr,
      momentum: 0.9,
      weightDecay: 1e-4,
      // The paper's schedule shape, scaled down: the first phase is shortened by the pruning rounds.
      schedule: [
        { lr: p.lr, epochs: p.epochs - 1 },
        { lr: p.lr / 10, epochs: 1 },
      ],
      batchSize: p.batchSize,
      evalBatchSize: 100,
      trainSamples: p.trainSamples,
      testSamples: p.testSamples,
      augment: p.augment,
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
        ['dataset', data.name],
        ['model', `${p.arch}, ${o.measure}, ${p.prunePercent} % in ${p.pruneEpochs} round(s), ${p.epochs} epochs`],
        ['demo wall time', `${((performance.now() - t0) / 1000).toFixed(1)} s`],
        ...traceRow(runId, o.runsDir),
      ]),
    );
    return 0;
  } finally {
    await stack.stop();
  }
}
