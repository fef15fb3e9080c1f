// Graphs of the built-in networks, what is derived from them, and malformed graphs.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork } from '../arch/index.js';
import { countMacs } from '../counts.js';
import { GraphBuilder } from './builder.js';
import { GraphError, inferShapes } from './shapes.js';
import type { Graph } from './types.js';

test('filter layers come from the graph: convs with a BatchNorm after them, in node order', () => {
  const r56 = buildNetwork('resnet56', 10).filterLayers;
  assert.equal(r56.length, 57);
  assert.equal(r56[21].conv, 'layer2.0.shortcut.0.weight', 'the projection follows its block’s conv2');
  assert.equal(r56[40].bn, 'layer3.0.shortcut.1');
  const vgg = buildNetwork('vgg13', 10).filterLayers;
  assert.deepEqual([vgg[0].conv, vgg[0].bn], ['features.0.weight', 'features.2'], 'VGG: conv → ReLU → BN');
  const mobile = buildNetwork('mobilenet_v1', 10).filterLayers;
  assert.deepEqual([mobile[1].groups, mobile[1].outChannels, mobile[1].fanIn], [32, 32, 9], 'depthwise layer 1');
});

test('the input size comes from the graph: ResNet-56 on 64×64 has four times the conv MACs', () => {
  const at = (h: number) => buildNetwork('resnet56', 10, undefined, { name: 'input', channels: 3, height: h, width: h });
  const linear = 64 * 10;
  assert.equal(countMacs(at(64)) - linear, 4 * (countMacs(at(32)) - linear));
});

test('a network that does not fit its input size is refused with the map size it reaches', () => {
  assert.throws(() => buildNetwork('vgg13', 10, undefined, { name: 'input', channels: 3, height: 64, width: 64 }), /leaves a 2x2 map/);
});

const tiny = (): Graph => {
  const b = new GraphBuilder({ name: 'x', channels: 3, height: 4, width: 4 });
  return b.finish(b.linear('fc', b.flatten(b.globalAvgPool(b.conv('a', 'x', 4, { kernel: 1 }))), 2));
};

test('a conv given the wrong number of input channels is an error naming the node', () => {
  const g = tiny();
  const conv = g.nodes[0];
  assert.ok(conv.op === 'conv');
  conv.inChannels = 5;
  assert.throws(() => inferShapes(g), (e: Error) => e instanceof GraphError && /node a \(conv\): expects 5 input channels, got 3/.test(e.message));
});

test('a node reading a tensor no earlier node produces is an error', () => {
  const g = tiny();
  g.nodes[1].inputs = ['nowhere'];
  assert.throws(() => inferShapes(g), /reads nowhere, which no earlier node produces/);
});

test('a linear layer on an unflattened map is an error', () => {
  const g = tiny();
  g.nodes = g.nodes.filter((n) => n.op !== 'flatten');
  g.nodes.at(-1)!.inputs = [g.nodes.at(-2)!.output];
  assert.throws(() => inferShapes(g), /fc \(linear\): needs a flat \[features\] input, got \[4,1,1\]/);
});
