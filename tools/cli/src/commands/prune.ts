import type { Command } from 'commander';
import { runPruneCommand, type PruneCommandOptions } from '../prune.js';

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description("one pruning step (the schedule's first round) on a checkpoint, from an importance file")
    .option('--arch <arch>', 'vgg13 | mobilenet_v1 | resnet56 | resnet18 | resnet34 (not for an imported model: its checkpoint carries its graph)')
    .option('--num-classes <k>', 'number of classes (with --arch)', Number)
    .requiredOption('--weights <file>', 'input weights (safetensors, PyTorch state_dict names)')
    .requiredOption('--importance <file>', 'importance JSON as `flowprune importance` writes it: {"<measure>": [[layer0], ...]}')
    .requiredOption('--ratio <r>', "this round's prune ratio r_k (e.g. 0.107142857 for 75 % in 25 rounds, 0.9 for thresholds [90])", Number)
    .requiredOption('--out <file>', 'pruned checkpoint (safetensors); a <out>.prune.json report is written beside it')
    .option('--measure <name>', 'which measure of the importance file to use (when it holds several)')
    .option('--policy <name>', "paper (the paper's rules, bit for bit) | generic (whole channel-dependency groups removed physically)", 'paper')
    .option('--aggregate <how>', 'generic policy: how a group channel combines its coupled layers\' importance: sum | mean | max', 'sum')
    .option('--max-ratio <f>', 'generic policy: largest fraction of a group removed in this step (every group keeps ≥ 1 channel)', Number)
    .option('--round-to <n>', 'generic policy: channels kept per group as a multiple of n (e.g. 8)', Number)
    .action(async (o: PruneCommandOptions) => {
      await runPruneCommand(o);
    });
}
