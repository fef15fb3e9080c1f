import { Option, type Command } from 'commander';
import { DEMO_DEFAULTS, runDemo, type DemoOptions } from '../demo.js';

export function registerDemo(program: Command): void {
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
}
