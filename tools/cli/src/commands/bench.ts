import type { Command } from 'commander';
import { parseArch } from '@flowprune/models';
import { runBench } from '../bench.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('speed benchmarks, printed as ratios (suites: models, kernels)')
    .option('--suites <list>', 'comma-separated suites', 'models,kernels')
    .option('--archs <list>', 'architectures for the model suite', 'vgg13,resnet56')
    .option('--batch-size <n>', 'batch size', Number, 32)
    .option('--steps <n>', 'timed steps per architecture and mode', Number, 3)
    .action(async (o: { suites: string; archs: string; batchSize: number; steps: number }) => {
      await runBench({ suites: o.suites.split(','), archs: o.archs.split(',').map(parseArch), batchSize: o.batchSize, steps: o.steps });
    });
}
