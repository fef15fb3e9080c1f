import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { initBackend } from '@flowprune/tensor';
import { GraphBuilder, type StateDict } from '@flowprune/models';
import { graphToOnnx } from './export.js';
import { latencyStats, percentile } from './latency.js';
import { decodeOnnx, encodeOnnx, floatTensor, floatValues, metadataOf, OnnxError, TensorProto, TensorProto_DataType } from './onnx-file.js';
import { modelFromOnnx } from './rebuild.js';

/** conv(2→3, 3×3) → BatchNorm → ReLU → global pool → flatten → linear(3→2), weights 0.1·index. */
function tinyGraph() {
  const g = new GraphBuilder({ name: 'input', channels: 2, height: 4, width: 4 });
  let x = g.conv('conv', 'input', 3, { kernel: 3, padding: 1 });
  x = g.relu(g.bn('bn', x));
  x = g.flatten(g.globalAvgPool(x));
  const graph = g.finish(g.linear('fc', x, 2));
  const sd: StateDict = new Map();
  for (const p of graph.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (p.kind === 'bn_num_batches_tracked') sd.set(p.name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
    else sd.set(p.name, { dtype: 'F32', shape: p.shape, data: Float32Array.from({ length: n }, (_, i) => 0.1 * (i + 1)) });
  }
  return { graph, sd };
}

test('float tensors round-trip through raw_data and the wire', () => {
  const data = Float32Array.of(1.5, -2.25, 3e-8, 0);
  const t = TensorProto.decode(TensorProto.encode(floatTensor('w', [2, 2], data)).finish());
  assert.deepEqual([...floatValues(t, 'test')], [...data]);
  assert.deepEqual(t.dims, [2, 2]);
});

test('float_data tensors (no raw_data) are read too', () => {
  const t = TensorProto.fromPartial({ name: 'w', dims: [3], dataType: TensorProto_DataType.FLOAT, floatData: [1, 2, 3] });
  assert.deepEqual([...floatValues(t, 'test')], [1, 2, 3]);
});

test('a tensor whose data does not fit its shape is refused, naming it', () => {
  const t = TensorProto.fromPartial({ name: 'w', dims: [4], dataType: TensorProto_DataType.FLOAT, floatData: [1, 2, 3] });
  assert.throws(() => floatValues(t, 'm.onnx'), /m\.onnx: tensor w holds 3 values, its shape \[4\] needs 4/);
});

test('a file that is not ONNX is an OnnxError naming the file', () => {
  assert.throws(() => decodeOnnx(Uint8Array.of(0xff, 0xff, 0xff), 'junk.onnx'), (e: unknown) => e instanceof OnnxError && /junk\.onnx is not an ONNX model/.test(e.message));
  assert.throws(() => decodeOnnx(new Uint8Array(), 'empty.onnx'), /empty\.onnx is not an ONNX model \(no graph with nodes\)/);
});

test('export: nodes, initializers by state_dict name, opset 13, metadata; num_batches_tracked left out', () => {
  const { graph, sd } = tinyGraph();
  const model = decodeOnnx(encodeOnnx(graphToOnnx(graph, sd, { metadata: { arch: 'x' } })));
  assert.deepEqual(
    model.graph!.node.map((n) => n.opType),
    ['Conv', 'BatchNormalization', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm'],
  );
  assert.deepEqual(
    model.graph!.initializer.map((t) => t.name),
    ['conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'fc.weight', 'fc.bias'],
  );
  assert.deepEqual(model.opsetImport.map((o) => [o.domain ?? '', o.version]), [['', 13]]);
  assert.equal(metadataOf(model).get('arch'), 'x');
  const conv = model.graph!.node[0].attribute;
  assert.deepEqual(Object.fromEntries(conv.map((a) => [a.name, a.ints.length ? a.ints : a.i])), {
    kernel_shape: [3, 3],
    strides: [1, 1],
    pads: [1, 1, 1, 1],
    dilations: [1, 1],
    group: 1,
  });
});

test('export folds a mask into the BatchNorm scale and bias', () => {
  const { graph, sd } = tinyGraph();
  const model = graphToOnnx(graph, sd, { masks: new Map([['bn', Float32Array.of(1, 0, 1)]]) });
  const init = new Map(model.graph!.initializer.map((t) => [t.name, [...floatValues(t, 'test')]]));
  assert.deepEqual(init.get('bn.weight'), [Math.fround(0.1), 0, Math.fround(0.3)]);
  assert.deepEqual(init.get('bn.bias'), [Math.fround(0.1), 0, Math.fround(0.3)]);
  assert.deepEqual(init.get('bn.running_mean'), [Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)]);
});

test('export refuses a mask of no BatchNorm, a mask of the wrong width, and missing weights', () => {
  const { graph, sd } = tinyGraph();
  assert.throws(() => graphToOnnx(graph, sd, { masks: new Map([['conv', Float32Array.of(1, 1, 1)]]) }), /mask "conv" names no BatchNorm/);
  assert.throws(() => graphToOnnx(graph, sd, { masks: new Map([['bn', Float32Array.of(1, 1)]]) }), /mask "bn" has 2 entries for 3 channels/);
  sd.delete('fc.bias');
  assert.throws(() => graphToOnnx(graph, sd), /weights have no tensor "fc.bias"/);
});

test('a file flowprune did not export is rebuilt through the importer, as a graph-only model', async () => {
  await initBackend({ log: () => undefined });
  const { graph, sd } = tinyGraph();
  const model = modelFromOnnx(encodeOnnx(graphToOnnx(graph, sd)), 'theirs.onnx');
  assert.equal(model.net.arch, 'graph');
  assert.deepEqual(model.net.params.map((p) => p.name).filter((n) => !n.endsWith('num_batches_tracked')), graph.params.map((p) => p.name).filter((n) => !n.endsWith('num_batches_tracked')));
  model.dispose();
});

test('percentiles interpolate between order statistics as numpy does', () => {
  // numpy.percentile([1, 2, 3, 4, 10], [50, 95]) = [3, 8.8]
  assert.equal(percentile([1, 2, 3, 4, 10], 0.5), 3);
  assert.ok(Math.abs(percentile([1, 2, 3, 4, 10], 0.95) - 8.8) < 1e-12);
  const s = latencyStats([10, 30, 20], 8);
  assert.deepEqual([s.p50Ms, s.meanMs, s.imagesPerSecond, s.runs], [20, 20, 400, 3]);
});
