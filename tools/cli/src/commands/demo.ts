import { Option, type Command } from 'commander';
import { ARCH_NAMES } from '@flowprune/models';
import { DEMO_DATASETS, DEMO_DEFAULTS, DEMO_PRESETS, runDemo, type DemoOptions } from '../demo.js';

const fm = DEMO_PRESETS['fashion-mnist'];
const syn = DEMO_PRESETS.synthetic;
/** Help text for an option whose default depends on the dataset. */
const both = (what: string, key: keyof typeof fm): string => `${what} (default: ${String(fm[key])} on Fashion-MNIST, ${String(syn[key])} on synthetic data)`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'start the four services, run a short prune-while-training pipeline on Fashion-MNIST (when Debian\'s dataset-fashion-mnist is installed) ' +
        'or else on synthetic CIFAR-10, print what pruning did',
    )
    .addOption(new Option('--dataset <which>', 'auto: Fashion-MNIST when installed, else synthetic').choices(DEMO_DATASETS).default(DEMO_DEFAULTS.dataset))
    .addOption(new Option('--arch <arch>', both('architecture', 'arch')).choices(ARCH_NAMES))
    .option('--runs-dir <dir>', 'embedded run store', DEMO_DEFAULTS.runsDir)
    .option('--data-dir <dir>', 'where the synthetic dataset is written', DEMO_DEFAULTS.dataDir)
    .option('--train-per-class <n>', 'synthetic training images per class', Number, DEMO_DEFAULTS.trainPerClass)
    .option('--test-per-class <n>', 'synthetic test images per class', Number, DEMO_DEFAULTS.testPerClass)
    .option('--train-samples <n>', both('training images per epoch, 0 = all', 'trainSamples'), Number)
    .option('--test-samples <n>', both('test images, 0 = all', 'testSamples'), Number)
    .option('--epochs <n>', both('epochs in all (pruning rounds included)', 'epochs'), Number)
    .option('--prune-epochs <n>', both('pruning rounds (one training epoch each)', 'pruneEpochs'), Number)
    .option('--prune-percent <p>', both('filters to remove, in percent', 'prunePercent'), Number)
    .option('--measure <name>', 'importance measure', DEMO_DEFAULTS.measure)
    .option('--batch-size <n>', both('training batch size', 'batchSize'), Number)
    .option('--lr <lr>', both('learning rate of the first phase', 'lr'), Number)
    .option('--augment <on|off>', both('random crop + flip', 'augment'), (v: string) => v === 'on' || v === 'true')
    .option('--seed <n>', 'seed', Number, DEMO_DEFAULTS.seed)
    .option('--verbose', "show the services' logs", false)
    .action(async (o: DemoOptions) => {
      process.exitCode = await runDemo(o);
    });
}
