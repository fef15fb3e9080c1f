// A hand-made graph with every node type the exporter maps (biased, strided, dilated, depthwise and
// asymmetrically padded convs, BatchNorm, ReLU, Clip, SE-style Sigmoid·Mul, residual add, concat,
// max/avg pools with padding and ceil mode, global pool, dropout, flatten, bias-free linear):
// ONNX Runtime's outputs equal PyTorch's functional ops on the same weights (testdata/torch_graph.py).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { GraphBuilder, type Graph, type StateDict } from '@flowprune/models';
import { graphToOnnx } from './export.js';
import { onnxRuntimeRun, onnxRuntimeSession, randomImages } from './latency.js';
import { encodeOnnx } from './onnx-file.js';

const BATCH = 2;

function everyNodeGraph(): Graph {
  const g = new GraphBuilder({ name: 'input', channels: 3, height: 9, width: 9 });
  const stem = g.relu(g.bn('stem_bn', g.conv('stem', 'input', 8, { kernel: 3, padding: 1, bias: true })));
  const dw = g.clip(g.conv('dw', stem, 8, { kernel: 3, stride: 2, padding: [1, 1, 0, 0], groups: 8 }), 0, 6); // 4×4
  const dil = g.conv('dil', dw, 8, { kernel: 3, padding: 2, dilation: 2 });
  const se = g.sigmoid(g.conv('se', g.globalAvgPool(dil), 8, { kernel: 1, bias: true }));
  const res = g.sum(g.mul(dil, se), dw);
  const cat = g.concat([g.conv('branch', res, 4, { kernel: 1 }), g.pool('maxpool', res, { kernel: 3, stride: 1, padding: 1 })]); // 12×4×4
  const avg = g.pool('avgpool', cat, { kernel: 3, stride: 2, padding: 1, ceilMode: true }); // 12×3×3
  const max = g.pool('maxpool', avg, { kernel: 2, stride: 2, ceilMode: true }); // 12×2×2
  const flat = g.flatten(g.identity(max, 'dropout'), 12 * 2 * 2);
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

const torchPython = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);

test('every node type: ONNX Runtime equals PyTorch on the exported graph', { skip: !torchPython && 'no python3 with torch (Debian python3-torch)' }, async () => {
  const graph = everyNodeGraph();
  const sd = seededWeights(graph, 7);
  const images = randomImages(BATCH, [3, 9, 9], 2);
  const session = await onnxRuntimeSession(encodeOnnx(graphToOnnx(graph, sd)), 1);
  const actual = await onnxRuntimeRun(session, images, [BATCH, 3, 9, 9]);
  await session.release();
  const weights = Object.fromEntries([...sd].filter(([, t]) => t.dtype === 'F32').map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data as Float32Array) }]));
  const ref = spawnSync(torchPython!, [join(import.meta.dirname, '../testdata/torch_graph.py')], {
    input: JSON.stringify({ graph, weights, input: Array.from(images), batch: BATCH }),
    encoding: 'utf8',
  });
  assert.equal(ref.status, 0, ref.stderr);
  const expected = JSON.parse(ref.stdout) as number[];
  assert.equal(actual.length, BATCH * 5);
  assert.equal(expected.length, actual.length);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...expected.map((v, i) => Math.abs(v - actual[i])));
  assert.ok(worst <= 1e-4 * scale, `max |ONNX Runtime − PyTorch| ${worst} > 1e-4 × ${scale}`);
});
