// The generic policy: whole channel groups removed physically (residual streams too), exactly.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { countParameters, type ArchConfig, type ArchName } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { originalWidths, pruneStep } from './prune-step.js';
import { pruningStructure } from './structure.js';
import { maskedLogitDifference, randomImportance, randomModel } from './test-util.js';

before(async () => {
  await initBackend();
});

// Narrow networks keep the tests fast; the structure is the built-in one.
const CASES: [ArchName, ArchConfig | undefined][] = [
  ['vgg13', [8, 8, 'M', 8, 8, 'M', 16, 16, 'M', 16, 16, 'M', 16, 16, 'M']],
  ['mobilenet_v1', [8, 8, [16, 2], 16, [16, 2], 16, [32, 2], 32, 32, 32, 32, 32, [32, 2], 32]],
  ['resnet56', undefined],
];

for (const [arch, config] of CASES) {
  test(`${arch}: generic policy — pruned logits equal the unpruned ones with the removed groups' channels zeroed`, () => {
    const model = randomModel(arch, 10, 7, config);
    const res = pruneStep(model, randomImportance(model, 3), { ratio: 0.4, pCumulative: 60, originalWidths: originalWidths(model.net), policy: 'generic', generic: { aggregate: 'mean' } });
    assert.equal(res.model.masks.size, 0, 'nothing is masked: channels are removed');
    if (arch === 'resnet56') assert.ok((res.model.net.config as Record<string, number>).base < 16, 'a residual stream is narrowed');
    assert.ok(countParameters(res.model.net) < countParameters(model.net));
    assert.deepEqual(res.plan.graph.params, res.model.net.params, 'the resized graph is the pruned network’s');
    const diff = maskedLogitDifference(model, res.model, res.plan.kept, 5);
    assert.ok(diff.pruned <= 1e-4, `${arch}: relative logit difference ${diff.pruned}`);
    assert.ok(diff.unmasked > 1e-3, 'the removed channels mattered');
    res.model.dispose();
    model.dispose();
  });
}

test('generic policy narrows a residual stream physically, in every coupled layer at once', () => {
  const model = randomModel('resnet56', 10, 2);
  const res = pruneStep(model, randomImportance(model, 8), { ratio: 0.5, pCumulative: 50, originalWidths: originalWidths(model.net), policy: 'generic', generic: { aggregate: 'mean' } });
  const cfg = res.model.net.config as Record<string, number | number[]>;
  const stage1 = (cfg.l1 as number[]).filter((_, j) => j % 2 === 1);
  assert.ok((cfg.base as number) < 16, 'the stem (on the stage-1 stream) is narrowed');
  assert.ok(stage1.every((w) => w === cfg.base), 'every conv2 writing the stage-1 stream has the stem’s width');
  res.model.dispose();
  model.dispose();
});

test('generic policy keeps at least one channel of every group, and never touches the output', () => {
  const model = randomModel('vgg13', 10, 1, CASES[0][1]);
  const res = pruneStep(model, randomImportance(model, 2), { ratio: 0.99, pCumulative: 1, originalWidths: originalWidths(model.net), policy: 'generic', generic: { aggregate: 'mean' } });
  assert.ok(res.plan.kept.every((k) => k.length >= 1), `kept widths ${res.plan.kept.map((k) => k.length)}`);
  assert.deepEqual(res.model.vars.get('classifier.bias')!.shape, [10]);
  res.model.dispose();
  model.dispose();
});

test('generic max_ratio caps the share of a group removed in one step', () => {
  const model = randomModel('vgg13', 10, 1, CASES[0][1]);
  const imp = randomImportance(model, 4);
  imp[0] = imp[0].map(() => -1); // the first layer is least important everywhere
  const res = pruneStep(model, imp, { ratio: 0.2, pCumulative: 80, originalWidths: originalWidths(model.net), policy: 'generic', generic: { maxRatio: 0.5 } });
  assert.equal(res.plan.kept[0].length, 4, 'half of layer 0 (8 channels) stays');
  res.model.dispose();
  model.dispose();
});

test('paper rules are read off the structure: depthwise layers tie to their producer, ResNet pins the stem', () => {
  const mobile = pruningStructure(randomModel('mobilenet_v1', 10, 1, CASES[1][1]).net);
  // Layer 2b+1 (depthwise) takes its channels from layer 2b (the stem or the previous pointwise).
  mobile.layers.forEach((r, l) => assert.equal(r.depthwise ? r.source : undefined, l % 2 === 1 ? l - 1 : undefined, `layer ${l}`));
  const resnet = pruningStructure(randomModel('resnet56', 10, 1).net);
  assert.equal(resnet.residualGroups.size, 3, 'one residual stream per stage');
  assert.deepEqual(
    resnet.layers.flatMap((r, l) => (resnet.residualGroups.has(r.group) && !r.feedsAdd ? [l] : [])),
    [0],
    'only the stem writes a stream without an add of its own',
  );
});
