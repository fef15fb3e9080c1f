// A hand-made graph with every node type the exporter maps (biased, strided, dilated, depthwise and
// asymmetrically padded convs, BatchNorm, ReLU, Clip, SE-style Sigmoid·Mul, residual add, concat,
// max/avg pools with padding and ceil mode, global pool, dropout, flatten, bias-free linear):
// ONNX Runtime's outputs equal flowprune's graph interpreter, and PyTorch's functional ops on the
// same weights (testdata/torch_graph.py; also the ceil-mode pools the interpreter lacks).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { compileForward, GraphBuilder, tfShape, torchToTf, type Graph, type StateDict } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { graphToOnnx } from './export.js';
import { onnxRuntimeRun, onnxRuntimeSession, randomImages } from './latency.js';
import { encodeOnnx } from './onnx-file.js';

const BATCH = 2;

/** `ceilMode`: pools whose last window runs past the input (PyTorch's ceil_mode; flowprune's interpreter has none). */
function everyNodeGraph(ceilMode: boolean): Graph {
  const g = new GraphBuilder({ name: 'input', channels: 3, height: 9, width: 9 });
  const stem = g.relu(g.bn('stem_bn', g.conv('stem', 'input', 8, { kernel: 3, padding: 1, bias: true })));
  const dw = g.clip(g.conv('dw', stem, 8, { kernel: 3, stride: 2, padding: [1, 1, 0, 0], groups: 8 }), 0, 6); // 4×4
  const dil = g.conv('dil', dw, 8, { kernel: 3, padding: 2, dilation: 2 });
  const se = g.sigmoid(g.conv('se', g.globalAvgPool(dil), 8, { kernel: 1, bias: true }));
  const res = g.sum(g.mul(dil, se), dw);
  const cat = g.concat([g.conv('branch', res, 4, { kernel: 1 }), g.pool('maxpool', res, { kernel: 3, stride: 1, padding: 1 })]); // 12×4×4
  const avg = g.pool('avgpool', cat, { kernel: 3, stride: 2, padding: 1, ceilMode }); // 12×3×3 (ceil), 12×2×2
  const max = g.pool('maxpool', avg, { kernel: 2, stride: 2, ceilMode }); // 12×2×2 (ceil), 12×1×1
  const flat = g.flatten(g.identity(max, 'dropout'));
  return g.finish(g.identity(g.linear('fc', flat, 5, false)));
}

function seededWeights(graph: Graph, seed: number): StateDict {
  const rand = mulberry32(seed);
  const sd: StateDict = new Map();
  for (const p of graph.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (p.kind === 'bn_num_batches_tracked') sd.set(p.name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
    else sd.set(p.name, { dtype: 'F32', shape: p.shape, data: Float32Array.from({ length: n }, () => (p.kind === 'bn_running_var' ? 0.5 + rand() : rand() - 0.5)) });
  }
  return sd;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: output sizes differ`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(worst <= 1e-4 * scale, `${what}: max |difference| ${worst} > 1e-4 × ${scale}`);
}

async function onnxRuntimeOutputs(graph: Graph, sd: StateDict, images: Float32Array): Promise<Float32Array> {
  const session = await onnxRuntimeSession(encodeOnnx(graphToOnnx(graph, sd)), 1);
  try {
    return await onnxRuntimeRun(session, images, [BATCH, 3, 9, 9]);
  } finally {
    await session.release();
  }
}

test("every node type: ONNX Runtime equals flowprune's graph interpreter (eval mode)", async () => {
  await initBackend({ log: () => undefined });
  const graph = everyNodeGraph(false);
  const sd = seededWeights(graph, 7);
  const images = randomImages(BATCH, [3, 9, 9], 2);
  const specs = new Map(graph.params.map((p) => [p.name, p]));
  const expected = tf.tidy(() => {
    const vars = new Map([...sd].filter(([, t]) => t.dtype === 'F32').map(([k, t]) => [k, tf.tensor(torchToTf(specs.get(k)!, t.data as Float32Array), tfShape(specs.get(k)!))]));
    const x = tf.transpose(tf.tensor4d(images, [BATCH, 3, 9, 9]), [0, 2, 3, 1]) as tf.Tensor4D;
    return compileForward(graph)((name) => vars.get(name)!, x, { training: false }).dataSync() as Float32Array;
  });
  assertClose(await onnxRuntimeOutputs(graph, sd, images), expected, 'ONNX Runtime vs interpreter');
});

const torchPython = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);

test('every node type: ONNX Runtime equals PyTorch on the exported graph', { skip: !torchPython && 'no python3 with torch (Debian python3-torch)' }, async () => {
  const graph = everyNodeGraph(true);
  const sd = seededWeights(graph, 7);
  const images = randomImages(BATCH, [3, 9, 9], 2);
  const actual = await onnxRuntimeOutputs(graph, sd, images);
  const weights = Object.fromEntries([...sd].filter(([, t]) => t.dtype === 'F32').map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data as Float32Array) }]));
  const ref = spawnSync(torchPython!, [join(import.meta.dirname, '../testdata/torch_graph.py')], {
    input: JSON.stringify({ graph, weights, input: Array.from(images), batch: BATCH }),
    encoding: 'utf8',
  });
  assert.equal(ref.status, 0, ref.stderr);
  assert.equal(actual.length, BATCH * 5);
  assertClose(actual, JSON.parse(ref.stdout) as number[], 'ONNX Runtime vs PyTorch');
});
