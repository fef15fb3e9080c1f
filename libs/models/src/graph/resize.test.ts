import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GraphBuilder } from './builder.js';
import { resizeGraph, GraphResizeError } from './resize.js';

/** conv 3→8, BN, depthwise 8, pointwise 8→6, BN, pool, linear 6→4. */
function small() {
  const g = new GraphBuilder({ name: 'input', channels: 3, height: 8, width: 8 });
  let x = g.relu(g.bn('bn1', g.conv('c1', 'input', 8, { kernel: 3, padding: 1 })));
  x = g.conv('dw', x, 8, { kernel: 3, padding: 1, groups: 8 });
  x = g.bn('bn2', g.conv('pw', x, 6, { kernel: 1, bias: true }));
  return g.finish(g.linear('fc', g.flatten(g.globalAvgPool(x)), 4));
}

test('channel counts follow the new weight shapes; a depthwise conv keeps one group per channel', () => {
  const shapes = new Map<string, number[]>([
    ['c1.weight', [5, 3, 3, 3]],
    ['bn1.weight', [5]],
    ['dw.weight', [5, 1, 3, 3]],
    ['pw.weight', [2, 5, 1, 1]],
    ['bn2.weight', [2]],
    ['fc.weight', [4, 2]],
  ]);
  const r = resizeGraph(small(), (n) => shapes.get(n));
  const byName = new Map(r.nodes.map((n) => [n.name, n]));
  const dw = byName.get('dw')!;
  assert.ok(dw.op === 'conv' && dw.inChannels === 5 && dw.outChannels === 5 && dw.groups === 5);
  const pw = byName.get('pw')!;
  assert.ok(pw.op === 'conv' && pw.inChannels === 5 && pw.outChannels === 2 && pw.groups === 1);
  const fc = byName.get('fc')!;
  assert.ok(fc.op === 'linear' && fc.inFeatures === 2 && fc.outFeatures === 4);
  assert.deepEqual(r.params.find((p) => p.name === 'pw.bias')!.shape, [2]);
  assert.deepEqual(r.params.find((p) => p.name === 'bn2.running_var')!.shape, [2]);
});

test('unchanged parameters leave the graph as it was', () => {
  const g = small();
  assert.deepEqual(resizeGraph(g, () => undefined), g);
});

test('a shape of the wrong rank or with zero channels is refused naming the node', () => {
  assert.throws(() => resizeGraph(small(), (n) => (n === 'pw.weight' ? [0, 5, 1, 1] : undefined)), (e: unknown) => e instanceof GraphResizeError && /node pw: new shape \[0,5,1,1\]/.test(e.message));
  assert.throws(() => resizeGraph(small(), (n) => (n === 'dw.weight' ? [5, 2, 3, 3] : undefined)), /node dw: \[5, 2\] is no longer a depthwise weight/);
});
