import type { Command } from 'commander';
import { positiveIntegers, parseEngines, runExport, runLatency, type ExportOptions } from '../onnx.js';
import { checkpointOptions } from './eval.js';

export function registerExport(program: Command): void {
  checkpointOptions(program.command('export').description('write a checkpoint (pruned or not) as an ONNX model'))
    .requiredOption('--out <file>', 'the ONNX file to write')
    .addHelpText(
      'after',
      `
The file: ONNX opset 13 (IR version 7); input "input" [batch, 3, 32, 32] (NCHW, normalised to
[-1, 1] as flowprune trains), output the logits [batch, classes]; weights as initializers named as
the PyTorch state_dict. BatchNorm is kept as BatchNormalization nodes with the running statistics
(not folded into the convolutions: VGG's BatchNorm follows its ReLU). Masked channels of a pruned
ResNet are folded into their BatchNorm's scale and bias (weight·mask, bias·mask): the same outputs
as flowprune's eval. metadata_props carry arch, num_classes and config, so \`flowprune latency\`
rebuilds the model on flowprune's own backend too.`,
    )
    .action(async (o: ExportOptions) => {
      const r = await runExport(o);
      console.log(`wrote ${o.out}: ${r.nodes} ONNX nodes, ${(r.bytes / 2 ** 20).toFixed(1)} MiB`);
    });
}

interface LatencyFlags {
  baseline?: string;
  batch: string;
  threads?: number;
  warmup: number;
  runs: number;
  engines: string;
}

export function registerLatency(program: Command): void {
  program
    .command('latency <model.onnx>')
    .description('measured latency (p50/p95) and throughput of an ONNX model in ONNX Runtime (CPU) and on flowprune\'s own backend')
    .option('--baseline <file>', 'the unpruned model (ONNX): prints MAC speed-up vs measured speed-up')
    .option('--batch <list>', 'batch sizes, comma-separated', '1,128')
    .option('--threads <n>', 'compute threads of both engines (default: all cores)', Number)
    .option('--warmup <n>', 'untimed runs first', Number, 3)
    .option('--runs <n>', 'timed runs per batch size', Number, 20)
    .option('--engines <list>', "onnxruntime,flowprune (flowprune rebuilds any other ONNX model through the importer, as \`flowprune import\` does)", 'onnxruntime,flowprune')
    .action(async (file: string, o: LatencyFlags) => {
      const [warmup] = o.warmup === 0 ? [0] : positiveIntegers(String(o.warmup), '--warmup');
      await runLatency(file, {
        batches: positiveIntegers(o.batch, '--batch'),
        engines: parseEngines(o.engines),
        warmup,
        runs: positiveIntegers(String(o.runs), '--runs')[0],
        ...(o.threads !== undefined ? { threads: positiveIntegers(String(o.threads), '--threads')[0] } : {}),
        ...(o.baseline ? { baseline: o.baseline } : {}),
      });
    });
}
