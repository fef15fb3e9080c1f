import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork } from '../arch/index.js';
import { vggGraph, VGG13_CONFIG } from '../arch/vgg.js';

test('vgg13 graph: the same state_dict entries as the network', () => {
  const g = vggGraph(VGG13_CONFIG, 10);
  assert.deepEqual(g.params, buildNetwork('vgg13', 10).params);
  assert.equal(g.nodes.filter((n) => n.op === 'conv').length, 10);
});
