// Fuzzing the importer: truncated and mutated ONNX files (a small hand-made one and PyTorch's
// DenseNet) never crash it. Each either imports into a consistent graph or is an OnnxError that
// names the file; a TypeError, RangeError or hang would be a bug.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { graphToOnnx } from './export.js';
import { onnxToGraph, type ImportedGraph } from './import.js';
import { onnxRuntimeRun, onnxRuntimeSession } from './latency.js';
import { attribute, decodeOnnx, encodeOnnx, floatTensor, floatValueInfo, GraphProto, ModelProto, node, OnnxError } from './onnx-file.js';
import { torchReference } from './torchvision.test-util.js';

function smallModel(): Uint8Array {
  const w = (name: string, dims: number[]) => floatTensor(name, dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => 0.01 * i));
  return encodeOnnx(
    ModelProto.fromPartial({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: GraphProto.fromPartial({
        node: [
          node('Conv', 'conv', ['input', 'conv.weight'], ['c'], [attribute('kernel_shape', [3, 3]), attribute('pads', [1, 1, 1, 1]), attribute('group', 1)]),
          node('BatchNormalization', 'bn', ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['b']),
          node('Relu', 'relu', ['b'], ['r']),
          node('MaxPool', 'pool', ['r'], ['m'], [attribute('kernel_shape', [2, 2]), attribute('strides', [2, 2])]),
          node('Conv', 'conv2', ['m', 'conv2.weight'], ['c2'], [attribute('kernel_shape', [1, 1])]),
          node('Add', 'add', ['c2', 'm'], ['s']),
          node('Concat', 'cat', ['s', 'm'], ['k'], [attribute('axis', 1)]),
          node('GlobalAveragePool', 'gap', ['k'], ['p']),
          node('Flatten', 'flat', ['p'], ['f'], [attribute('axis', 1)]),
          node('Gemm', 'fc', ['f', 'fc.weight', 'fc.bias'], ['logits'], [attribute('transB', 1)]),
        ],
        initializer: [
          w('conv.weight', [4, 2, 3, 3]),
          w('bn.weight', [4]),
          w('bn.bias', [4]),
          w('bn.running_mean', [4]),
          w('bn.running_var', [4]),
          w('conv2.weight', [4, 4, 1, 1]),
          w('fc.weight', [3, 8]),
          w('fc.bias', [3]),
        ],
        input: [floatValueInfo('input', ['batch', 2, 8, 8])],
        output: [floatValueInfo('logits', ['batch', 3])],
      }),
    }),
  );
}

interface Tally {
  imported: number;
  refused: number;
}

/** Imports one variant: success must give a graph whose every parameter has a weight of its size; failure must be an OnnxError naming the file. */
function tryImport(bytes: Uint8Array, label: string, tally: Tally): ImportedGraph | undefined {
  let result: ImportedGraph;
  try {
    result = onnxToGraph(bytes, 'fuzz.onnx');
  } catch (e) {
    assert.ok(e instanceof OnnxError, `${label}: crashed with ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, /fuzz\.onnx/, `${label}: error does not name the file: ${e.message}`);
    tally.refused++;
    return undefined;
  }
  for (const p of result.graph.params) {
    const t = result.weights.get(p.name);
    assert.ok(t, `${label}: imported, but parameter ${p.name} has no weight`);
    assert.equal(t.data.length, p.shape.reduce((a, b) => a * b, 1), `${label}: ${p.name} has the wrong size`);
  }
  tally.imported++;
  return result;
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const out = new Uint8Array(src);
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(rand() * out.length);
    const kind = rand();
    if (kind < 0.4) out[i] = Math.floor(rand() * 256);
    else if (kind < 0.7) out[i] ^= 1 << Math.floor(rand() * 8);
    else out[i] = [0, 0x7f, 0x80, 0xff][Math.floor(rand() * 4)];
  }
  return out;
}

for (const [name, bytes, truncations, mutations] of [
  ['a small hand-made model', smallModel(), Infinity, 3000],
  ["PyTorch's DenseNet", torchReference('densenet121').onnx, 300, 300],
] as const) {
  test(`${name}: every truncation is refused with a clear error or imports consistently`, () => {
    const tally: Tally = { imported: 0, refused: 0 };
    const step = Math.max(1, Math.floor(bytes.length / Math.min(bytes.length, truncations)));
    for (let n = 0; n < bytes.length; n += step) tryImport(bytes.subarray(0, n), `first ${n} of ${bytes.length} bytes`, tally);
    assert.ok(tally.refused > 0);
  });

  test(`${name}: random byte mutations never crash the importer`, () => {
    const rand = mulberry32(18);
    const tally: Tally = { imported: 0, refused: 0 };
    for (let k = 0; k < mutations; k++) tryImport(mutate(bytes, rand), `mutation ${k}`, tally);
    // Both outcomes occur: mutations inside weight values still import, structural ones do not.
    assert.ok(tally.imported > 0 && tally.refused > 0, `imported ${tally.imported}, refused ${tally.refused}`);
  });
}

/** One structural edit of a decoded model: the kinds of wrong a careless exporter or editor makes. */
function mutateStructure(src: Uint8Array, rand: () => number): Uint8Array {
  const m = decodeOnnx(src);
  const g = m.graph!;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const odd = [-1, 0, 1, 2, 3, 7, 2 ** 31, 2 ** 53, -(2 ** 40)];
  const tensors = [...g.node.flatMap((n) => [...n.input, ...n.output]), ...g.initializer.map((t) => t.name ?? ''), 'missing'];
  const kind = Math.floor(rand() * 8);
  const n = pick(g.node);
  const t = pick(g.initializer);
  if (kind === 0) t.dims = t.dims.map((d) => (rand() < 0.5 ? pick(odd) : d));
  else if (kind === 1 && t.rawData) t.rawData = t.rawData.subarray(0, Math.max(0, t.rawData.length - 1 - Math.floor(rand() * 8)));
  else if (kind === 2) t.dataType = pick([0, 2, 6, 7, 10, 11, 99]);
  else if (kind === 3 && n.attribute.length) {
    const a = pick(n.attribute);
    a.ints = a.ints.map(() => pick(odd));
    a.i = pick(odd);
  } else if (kind === 4 && n.input.length) n.input[Math.floor(rand() * n.input.length)] = pick(tensors);
  else if (kind === 5) n.opType = pick(['Conv', 'Relu', 'Add', 'Concat', 'MaxPool', 'Gemm', 'Flatten', 'BatchNormalization', 'Pad', 'Reshape', 'Identity', 'Mul']);
  else if (kind === 6) n.output = rand() < 0.5 ? [] : [pick(tensors)];
  else g.input[0].type!.tensorType!.shape!.dim = g.input[0].type!.tensorType!.shape!.dim.map((d) => (rand() < 0.3 ? { dimValue: pick(odd) } : d));
  return encodeOnnx(m);
}

test('structural mutations (dims, data types, truncated raw data, attributes, rewired inputs, swapped operators) never crash the importer; what it accepts runs in ONNX Runtime', async () => {
  const rand = mulberry32(1818);
  const src = smallModel();
  const tally: Tally = { imported: 0, refused: 0 };
  for (let k = 0; k < 2000; k++) {
    const label = `structural mutation ${k}`;
    const accepted = tryImport(mutateStructure(src, rand), label, tally);
    if (!accepted) continue;
    // An accepted graph is a valid network: written back, ONNX Runtime loads and runs it.
    const { channels, height, width } = accepted.graph.input;
    const session = await onnxRuntimeSession(encodeOnnx(graphToOnnx(accepted.graph, accepted.weights))).catch((e: Error) => assert.fail(`${label}: imported, but ONNX Runtime refuses it: ${e.message}`));
    try {
      const out = await onnxRuntimeRun(session, new Float32Array(channels * height * width), [1, channels, height, width]);
      assert.equal(out.length, accepted.numClasses, `${label}: ${out.length} outputs for ${accepted.numClasses} classes`);
    } finally {
      await session.release();
    }
  }
  assert.ok(tally.refused > tally.imported, `imported ${tally.imported}, refused ${tally.refused}`);
});
