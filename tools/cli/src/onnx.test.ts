// `flowprune export` and `flowprune latency` as the CLI runs them (in process), and their errors.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, GraphBuilder, Model, type StateDict } from '@flowprune/models';
import { decodeOnnx, encodeOnnx, graphToOnnx, metadataOf } from '@flowprune/onnx';
import { initBackend } from '@flowprune/tensor';
import { parseEngines, positiveIntegers, runExport, runLatency } from './onnx.js';

const dir = tempDir('onnx-cli');

/** An ONNX file flowprune did not write (no metadata): a 1×1 conv and a linear layer. */
function foreignOnnx(): string {
  const g = new GraphBuilder({ name: 'x', channels: 3, height: 4, width: 4 });
  const graph = g.finish(g.linear('fc', g.flatten(g.globalAvgPool(g.conv('c', 'x', 2, { kernel: 1 }))), 3));
  const sd: StateDict = new Map(graph.params.map((p) => [p.name, { dtype: 'F32' as const, shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)).fill(0.5) }]));
  const file = join(dir, 'foreign.onnx');
  writeFileSync(file, encodeOnnx(graphToOnnx(graph, sd)));
  return file;
}

test('export writes the checkpoint as ONNX with the metadata that rebuilds it', async () => {
  await initBackend({ log: () => undefined });
  const weights = join(dir, 'resnet56.safetensors');
  const model = Model.init(buildNetwork('resnet56', 3), 1);
  writeFileSync(weights, model.toSafeTensors());
  model.dispose();
  const out = join(dir, 'resnet56.onnx');
  const r = await runExport({ weights, out });
  const proto = decodeOnnx(new Uint8Array(readFileSync(out)));
  assert.equal(r.nodes, proto.graph!.node.length);
  assert.deepEqual(Object.fromEntries(metadataOf(proto)), { arch: 'resnet56', num_classes: '3', config: JSON.stringify(buildNetwork('resnet56', 3).config) });
});

test('latency with a baseline prints both engines per batch and MAC vs measured speed-up', async () => {
  const file = join(dir, 'resnet56.onnx');
  const lines: string[] = [];
  await runLatency(file, { batches: [1, 2], engines: ['onnxruntime', 'flowprune'], warmup: 0, runs: 2, baseline: file }, (l) => lines.push(l));
  const text = lines.join('\n');
  assert.equal(text.match(/ONNX Runtime \(CPU EP\)/g)?.length, 4 + 2, text);
  assert.match(text, /flowprune \(\w+, \d+ threads\)/);
  assert.match(text, /speed-up of .* over /);
  // The speed-up table's rows: engine │ batch │ MAC speed-up │ measured speed-up (which is noise here, and may read 1.00× too).
  const macColumn = [...text.matchAll(/│ (?:ONNX Runtime|flowprune) [^│]*│ \d+\s*│ ([\d.]+×)\s*│ [\d.]+×\s*│/g)].map((m) => m[1]);
  assert.deepEqual(macColumn, ['1.00×', '1.00×', '1.00×', '1.00×'], `the MAC speed-up of a model over itself is 1.00× on every row\n${text}`);
});

test('latency of an ONNX model flowprune did not export: flowprune rebuilds it through the importer', async () => {
  const file = foreignOnnx();
  const lines: string[] = [];
  await runLatency(file, { batches: [1], engines: ['onnxruntime', 'flowprune'], warmup: 0, runs: 1 }, (l) => lines.push(l));
  assert.match(lines.join('\n'), /foreign\.onnx.*ONNX Runtime \(CPU EP\)/);
  assert.match(lines.join('\n'), /foreign\.onnx.*flowprune \(/);
});

test('latency of an ONNX model the importer refuses: its error, and ONNX Runtime alone when asked', async () => {
  const proto = decodeOnnx(new Uint8Array(readFileSync(foreignOnnx())));
  proto.graph!.node.push({ ...proto.graph!.node.at(-1)!, opType: 'Softmax', name: 'sm', input: [proto.graph!.output[0].name!], output: ['probs'], attribute: [] });
  proto.graph!.output[0] = { ...proto.graph!.output[0], name: 'probs' };
  const file = join(dir, 'softmax.onnx');
  writeFileSync(file, encodeOnnx(proto));
  await assert.rejects(
    runLatency(file, { batches: [1], engines: ['onnxruntime', 'flowprune'], warmup: 0, runs: 1 }, () => undefined),
    /softmax\.onnx: node "sm" \(Softmax\): operator Softmax is not supported.*--engines onnxruntime/,
  );
  const lines: string[] = [];
  await runLatency(file, { batches: [1], engines: ['onnxruntime'], warmup: 0, runs: 2 }, (l) => lines.push(l));
  assert.match(lines.join('\n'), /softmax\.onnx.*ONNX Runtime \(CPU EP\).*—/);
});

test('flag values are checked, naming the flag', () => {
  assert.deepEqual(positiveIntegers('1, 128', '--batch'), [1, 128]);
  assert.throws(() => positiveIntegers('1,0', '--batch'), /--batch must be positive integers separated by commas, got "1,0"/);
  assert.throws(() => positiveIntegers('x', '--runs'), /--runs must be/);
  assert.throws(() => parseEngines('onnxruntime,tensorrt'), /--engines: unknown engine "tensorrt"; choose from onnxruntime, flowprune/);
});
