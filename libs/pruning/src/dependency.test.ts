// The channel-dependency analysis on small hand-made graphs, one edge case per test.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GraphBuilder, type Graph } from '@flowprune/models';
import { dependencyGroups, type ChannelGroup, type DependencyGraph } from './dependency.js';

const input = { name: 'x', channels: 3, height: 4, width: 4 };

const analysed = new WeakMap<Graph, DependencyGraph>();

/** The group holding a tensor's channels (all of them in one group). */
function groupOf(g: Graph, tensor: string): ChannelGroup {
  const d = analysed.get(g) ?? dependencyGroups(g);
  analysed.set(g, d);
  const ids = new Set(d.channelOf.get(tensor)!.map(([id]) => id));
  assert.equal(ids.size, 1, `${tensor} lies in one group`);
  return d.groups[[...ids][0]];
}

const slice = (grp: ChannelGroup, param: string, dim: 0 | 1) => grp.slices.find((s) => s.param === param && s.dim === dim);

/** conv a → head: GAP, flatten, linear `fc` (the logits). */
function head(b: GraphBuilder, x: string, classes = 2): Graph {
  return b.finish(b.linear('fc', b.flatten(b.globalAvgPool(x)), classes));
}

test('a chain through BatchNorm, ReLU and pooling couples a conv with its next conv', () => {
  const b = new GraphBuilder(input);
  const a = b.pool('maxpool', b.relu(b.bn('bn', b.conv('a', 'x', 4, { kernel: 3, padding: 1 }))), { kernel: 2 });
  const g = head(b, b.conv('b', a, 5, { kernel: 1 }));
  const grp = groupOf(g, 'a');
  assert.equal(grp.size, 4);
  assert.deepEqual(grp.producers, ['a']);
  assert.deepEqual(grp.norms, ['bn']);
  assert.deepEqual(slice(grp, 'a.weight', 0)?.index, [0, 1, 2, 3]);
  assert.deepEqual(slice(grp, 'bn.running_var', 0)?.index, [0, 1, 2, 3]);
  assert.deepEqual(slice(grp, 'b.weight', 1)?.index, [0, 1, 2, 3]);
  assert.equal(grp.blocked, undefined);
  assert.ok(!slice(grp, 'b.weight', 0), 'the next conv’s outputs are another group');
});

test('a residual add couples both producers and every consumer into one group', () => {
  const b = new GraphBuilder(input);
  const p = b.conv('p', 'x', 4, { kernel: 1 });
  const q = b.conv('q', b.relu(p), 4, { kernel: 3, padding: 1 });
  const s = b.relu(b.sum(b.bn('bq', q), p));
  const g = head(b, b.conv('r', s, 6, { kernel: 1 }));
  const grp = groupOf(g, s);
  assert.deepEqual(grp.producers.sort(), ['p', 'q']);
  assert.deepEqual(grp.norms, ['bq']);
  for (const [param, dim] of [['p.weight', 0], ['q.weight', 0], ['q.weight', 1], ['r.weight', 1]] as const)
    assert.ok(slice(grp, param, dim), `${param} dim ${dim} is in the residual group`);
  assert.equal(groupOf(g, 'p'), grp);
});

test('a concat places its inputs’ groups at their offsets in the consumer', () => {
  const b = new GraphBuilder(input);
  const c = b.concat([b.conv('a', 'x', 4, { kernel: 1 }), b.conv('b', 'x', 3, { kernel: 1 })]);
  const g = head(b, b.conv('c', c, 5, { kernel: 1 }));
  assert.deepEqual(slice(groupOf(g, 'a'), 'c.weight', 1)?.index, [0, 1, 2, 3]);
  assert.deepEqual(slice(groupOf(g, 'b'), 'c.weight', 1)?.index, [4, 5, 6]);
  assert.notEqual(groupOf(g, 'a'), groupOf(g, 'b'));
});

test('a depthwise conv ties its output channels to its input channels', () => {
  const b = new GraphBuilder(input);
  const a = b.relu(b.bn('ba', b.conv('a', 'x', 4, { kernel: 1 })));
  const dw = b.relu(b.bn('bd', b.conv('dw', a, 4, { kernel: 3, padding: 1, groups: 4 })));
  const g = head(b, b.conv('pw', dw, 6, { kernel: 1 }));
  const grp = groupOf(g, 'a');
  assert.equal(groupOf(g, 'dw'), grp);
  assert.deepEqual(grp.producers, ['a', 'dw']);
  assert.deepEqual(grp.norms, ['ba', 'bd']);
  assert.deepEqual(slice(grp, 'dw.weight', 0)?.index, [0, 1, 2, 3]);
  assert.ok(!slice(grp, 'dw.weight', 1), 'a depthwise weight has no input columns to cut');
  assert.deepEqual(slice(grp, 'pw.weight', 1)?.index, [0, 1, 2, 3]);
});

test('a flatten of an H×W map into a linear layer reads each channel as a block of H·W features', () => {
  const b = new GraphBuilder(input);
  const a = b.conv('a', 'x', 3, { kernel: 3, stride: 2, padding: 1 }); // 3 × 2 × 2
  const g = b.finish(b.linear('fc', b.flatten(a), 2));
  const fc = slice(groupOf(g, 'a'), 'fc.weight', 1)!;
  assert.deepEqual(fc.index, [0, 4, 8]);
  assert.equal(fc.span, 4);
});

test('global pooling then flatten reads one feature per channel', () => {
  const b = new GraphBuilder(input);
  const g = head(b, b.conv('a', 'x', 3, { kernel: 1 }));
  const fc = slice(groupOf(g, 'a'), 'fc.weight', 1)!;
  assert.deepEqual(fc.index, [0, 1, 2]);
  assert.equal(fc.span, 1);
});

test('SE-style channel attention (sigmoid · mul) couples the excitation conv with the map it scales', () => {
  const b = new GraphBuilder(input);
  const a = b.relu(b.bn('ba', b.conv('a', 'x', 4, { kernel: 1 })));
  const squeeze = b.relu(b.conv('se.fc1', b.globalAvgPool(a), 2, { kernel: 1, bias: true }));
  const excite = b.sigmoid(b.conv('se.fc2', squeeze, 4, { kernel: 1, bias: true }));
  const g = head(b, b.conv('c', b.mul(a, excite), 5, { kernel: 1 }));
  const grp = groupOf(g, 'a');
  assert.equal(groupOf(g, 'se.fc2'), grp);
  for (const [param, dim] of [['se.fc2.weight', 0], ['se.fc2.bias', 0], ['se.fc1.weight', 1], ['c.weight', 1]] as const)
    assert.ok(slice(grp, param, dim), `${param} dim ${dim} is in the scaled map's group`);
  assert.notEqual(groupOf(g, 'se.fc1'), grp, 'the squeezed channels are a group of their own');
});

test('the image input and the network output are never prunable', () => {
  const b = new GraphBuilder(input);
  const g = head(b, b.conv('a', 'x', 3, { kernel: 1 }));
  assert.match(groupOf(g, 'x').blocked ?? '', /image input/);
  assert.match(groupOf(g, 'fc').blocked ?? '', /network output/);
  assert.equal(groupOf(g, 'a').blocked, undefined);
});

test('a grouped (non-depthwise) conv blocks the channels it reads and writes', () => {
  const b = new GraphBuilder(input);
  const a = b.conv('a', 'x', 4, { kernel: 1 });
  const gc = b.conv('gc', a, 4, { kernel: 1, groups: 2 });
  const g = head(b, gc);
  assert.match(groupOf(g, 'a').blocked ?? '', /grouped conv gc/);
  assert.match(groupOf(g, 'gc').blocked ?? '', /grouped conv gc/);
});
