// Exact surgery: a pruned dense model computes what the unpruned one computes with the removed
// filters' outputs masked to zero — for every architecture.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { ARCH_NAMES, countFlops, countParameters, Model } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { carryMomentum } from './momentum.js';
import { nextPCumulative } from './schedule.js';
import { originalWidths, pruneStep } from './prune-step.js';
import { PROTECTED_VALUE, PruneError } from './ranking.js';
import { input, maskedLogitDifference, randomImportance, randomModel } from './test-util.js';

before(async () => {
  await initBackend();
});

for (const arch of ARCH_NAMES) {
  test(`${arch}: pruned logits equal masked unpruned logits (ratio 0.5)`, () => {
    const model = randomModel(arch, 10, 11);
    const ratio = 0.5;
    const res = pruneStep(model, randomImportance(model, 5), { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(model.net) });
    assert.ok(countFlops(res.model.net) < countFlops(model.net), 'FLOPs fall');
    assert.ok(countParameters(res.model.net) < countParameters(model.net), 'parameters fall');
    assert.deepEqual(res.plan.graph.params, res.model.net.params, 'the resized graph is the pruned network’s');
    const diff = maskedLogitDifference(model, res.model, res.plan.kept, 3);
    assert.ok(diff.pruned <= 1e-4, `${arch}: relative logit difference ${diff.pruned}`);
    // Without the masks the unpruned model differs: the check is not vacuous.
    assert.ok(diff.unmasked > 1e-3, 'masking changes the logits');
    // The pruned checkpoint reloads into the same network (config travels in the metadata).
    const reloaded = Model.fromSafeTensors(res.model.toSafeTensors());
    assert.deepEqual(reloaded.net.config, res.model.net.config);
    reloaded.dispose();
    res.model.dispose();
    model.dispose();
  });
}

test('ratio 0 leaves the network unchanged', () => {
  const model = randomModel('vgg13', 10, 1);
  const res = pruneStep(model, randomImportance(model, 2), { ratio: 0, pCumulative: 100, originalWidths: originalWidths(model.net) });
  assert.deepEqual(res.model.net.config, model.net.config);
  assert.equal(res.selection.nPrune, 0);
  const x = input(1, 4);
  assert.deepEqual(Array.from(res.model.forward(x).dataSync()), Array.from(model.forward(x).dataSync()));
  res.model.dispose();
  model.dispose();
});

test('the 95 % cap keeps the highest-index channels whatever their importance', () => {
  const model = randomModel('vgg13', 10, 1);
  // Highest-index channels are the least important: without the cap they would go first.
  const imp = model.net.filterLayers.map((l) => Array.from({ length: l.outChannels }, (_, c) => -c));
  const res = pruneStep(model, imp, { ratio: 0.5, pCumulative: 50, originalWidths: originalWidths(model.net) });
  model.net.filterLayers.forEach((l, i) => {
    const k = Math.trunc(0.05 * l.outChannels) + 1;
    for (let c = l.outChannels - k; c < l.outChannels; c++) assert.ok(res.plan.kept[i].includes(c), `layer ${i} keeps protected channel ${c}`);
  });
  res.model.dispose();
  model.dispose();
});

test('a step that would empty a layer is rejected with a clear error (VGG, 95 % in one round)', () => {
  const model = randomModel('vgg13', 10, 1);
  assert.throws(
    () => pruneStep(model, randomImportance(model, 3), { ratio: 0.95, pCumulative: 5, originalWidths: originalWidths(model.net) }),
    (e: Error) => e instanceof PruneError && /remove every channel of layer 0 \(features\.0\.weight\)/.test(e.message),
  );
  model.dispose();
});

test('ResNet keeps the most important channel of a layer the ranking would empty', () => {
  const model = randomModel('resnet56', 10, 1);
  const imp = randomImportance(model, 4).map((v) => v.map((x) => x + 10));
  imp[5] = imp[5].map((_, c) => (c === 7 ? 1 : 0)); // layer 5 (layer1.2.conv1) is least important; channel 7 the best of it
  const res = pruneStep(model, imp, { ratio: 0.05, pCumulative: 95, originalWidths: originalWidths(model.net) });
  assert.equal(res.selection.counts[5], 15);
  assert.deepEqual(res.plan.kept[5], [7]);
  assert.equal(res.selection.counts[0], 0, 'the stem is never pruned');
  assert.ok(imp[0].every((v) => v < PROTECTED_VALUE));
  res.model.dispose();
  model.dispose();
});

test('momentum buffers are carried over restricted like their parameters', () => {
  for (const arch of ['vgg13', 'mobilenet_v1', 'resnet56'] as const) {
    const model = randomModel(arch, 10, 2);
    const res = pruneStep(model, randomImportance(model, 9), { ratio: 0.3, pCumulative: 70, originalWidths: originalWidths(model.net) });
    // Use the weights themselves as "buffers": the carried buffer must equal the pruned weight,
    // except where surgery zeroed masked ResNet rows (their momentum is kept, docs/pruning-semantics.md, quirk Q6).
    const buffers = new Map([...model.vars].filter(([, v]) => v.trainable).map(([k, v]) => [k, v as tf.Tensor]));
    const carried = carryMomentum(buffers, model, res.model, res.plan);
    assert.equal(carried.size, buffers.size);
    for (const [name, buf] of carried) {
      const w = res.model.vars.get(name)!;
      assert.deepEqual(buf.shape, w.shape, `${arch} ${name} shape`);
      const zeroed = res.plan.tensors.get(name)?.zeroRows?.length;
      if (!zeroed) assert.deepEqual(Array.from(buf.dataSync()), Array.from(w.dataSync()), `${arch} ${name}`);
    }
    tf.dispose([...carried.values()]);
    res.model.dispose();
    model.dispose();
  }
});
