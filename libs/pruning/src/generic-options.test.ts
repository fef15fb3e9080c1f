// The generic policy's options for imported models: round_to, the per-group floor (max_ratio), the
// network's output never pruned, and a clear error when nothing can be pruned.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GraphBuilder, graphNetwork, type Network } from '@flowprune/models';
import { genericStep } from './generic.js';
import { PruneError } from './ranking.js';

/** conv(3→16)+BN+ReLU, conv(16→16)+BN+ReLU, then a 1×1 conv to `classes` channels + BN, pooled: its output is the logits. */
function net(classes = 4, withBn = true): Network {
  const g = new GraphBuilder({ name: 'input', channels: 3, height: 8, width: 8 });
  const bn = (p: string, x: string) => (withBn ? g.bn(p, x) : x);
  let x = g.relu(bn('bn1', g.conv('c1', 'input', 16, { kernel: 3, padding: 1, bias: !withBn })));
  x = g.relu(bn('bn2', g.conv('c2', x, 16, { kernel: 3, padding: 1, bias: !withBn })));
  x = bn('bn3', g.conv('head', x, classes, { kernel: 1, bias: !withBn }));
  return graphNetwork(g.finish(g.flatten(g.globalAvgPool(x))));
}

/** Importance c + 100·l for channel c of filter layer l: the head's channels are the least important. */
const ascending = (n: Network) => n.filterLayers.map((l, i) => Array.from({ length: l.outChannels }, (_, c) => (i === 2 ? -1 : c + 100 * i)));

const kept = (n: Network, removed: number[]) => n.filterLayers.map((l, i) => l.outChannels - removed[i]);

test("the group feeding the logits is never pruned, even with the lowest importance", () => {
  const n = net();
  const { selection } = genericStep(n, ascending(n), 0.5);
  assert.equal(selection.counts[2], 0);
  assert.ok(selection.counts[0] + selection.counts[1] > 0);
});

test('round_to 8: every group keeps a multiple of 8 channels, the most important removed ones returning', () => {
  const n = net();
  // 0.3 of 32 entries: 9 removed, all from c1 (importance 0..15 < 100..): c1 would keep 7.
  const plain = genericStep(n, ascending(n), 0.3).selection;
  assert.deepEqual(kept(n, plain.counts), [7, 16, 4]);
  const rounded = genericStep(n, ascending(n), 0.3, { roundTo: 8 }).selection;
  assert.deepEqual(kept(n, rounded.counts), [8, 16, 4]);
  assert.deepEqual(rounded.removed[0], [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('max_ratio caps what one group loses in a step', () => {
  const n = net();
  const { selection } = genericStep(n, ascending(n), 0.5, { maxRatio: 0.25 });
  assert.deepEqual(kept(n, selection.counts), [12, 12, 4]);
});

test('round_to must be a positive integer', () => {
  const n = net();
  assert.throws(() => genericStep(n, ascending(n), 0.3, { roundTo: 0 }), /round_to must be a positive integer, got 0/);
});

test('a network without a prunable group is refused with a clear error', () => {
  const n = net(4, false);
  assert.throws(() => genericStep(n, [], 0.3), (e: unknown) => e instanceof PruneError && /no prunable channel group/.test(e.message));
});
