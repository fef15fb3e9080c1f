import { Option, type Command } from 'commander';
import { runImportanceCommand, type ImportanceOptions } from '../importance.js';

export function registerImportance(program: Command): void {
  program
    .command('importance')
    .description('filter importance of a checkpoint on a CIFAR binary file (batches in file order, no augmentation), one vector per filter layer in the paper\'s order')
    .addOption(new Option('--arch <arch>', 'architecture (not for an imported model: its checkpoint carries its graph)').choices(['vgg13', 'mobilenet_v1', 'resnet56', 'resnet18', 'resnet34']))
    .requiredOption('--num-classes <k>', 'classes of the network and of the data file', Number)
    .requiredOption('--weights <file>', 'weights (safetensors, PyTorch state_dict names)')
    .option('--init-weights <file>', 'θ₀ for the *_init measures: the conv weights at initialisation (safetensors)')
    .requiredOption('--data <file>', 'images: a CIFAR binary file (1 label byte + 3072 CHW bytes per record, or CIFAR-100 with 2 label bytes)')
    .requiredOption('--batch-size <n>', 'batch size of the first-order measures', Number)
    .requiredOption('--samples <n>', 'imp_samples: first-order measures read whole batches until this many images; Hessian ones int(samples/classes) per class', Number)
    .requiredOption('--measure <list>', 'measures, comma-separated (e.g. loss_based,grasp); see the estimator\'s ListMeasures')
    .option('--T <t>', 'temperature of the first-order measures', Number, 5)
    .option('--grasp-T <g>', 'temperature of grasp', Number, 200)
    .option('--grad-preserve-T <h>', 'temperature of grad_preserve', Number, 1)
    .option('--no-exact-decisions', 'keep float32 ReLU / max-pool decisions (faster; by default a float64 evaluation decides them, as the float64 references do)')
    .option('--in-process', 'compute here instead of through an importance-estimator service started for the purpose', false)
    .requiredOption('--out <file>', 'output JSON {"<measure>": [[layer 0 scores], ...]}')
    .option('--verbose', "show the backend and the service's log", false)
    .action(async (o: ImportanceOptions) => {
      await runImportanceCommand(o);
    });
}
