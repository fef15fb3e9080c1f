// The native backend's fused eval executor (libs/tensor native-inference.ts, reached through
// Model.forward) on models that are not built-ins as built: a ResNet-56, a VGG-13 and a MobileNet-V1
// pruned by libs/pruning (odd channel counts, ResNet masks, depthwise tying), with no oneDNN reference kernel, and torchvision's ResNet-18 and VGG-11-BN
// imported from ONNX. Each takes the fused path (the run counter moves) and its logits equal the
// graph interpreter's to 1e-4 relative; imported graphs with ops outside the fused set (concat)
// keep the interpreter.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { buildNetwork, graphNetwork, Model } from '@flowprune/models';
import { nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { fusedInferenceRuns, initBackend, loadNativeAddon, tf } from '@flowprune/tensor';
import { onnxToGraph } from '@flowprune/onnx';
import { maxRelDiff, torchReference } from '@flowprune/onnx/testing';

const TOL = 1e-4;
const load = loadNativeAddon();
const skip = load.addon ? false : `native backend unavailable: ${load.reason}`;

/** max|a − b| / max|b| (maxRelDiff of both scaled by max|b|, where its max(1, ·) is 1). */
function relErr(a: Float32Array, b: Float32Array): number {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0, 'reference is all zeros');
  return maxRelDiff(a.map((v) => v / scale), b.map((v) => v / scale));
}

/** Runs Model.forward (eval) and the interpreter; returns [fused runs taken, fused logits, interpreter logits]. */
function compare(model: Model, x: tf.Tensor4D): [number, Float32Array, Float32Array] {
  const runs = fusedInferenceRuns();
  const fused = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
  const taken = fusedInferenceRuns() - runs;
  const masks = model.masks.size ? new Map([...model.masks].map(([k, m]) => [k, tf.tensor1d(m)])) : undefined;
  const reference = tf.tidy(() => model.net.forward(model.reader(), x, { training: false, ...(masks ? { masks } : {}) }).dataSync() as Float32Array);
  tf.dispose([...(masks?.values() ?? [])]);
  return [taken, fused, reference];
}

const images = (model: Model, n: number, seed: number): tf.Tensor4D => {
  const { channels, height, width } = model.net.graph.input;
  return tf.randomNormal([n, height, width, channels], 0, 1, 'float32', seed) as tf.Tensor4D;
};

describe('fused eval: pruned and imported models take the fast path', { skip }, () => {
  before(async () => {
    delete process.env['FLOWPRUNE_BACKEND'];
    assert.equal((await initBackend({ prefer: 'native', log: () => undefined })).name, 'native');
  });

  for (const arch of ['resnet56', 'vgg13', 'mobilenet_v1'] as const) {
    test(`${arch} pruned one step by libs/pruning (paper policy): the fast path, and no reference kernel in it`, () => {
      const model = Model.init(buildNetwork(arch, 10), 1);
      const rand = mulberry32(9);
      const scores = model.net.filterLayers.map((l) => Array.from({ length: l.outChannels }, () => rand()));
      const step = pruneStep(model, scores, { ratio: 0.3, pCumulative: nextPCumulative(100, 0.3), originalWidths: originalWidths(model.net) });
      const pruned = step.model;
      assert.ok(pruned.net.filterLayers.some((l, i) => l.outChannels < model.net.filterLayers[i]!.outChannels), 'channels were removed');
      if (arch === 'resnet56') assert.ok(pruned.masks.size > 0, 'the paper policy masks the residual stream');
      const x = images(pruned, 2, 3);
      const [taken, fused, reference] = compare(pruned, x);
      assert.equal(taken, 1, 'the fused path was taken');
      assert.ok(relErr(fused, reference) <= TOL, `rel err ${relErr(fused, reference)}`);
      // Pruned widths (not multiples of 8) once put oneDNN's scalar kernel on this path: ~300x slower.
      for (const batch of [1, 2]) assert.doesNotMatch(pruned.describeEval(batch) ?? 'not fused', /\bref\b|ref:|not fused/, `batch ${batch}`);
      tf.dispose(x);
      model.dispose();
      pruned.dispose();
    });
  }

  for (const name of ['resnet18', 'vgg11_bn'] as const) {
    test(`torchvision ${name} imported from ONNX`, () => {
      const ref = torchReference(name);
      const imported = onnxToGraph(ref.onnx, `${name}.onnx`);
      const model = Model.fromStateDict(graphNetwork(imported.graph), imported.weights);
      const x = images(model, 1, 4);
      const [taken, fused, reference] = compare(model, x);
      assert.equal(taken, 1, 'the fused path was taken');
      assert.ok(relErr(fused, reference) <= TOL, `rel err ${relErr(fused, reference)}`);
      assert.doesNotMatch(model.describeEval(1) ?? 'not fused', /\bref\b|ref:|not fused/);
      tf.dispose(x);
      model.dispose();
    });
  }

  test('an imported graph with a concat (squeezenet1_1) keeps the interpreter', () => {
    const ref = torchReference('squeezenet1_1');
    const imported = onnxToGraph(ref.onnx, 'squeezenet1_1.onnx');
    const model = Model.fromStateDict(graphNetwork(imported.graph), imported.weights);
    const x = images(model, 1, 5);
    const runs = fusedInferenceRuns();
    tf.tidy(() => model.forward(x));
    assert.equal(fusedInferenceRuns(), runs);
    tf.dispose(x);
    model.dispose();
  });
});
