import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork } from './arch/index.js';
import { prunableLayers } from './network-of.js';

test('the manifest follows the filter layers: conv, BatchNorm, width, in their order', () => {
  const net = buildNetwork('vgg13', 10);
  const manifest = prunableLayers(net.filterLayers);
  assert.equal(manifest.length, net.filterLayers.length);
  net.filterLayers.forEach((l, i) => assert.deepEqual(manifest[i], { conv: l.conv, batchNorm: l.bn, outChannels: l.outChannels, depthwise: false }));
});

test("MobileNet-V1's depthwise convs (groups = in channels) are marked depthwise, its pointwise ones not", () => {
  const net = buildNetwork('mobilenet_v1', 10);
  const manifest = prunableLayers(net.filterLayers);
  const depthwise = net.filterLayers.filter((l) => l.groups > 1);
  assert.ok(depthwise.length > 0);
  assert.deepEqual(
    manifest.filter((m) => m.depthwise).map((m) => m.conv),
    depthwise.map((l) => l.conv),
  );
  assert.ok(manifest.some((m) => !m.depthwise));
});
