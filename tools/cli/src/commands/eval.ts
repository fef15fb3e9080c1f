import type { Command } from 'commander';
import { runEval, type EvalOptions } from '../eval.js';
import { storeOption } from '../store-option.js';

/** --weights FILE or --run/--checkpoint (and --store), with --arch/--num-classes for files without metadata: what checkpointBytes reads. */
export function checkpointOptions(command: Command): Command {
  return command
    .option('--weights <file>', 'checkpoint (safetensors); a pruned one carries its config (and ResNet masks)')
    .option('--run <id>', 'or a checkpoint of a stored run ...')
    .option('--checkpoint <name>', '... by name, e.g. best')
    .addOption(storeOption('run store'))
    .option('--arch <arch>', 'architecture, when the file has no flowprune metadata')
    .option('--num-classes <k>', 'classes, when the file has no flowprune metadata', Number);
}

export function registerEval(program: Command): void {
  checkpointOptions(
    program
      .command('eval')
      .description("evaluate a checkpoint as the paper's eval.py: --train-acc, --test-acc, --flops, --compression (all sizes when none is given)"),
  )
    .option('--dataset <dir>', 'CIFAR-10/100 folder for the accuracies')
    .option('--train-acc', 'train accuracy (no augmentation)', false)
    .option('--test-acc', 'test accuracy', false)
    .option('--flops', 'FLOPs of the (pruned) network', false)
    .option('--compression', 'compression ratio against the unpruned network', false)
    .option('--batch-size <n>', 'evaluation batch size', Number, 128)
    .action(async (o: EvalOptions) => {
      await runEval(o);
    });
}
