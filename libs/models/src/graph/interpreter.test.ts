// The graph interpreter against PyTorch on a hand-made graph with every operator the built-in
// networks do not use: biased, asymmetric-padded, dilated depthwise and grouped convs, clip, concat,
// SE-style sigmoid·mul, ceil-mode max-pooling, average pooling, flatten of an H×W map, dropout.
// PyTorch is Debian's python3-torch; without it the test is skipped.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { initBackend, tf } from '@flowprune/tensor';
import { tfShape, torchToTf } from '../layout.js';
import { GraphBuilder } from './builder.js';
import { compileForward } from './interpreter.js';
import { inferShapes } from './shapes.js';

// Debian's python3 (a pyenv python3 earlier on PATH may lack the Debian packages).
const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
const skip = !python && 'python3-torch is not installed (apt-get install python3-torch)';

before(async () => {
  await initBackend();
});

function graph() {
  const b = new GraphBuilder({ name: 'x', channels: 3, height: 6, width: 6 });
  const a = b.clip(b.bn('ba', b.conv('a', 'x', 4, { kernel: 3, padding: 1, bias: true })), 0, 6);
  const asym = b.conv('asym', a, 4, { kernel: 3, padding: [1, 0, 1, 2] });
  const dw = b.relu(b.sum(b.conv('dw', a, 4, { kernel: 3, padding: 2, dilation: 2, groups: 4 }), asym));
  const gc = b.conv('gc', a, 6, { kernel: 1, groups: 2 });
  const cat = b.concat([dw, gc]);
  const s = b.sigmoid(b.conv('se2', b.relu(b.conv('se1', b.globalAvgPool(cat), 3, { kernel: 1, bias: true })), 10, { kernel: 1, bias: true }));
  const pooled = b.pool('maxpool', b.mul(cat, s), { kernel: 3, stride: 2, padding: 1, ceilMode: true });
  const avg = b.pool('avgpool', pooled, { kernel: 2, stride: 2 });
  return b.finish(b.linear('fc', b.identity(b.flatten(b.sum(avg, b.relu(avg))), 'dropout'), 5));
}

// The same network in PyTorch's functional API, fed the same weights (JSON on stdin).
const PYTORCH = `
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
W = {k: torch.tensor(v['data'], dtype=torch.float32).reshape(v['shape']) for k, v in d['weights'].items()}
x = torch.tensor(d['x'], dtype=torch.float32).reshape(d['xshape'])
a = F.conv2d(x, W['a.weight'], W['a.bias'], padding=1)
a = F.batch_norm(a, W['ba.running_mean'], W['ba.running_var'], W['ba.weight'], W['ba.bias'], False, 0.1, 1e-5).clamp(0, 6)
asym = F.conv2d(F.pad(a, (0, 2, 1, 1)), W['asym.weight'])
dw = F.relu(F.conv2d(a, W['dw.weight'], padding=2, dilation=2, groups=4) + asym)
gc = F.conv2d(a, W['gc.weight'], groups=2)
cat = torch.cat([dw, gc], 1)
s = torch.sigmoid(F.conv2d(F.relu(F.conv2d(F.adaptive_avg_pool2d(cat, 1), W['se1.weight'], W['se1.bias'])), W['se2.weight'], W['se2.bias']))
p = F.max_pool2d(cat * s, 3, 2, 1, ceil_mode=True)
v = F.avg_pool2d(p, 2, 2)
y = F.linear(torch.flatten(v + F.relu(v), 1), W['fc.weight'], W['fc.bias'])
print(json.dumps({'y': y.flatten().tolist(), 'pooled': list(p.shape)}))
`;

test('the interpreter computes what PyTorch computes (1e-4 relative)', { skip }, () => {
  const g = graph();
  const shapes = inferShapes(g);
  const rand = mulberry32(3);
  const weights: Record<string, { shape: number[]; data: number[] }> = {};
  const vars = new Map<string, tf.Tensor>();
  for (const spec of g.params) {
    if (spec.kind === 'bn_num_batches_tracked') continue;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => (spec.kind === 'bn_running_var' ? 0.5 + rand() : rand() - 0.5));
    weights[spec.name] = { shape: spec.shape, data: Array.from(data) };
    vars.set(spec.name, tf.tensor(torchToTf(spec, data), tfShape(spec)));
  }
  const xNchw = Float32Array.from({ length: 2 * 3 * 6 * 6 }, () => rand() * 2 - 1);
  const x = tf.transpose(tf.tensor4d(xNchw, [2, 3, 6, 6]), [0, 2, 3, 1]) as tf.Tensor4D;
  const run = spawnSync(python!, ['-c', PYTORCH], { input: JSON.stringify({ weights, x: Array.from(xNchw), xshape: [2, 3, 6, 6] }), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const ref = JSON.parse(run.stdout) as { y: number[]; pooled: number[] };
  const pooled = g.nodes.find((n) => n.op === 'maxpool')!.output;
  assert.deepEqual([2, ...shapes.get(pooled)!], ref.pooled, 'ceil-mode pooling size as PyTorch');
  const y = compileForward(g)((name) => vars.get(name)!, x, { training: false }).dataSync();
  const scale = Math.max(...ref.y.map(Math.abs));
  ref.y.forEach((v, i) => assert.ok(Math.abs(y[i] - v) <= 1e-4 * scale, `logit ${i}: ${y[i]} vs PyTorch ${v}`));
});
