import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork, parseArch } from './arch/index.js';
import { countFlops, countMacs, countParameters } from './counts.js';
import { readFixtureExpected } from '@flowprune/common/testing';
import { fixturesPresent, readSizeTable } from './fixtures.test-util.js';

const implemented = new Set(['vgg13', 'resnet56', 'mobilenet_v1']);

test('parameter, MAC and ptflops counts equal the table of the fixtures (docs/reference-fixtures.md §7)', { skip: !fixturesPresent && 'no fixtures' }, () => {
  const rows = readSizeTable().filter((r) => implemented.has(r.arch));
  assert.ok(rows.length >= 4, `expected size rows for vgg13 and resnet56, found ${rows.length}`);
  for (const r of rows) {
    const net = buildNetwork(parseArch(r.arch), r.classes);
    assert.equal(countParameters(net), r.params, `${r.arch}/${r.classes} parameters`);
    assert.equal(countMacs(net), r.macs, `${r.arch}/${r.classes} MACs`);
    assert.equal(countFlops(net), r.flops, `${r.arch}/${r.classes} FLOPs`);
  }
});

test('filter layers match expected.json layers', { skip: !fixturesPresent && 'no fixtures' }, () => {
  for (const arch of implemented) {
    const e = readFixtureExpected(arch);
    const net = buildNetwork(parseArch(arch), e.num_classes);
    assert.equal(net.filterLayers.length, e.layers.length);
    net.filterLayers.forEach((l, i) => {
      assert.equal(l.conv, e.layers[i].conv);
      assert.equal(l.bn, e.layers[i].bn);
      assert.equal(l.outChannels, e.layers[i].out_channels);
      assert.equal(l.fanIn, e.layers[i].fan_in);
    });
  }
});

test('ResNet-18/34 (the paper code\'s extras) have the well-known CIFAR parameter counts and layer counts', () => {
  // 11,173,962 and 21,282,122 are the widely reported counts of these CIFAR BasicBlock ResNets at 10
  // classes; 20 and 36 filter layers are what the original pruner iterates over.
  const r18 = buildNetwork('resnet18', 10);
  const r34 = buildNetwork('resnet34', 10);
  assert.equal(countParameters(r18), 11_173_962);
  assert.equal(countParameters(r34), 21_282_122);
  assert.equal(r18.filterLayers.length, 20);
  assert.equal(r34.filterLayers.length, 36);
  assert.deepEqual(
    r18.filterLayers.filter((l) => l.conv.includes('shortcut')).map((l) => l.conv),
    ['layer2.0.shortcut.0.weight', 'layer3.0.shortcut.0.weight', 'layer4.0.shortcut.0.weight'],
  );
});
