// The importer on small hand-made ONNX graphs: one translation or one way of being wrong per test.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ConvNode, PoolNode } from '@flowprune/models';
import { onnxToGraph, SUPPORTED_OPS } from './import.js';
import { AttributeProto, AttributeProto_AttributeType } from './gen/onnx/onnx.js';
import {
  attribute,
  encodeOnnx,
  floatTensor,
  floatValueInfo,
  GraphProto,
  ModelProto,
  node,
  OnnxError,
  TensorProto,
  TensorProto_DataType,
  type NodeProto,
} from './onnx-file.js';

const ramp = (n: number, scale = 0.01) => Float32Array.from({ length: n }, (_, i) => scale * (i + 1));
const int64s = (name: string, values: number[]) => TensorProto.fromPartial({ name, dims: [values.length], dataType: TensorProto_DataType.INT64, int64Data: values });

/**
 * conv(2→4, 3×3, pad 1) → BN → Relu → GlobalAveragePool → Flatten → Gemm(4→3): a file like PyTorch
 * writes; `edit` changes nodes or initializers before it is built.
 */
function tinyModel(edit: { nodes?: (n: NodeProto[]) => NodeProto[]; inits?: (t: TensorProto[]) => TensorProto[]; input?: (number | string)[]; opset?: number } = {}): ModelProto {
  let nodes = [
    node('Conv', '/conv/Conv', ['input', 'conv.weight', 'conv.bias'], ['c'], [attribute('kernel_shape', [3, 3]), attribute('pads', [1, 1, 1, 1])]),
    node('BatchNormalization', '/bn_BatchNormalization', ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['b']),
    node('Relu', '/relu/Relu', ['b'], ['r']),
    node('GlobalAveragePool', '/pool/GlobalAveragePool', ['r'], ['p']),
    node('Flatten', '/Flatten', ['p'], ['f'], [attribute('axis', 1)]),
    node('Gemm', '/fc/Gemm', ['f', 'fc.weight', 'fc.bias'], ['logits'], [attribute('transB', 1)]),
  ];
  let inits = [
    floatTensor('conv.weight', [4, 2, 3, 3], ramp(72)),
    floatTensor('conv.bias', [4], ramp(4)),
    floatTensor('bn.weight', [4], ramp(4)),
    floatTensor('bn.bias', [4], ramp(4)),
    floatTensor('bn.running_mean', [4], ramp(4)),
    floatTensor('bn.running_var', [4], Float32Array.of(1, 1, 1, 1)),
    floatTensor('fc.weight', [3, 4], ramp(12)),
    floatTensor('fc.bias', [3], ramp(3)),
  ];
  if (edit.nodes) nodes = edit.nodes(nodes);
  if (edit.inits) inits = edit.inits(inits);
  return ModelProto.fromPartial({
    irVersion: 7,
    opsetImport: [{ domain: '', version: edit.opset ?? 13 }],
    graph: GraphProto.fromPartial({
      name: 'tiny',
      node: nodes,
      initializer: inits,
      input: [floatValueInfo('input', edit.input ?? ['batch', 2, 8, 8])],
      output: [floatValueInfo('logits', ['batch', 3])],
    }),
  });
}

const importBytes = (m: ModelProto) => onnxToGraph(encodeOnnx(m), 'm.onnx');
const refused = (m: ModelProto, pattern: RegExp) =>
  assert.throws(() => importBytes(m), (e: unknown) => e instanceof OnnxError && pattern.test(e.message), `expected an OnnxError matching ${pattern}`);

test('a PyTorch-like file becomes typed nodes with the initializers under their names', () => {
  const { graph, weights, numClasses } = importBytes(tinyModel());
  assert.deepEqual(graph.input, { name: 'input', channels: 2, height: 8, width: 8 });
  assert.deepEqual(graph.nodes.map((n) => n.op), ['conv', 'batchnorm', 'relu', 'globalavgpool', 'flatten', 'linear']);
  assert.equal(numClasses, 3);
  assert.equal(graph.output, 'logits');
  const conv = graph.nodes[0] as ConvNode;
  assert.deepEqual([conv.inChannels, conv.outChannels, conv.padding, conv.weight, conv.bias], [2, 4, [1, 1, 1, 1], 'conv.weight', 'conv.bias']);
  const bn = graph.nodes[1];
  assert.ok(bn.op === 'batchnorm' && bn.prefix === 'bn' && bn.params.numBatchesTracked === undefined && bn.eps === 1e-5);
  assert.deepEqual([...weights.keys()].sort(), graph.params.map((p) => p.name).sort());
  assert.deepEqual([...(weights.get('fc.weight')!.data as Float32Array)], [...ramp(12)]);
});

test('an unsupported operator is refused naming the node, its operator and the supported list', () => {
  const m = tinyModel({ nodes: (n) => [...n.slice(0, 5), node('Softmax', '/sm', ['f'], ['s']), node('Gemm', '/fc/Gemm', ['s', 'fc.weight', 'fc.bias'], ['logits'], [attribute('transB', 1)])] });
  refused(m, /node "\/sm" \(Softmax\): operator Softmax is not supported; flowprune imports Conv, BatchNormalization, .*Identity/);
  assert.ok(SUPPORTED_OPS.includes('Conv'));
});

test('an operator of another domain is refused naming the domain', () => {
  const m = tinyModel({ nodes: (n) => n.map((x) => (x.opType === 'Relu' ? { ...x, domain: 'com.microsoft' } : x)) });
  refused(m, /node "\/relu\/Relu" \(Relu\) is from domain "com\.microsoft"/);
});

test('bytes that are not an ONNX model are refused', () => {
  assert.throws(() => onnxToGraph(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 'junk.onnx'), (e: unknown) => e instanceof OnnxError && /junk\.onnx is not an ONNX model/.test(e.message));
});

test('a cycle is refused naming the nodes on it', () => {
  // Relu reads the Flatten's output, which depends on the Relu.
  const m = tinyModel({ nodes: (n) => n.map((x) => (x.opType === 'Relu' ? { ...x, input: ['f'] } : x)) });
  refused(m, /cycle through .*\/relu\/Relu.*acyclic/);
});

test('a tensor nothing produces is refused naming it', () => {
  refused(tinyModel({ nodes: (n) => n.map((x) => (x.opType === 'Relu' ? { ...x, input: ['nowhere'] } : x)) }), /tensor "nowhere" is read but neither an input, an initializer nor a node's output/);
});

test('a conv weight of the wrong input width is refused naming both sizes', () => {
  const m = tinyModel({ inits: (t) => t.map((x) => (x.name === 'conv.weight' ? floatTensor('conv.weight', [4, 3, 3, 3], ramp(108)) : x)) });
  refused(m, /node "\/conv\/Conv" \(Conv\): weight "conv.weight" has shape \[4,3,3,3\], which takes 3 input channels, but its input has 2/);
});

test('a BatchNorm initializer of the wrong size is refused naming it', () => {
  refused(tinyModel({ inits: (t) => t.map((x) => (x.name === 'bn.running_var' ? floatTensor('bn.running_var', [5], ramp(5)) : x)) }), /input_var "bn.running_var" has shape \[5\] \(5 values\); the node needs \[4\]/);
});

test('an initializer whose data does not fill its dims is refused', () => {
  const short = TensorProto.fromPartial({ name: 'conv.bias', dims: [4], dataType: TensorProto_DataType.FLOAT, rawData: Buffer.alloc(10) });
  refused(tinyModel({ inits: (t) => t.map((x) => (x.name === 'conv.bias' ? short : x)) }), /"conv.bias" has 10 raw bytes, not a whole number of float32 values/);
});

test('a linear layer whose weight does not fit the previous one is refused', () => {
  const m = tinyModel({
    nodes: (n) => [...n, node('Gemm', '/fc2/Gemm', ['logits', 'fc2.weight'], ['out'], [attribute('transB', 1)])],
    inits: (t) => [...t, floatTensor('fc2.weight', [2, 5], ramp(10))],
  });
  m.graph!.output = [floatValueInfo('out')];
  refused(m, /node "\/fc2\/Gemm" \(Gemm\): its weight takes 5 input features, its input has 3/);
});

test('image height and width must be fixed numbers', () => {
  refused(tinyModel({ input: ['batch', 2, 'h', 'w'] }), /input "input" must be N×C×H×W with fixed C, H and W \(got \[batch, 2, h, w\]\)/);
});

test('opsets outside the supported range are refused with the fix', () => {
  refused(tinyModel({ opset: 7 }), /opset 7 of the default ONNX domain; flowprune imports opsets 9 to 21/);
});

test('a second image input is refused', () => {
  const m = tinyModel();
  m.graph!.input.push(floatValueInfo('mask', ['batch', 1, 8, 8]));
  refused(m, /must take one image input, it takes 2 \(input, mask\)/);
});

test('weights stored outside the file are refused with the fix', () => {
  const ext = TensorProto.fromPartial({ name: 'conv.bias', dims: [4], dataType: TensorProto_DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] });
  refused(tinyModel({ inits: (t) => t.map((x) => (x.name === 'conv.bias' ? ext : x)) }), /stored outside the file \(external data\); save the model with all tensors inside/);
});

test('Add of a constant operand is refused (only computed tensors are added)', () => {
  const m = tinyModel({ nodes: (n) => n.map((x) => (x.opType === 'Relu' ? node('Add', '/add', ['b', 'bn.bias'], ['r']) : x)) });
  refused(m, /node "\/add" \(Add\): input 2 "bn.bias" is a constant/);
});

test('a deduplicated initializer (Identity of another) becomes a weight of its own under the Identity output name', () => {
  // PyTorch writes equal tensors once and aliases them with Identity (torchvision's zero biases).
  const m = tinyModel({
    nodes: (n) => [node('Identity', '', ['bn.running_mean'], ['conv.bias']), ...n],
    inits: (t) => t.filter((x) => x.name !== 'conv.bias'),
  });
  const { weights, graph } = importBytes(m);
  assert.deepEqual([...(weights.get('conv.bias')!.data as Float32Array)], [...ramp(4)]);
  assert.notEqual(weights.get('conv.bias')!.data, weights.get('bn.running_mean')!.data);
  assert.ok(!graph.nodes.some((n) => n.op === 'identity'));
});

test('one initializer read by two convs is copied for the second (so pruning one leaves the other)', () => {
  const m = tinyModel({
    nodes: (n) => [
      node('Conv', 'c0', ['input', 'conv.weight'], ['c0'], [attribute('pads', [1, 1, 1, 1])]),
      node('Conv', 'c1', ['input', 'conv.weight'], ['c1'], [attribute('pads', [1, 1, 1, 1])]),
      node('Add', 'sum', ['c0', 'c1'], ['c']),
      ...n.slice(1),
    ],
  });
  const { graph } = importBytes(m);
  assert.deepEqual(graph.nodes.filter((n): n is ConvNode => n.op === 'conv').map((n) => n.weight), ['conv.weight', 'conv.weight#1']);
});

test("a BatchNorm whose initializers are not named as PyTorch's gets them named after the node", () => {
  const names: Record<string, string> = { 'bn.weight': 's', 'bn.bias': 'B', 'bn.running_mean': 'm', 'bn.running_var': 'v' };
  const m = tinyModel({
    nodes: (n) => n.map((x) => (x.opType === 'BatchNormalization' ? { ...x, input: ['c', 's', 'B', 'm', 'v'] } : x)),
    inits: (t) => t.map((x) => (names[x.name!] ? { ...x, name: names[x.name!] } : x)),
  });
  const bn = importBytes(m).graph.nodes[1];
  assert.ok(bn.op === 'batchnorm');
  assert.equal(bn.prefix, 'bn_BatchNormalization');
  assert.deepEqual(Object.values(bn.params), ['bn_BatchNormalization.weight', 'bn_BatchNormalization.bias', 'bn_BatchNormalization.running_mean', 'bn_BatchNormalization.running_var']);
});

test('Clip(0, 6) from Constant nodes is ReLU6; Clip(0) alone is a ReLU', () => {
  const scalar = (name: string, v: number) => node('Constant', name, [], [name], [AttributeProto.fromPartial({ name: 'value', type: AttributeProto_AttributeType.TENSOR, t: floatTensor('', [], Float32Array.of(v)) })]);
  const six = tinyModel({ nodes: (n) => [scalar('lo', 0), scalar('hi', 6), ...n.map((x) => (x.opType === 'Relu' ? node('Clip', 'clip', ['b', 'lo', 'hi'], ['r']) : x))] });
  const clip = importBytes(six).graph.nodes[2];
  assert.ok(clip.op === 'clip' && clip.min === 0 && clip.max === 6);
  const relu = tinyModel({ nodes: (n) => [scalar('lo', 0), ...n.map((x) => (x.opType === 'Relu' ? node('Clip', 'clip', ['b', 'lo'], ['r']) : x))] });
  assert.equal(importBytes(relu).graph.nodes[2].op, 'relu');
});

test('a zero Pad before an AveragePool is folded into it, counting the zeros', () => {
  const m = tinyModel({
    nodes: (n) => [
      ...n.slice(0, 3),
      node('Pad', 'pad', ['r', 'pads'], ['padded']),
      node('AveragePool', 'avg', ['padded'], ['a'], [attribute('kernel_shape', [2, 2]), attribute('strides', [2, 2])]),
      node('GlobalAveragePool', 'gap', ['a'], ['p']),
      ...n.slice(4),
    ],
    inits: (t) => [...t, int64s('pads', [0, 0, 1, 0, 0, 0, 1, 0])],
  });
  const pool = importBytes(m).graph.nodes.find((n): n is PoolNode => n.op === 'avgpool')!;
  assert.deepEqual([pool.inputs[0], pool.padding, pool.countIncludePad], ['r', [1, 0, 1, 0], true]);
});

test('a zero Pad before a MaxPool is refused (max pools pad with −∞)', () => {
  const m = tinyModel({
    nodes: (n) => [...n.slice(0, 3), node('Pad', 'pad', ['r', 'pads'], ['padded']), node('MaxPool', 'max', ['padded'], ['a'], [attribute('kernel_shape', [2, 2])]), node('GlobalAveragePool', 'gap', ['a'], ['p']), ...n.slice(4)],
    inits: (t) => [...t, int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1])],
  });
  refused(m, /node "max" \(MaxPool\): reads the zero-padded "padded"; a max pool pads with −∞/);
});

test('Reshape to [N, −1] is a flatten; to anything else is refused', () => {
  const reshape = (shape: number[]) =>
    tinyModel({ nodes: (n) => n.map((x) => (x.opType === 'Flatten' ? node('Reshape', 'rs', ['p', 'shape'], ['f']) : x)), inits: (t) => [...t, int64s('shape', shape)] });
  assert.equal(importBytes(reshape([0, -1])).graph.nodes[4].op, 'flatten');
  assert.equal(importBytes(reshape([-1, 4])).graph.nodes[4].op, 'flatten');
  refused(reshape([2, 2, -1]), /node "rs" \(Reshape\): reshapes to \[2,2,-1\]; flowprune imports reshapes to \[N, −1\] \(a flatten\) only/);
});

test('ReduceMean over space without keepdims is a global pool and a flatten', () => {
  const m = tinyModel({
    nodes: (n) => [...n.slice(0, 3), node('ReduceMean', 'mean', ['r'], ['f'], [attribute('axes', [2, 3]), attribute('keepdims', 0)]), n[5]],
  });
  assert.deepEqual(importBytes(m).graph.nodes.map((n) => n.op), ['conv', 'batchnorm', 'relu', 'globalavgpool', 'flatten', 'linear']);
  refused(tinyModel({ nodes: (n) => [...n.slice(0, 3), node('ReduceMean', 'mean', ['r'], ['f'], [attribute('axes', [1])]), n[5]] }), /averages over axes \[1\]/);
});

test('MatMul by an [in, out] initializer is a linear layer with the weight stored [out, in]', () => {
  const m = tinyModel({ nodes: (n) => [...n.slice(0, 5), node('MatMul', 'mm', ['f', 'w'], ['logits'])], inits: (t) => [...t, floatTensor('w', [4, 3], ramp(12))] });
  const { graph, weights } = importBytes(m);
  const fc = graph.nodes[5];
  assert.ok(fc.op === 'linear' && fc.inFeatures === 4 && fc.outFeatures === 3 && fc.bias === undefined);
  const w = weights.get(fc.weight)!;
  assert.deepEqual(w.shape, [3, 4]);
  // w[o][i] = B[i][o] = 0.01·(3i + o + 1)
  assert.ok(Math.abs((w.data as Float32Array)[1 * 4 + 2] - 0.01 * (3 * 2 + 1 + 1)) < 1e-7);
});

test('a training-mode BatchNorm whose statistics outputs are read is refused', () => {
  const m = tinyModel({
    nodes: (n) => [n[0], { ...n[1], output: ['b', 'rm', 'rv'] }, node('Add', 'add', ['b', 'rm'], ['x']), { ...n[2], input: ['x'] }, ...n.slice(3)],
  });
  refused(m, /BatchNormalization\): its output "rm" is read; flowprune imports inference graphs/);
});
