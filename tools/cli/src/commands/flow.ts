import { Option, type Command } from 'commander';
import { runFlowCommand, type FlowOptions } from '../flow.js';

export function registerFlow(program: Command): void {
  program
    .command('flow')
    .description(
      "the paper's gradient-flow quantities of a checkpoint — Σθ², Σḡ², Σθ·ḡ, Σθ·Hḡ per filter layer (by conv weight name) and in total — with loss_based's ḡ and grasp's Hḡ",
    )
    .addOption(new Option('--arch <arch>', 'architecture').choices(['vgg13', 'mobilenet_v1', 'resnet56', 'resnet18', 'resnet34']).makeOptionMandatory())
    .requiredOption('--num-classes <k>', 'classes of the network and of the data file', Number)
    .requiredOption('--weights <file>', 'weights (safetensors, PyTorch state_dict names)')
    .option('--init-weights <file>', 'θ₀ (conv weights at initialisation): adds dist_init_sq = Σ(θ − θ₀)²')
    .requiredOption('--data <file>', 'images: a CIFAR binary file, read in file order')
    .requiredOption('--batch-size <n>', 'batch size of ḡ (as loss_based)', Number)
    .requiredOption('--samples <n>', 'imp_samples: ḡ reads whole batches until this many images; Hḡ int(samples/classes) per class', Number)
    .option('--T <t>', 'temperature of ḡ (loss_based)', Number, 5)
    .option('--grasp-T <g>', 'temperature of Hḡ (grasp)', Number, 200)
    .option('--no-exact-decisions', 'keep float32 ReLU / max-pool decisions (faster; by default a float64 evaluation decides them)')
    .option('--per-filter', "also write every filter's values", false)
    .option('--in-process', 'compute here instead of through an importance-estimator started for the purpose', false)
    .requiredOption('--out <file>', 'output JSON {params, layers: [{conv, theta_sq, grad_sq, theta_dot_grad, theta_dot_hg, filters?}], total, ...}')
    .option('--verbose', "show the backend and the service's log", false)
    .action(async (o: FlowOptions) => {
      await runFlowCommand(o);
    });
}
