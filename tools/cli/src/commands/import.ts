import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { isTrainable } from '@flowprune/models';
import { importedCheckpoint, onnxToGraph, SUPPORTED_OPS } from '@flowprune/onnx';

export function registerImport(program: Command): void {
  program
    .command('import <model.onnx>')
    .description('an ONNX CNN (PyTorch, Keras, TensorFlow exports) as a flowprune checkpoint: weights under their initializer names, the graph in its metadata')
    .requiredOption('--out <file>', 'the checkpoint to write (safetensors)')
    .addHelpText(
      'after',
      `
Operators: ${SUPPORTED_OPS.join(', ')} (opsets 9-21, default domain). Static operands (initializers,
Constant nodes) are folded into the nodes reading them; a zero Pad is folded into the Conv or
AveragePool after it; Reshape to [N, -1] is a flatten; MatMul/Gemm weights are stored [out, in] as
PyTorch keeps them. The input must be N×C×H×W with fixed C, H, W; the class count is the output's width.
Export from PyTorch with torch.onnx.export(model.eval(), x, "m.onnx", opset_version=13,
training=torch.onnx.TrainingMode.PRESERVE) to keep BatchNormalization nodes (eval mode folds them
into the convolutions, which leaves the importance measures no BatchNorm to read).`,
    )
    .action((file: string, o: { out: string }) => {
      const imported = onnxToGraph(new Uint8Array(readFileSync(file)), file);
      writeFileSync(o.out, importedCheckpoint(imported, basename(file)));
      const { graph } = imported;
      const ops = new Map<string, number>();
      for (const n of graph.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
      const params = graph.params.filter((p) => isTrainable(p.kind)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      const { channels, height, width } = graph.input;
      console.log(
        `imported ${file}: ${channels}×${height}×${width} input, ${imported.numClasses} classes, ${params.toLocaleString('en')} parameters; ` +
          `${graph.nodes.length} nodes (${[...ops].map(([op, k]) => `${k} ${op}`).join(', ')}) → ${o.out}`,
      );
    });
}
