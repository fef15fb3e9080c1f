import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork, parseArch } from './arch/index.js';
import { countFlops, countMacs, countParameters } from './counts.js';
import { fixturesPresent, readExpected, readSizeTable } from './fixtures.test-util.js';

const implemented = new Set(['vgg13', 'resnet56']);

test('parameter, MAC and ptflops counts equal the fixture README table', { skip: !fixturesPresent && 'no fixtures' }, () => {
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
    const e = readExpected(arch) as { layers: { conv: string; bn: string; out_channels: number; fan_in: number }[]; num_classes: number };
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
