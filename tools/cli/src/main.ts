// flowprune: the command line of the pruning services.
import { Command, Option } from 'commander';
import { parseArch } from '@flowprune/models';
import { runBench, type BenchOptions } from './bench.js';
import { DEMO_DEFAULTS, runDemo, type DemoOptions } from './demo.js';

const program = new Command('flowprune').description('Gradient-flow pruning research on gRPC services (Lubana & Dick, ICLR 2021)');

program
  .command('demo')
  .description('start the four services, run a short prune-while-training pipeline on synthetic CIFAR-10, print what pruning did')
  .addOption(new Option('--arch <arch>', 'architecture').choices(['vgg13', 'resnet56']).default(DEMO_DEFAULTS.arch))
  .option('--runs-dir <dir>', 'embedded run store', DEMO_DEFAULTS.runsDir)
  .option('--data-dir <dir>', 'where the synthetic dataset is written', DEMO_DEFAULTS.dataDir)
  .option('--train-per-class <n>', 'synthetic training images per class', Number, DEMO_DEFAULTS.trainPerClass)
  .option('--test-per-class <n>', 'synthetic test images per class', Number, DEMO_DEFAULTS.testPerClass)
  .option('--epochs <n>', 'epochs in all (pruning rounds included)', Number, DEMO_DEFAULTS.epochs)
  .option('--prune-epochs <n>', 'pruning rounds (one training epoch each)', Number, DEMO_DEFAULTS.pruneEpochs)
  .option('--prune-percent <p>', 'filters to remove, in percent', Number, DEMO_DEFAULTS.prunePercent)
  .option('--measure <name>', 'importance measure', DEMO_DEFAULTS.measure)
  .option('--batch-size <n>', 'training batch size', Number, DEMO_DEFAULTS.batchSize)
  .option('--lr <lr>', 'learning rate of the first phase', Number, DEMO_DEFAULTS.lr)
  .option('--seed <n>', 'seed', Number, DEMO_DEFAULTS.seed)
  .option('--verbose', "show the services' logs", false)
  .action(async (o: DemoOptions) => {
    process.exitCode = await runDemo(o);
  });

program
  .command('bench')
  .description('speed benchmarks, printed as ratios (suites: models, kernels)')
  .option('--suites <list>', 'comma-separated suites', 'models,kernels')
  .option('--archs <list>', 'architectures for the model suite', 'vgg13,resnet56')
  .option('--batch-size <n>', 'batch size', Number, 32)
  .option('--steps <n>', 'timed steps per architecture and mode', Number, 3)
  .action(async (o: { suites: string; archs: string; batchSize: number; steps: number }) => {
    const opts: BenchOptions = { suites: o.suites.split(','), archs: o.archs.split(',').map(parseArch), batchSize: o.batchSize, steps: o.steps };
    await runBench(opts);
  });

await program.parseAsync();
