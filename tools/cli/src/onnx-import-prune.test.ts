// torchvision's CNNs through flowprune: imported, run by flowprune's graph interpreter (outputs equal
// PyTorch's), pruned one step by the generic policy with mag_based and loss_based, checked against
// the unpruned model with the removed channels zeroed, exported, and run in ONNX Runtime.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { batchListData, BUILTIN_MEASURES, getMeasure, resolveParams, type SampleBatch } from '@flowprune/importance';
import { graphNetwork, isTrainable, Model, type StateDict } from '@flowprune/models';
import { nextPCumulative, originalWidths, pruneStep, PruneError, type TensorPlan } from '@flowprune/pruning';
import { initBackend, tf } from '@flowprune/tensor';
import { encodeOnnx, graphToOnnx, onnxRuntimeRun, onnxRuntimeSession, onnxToGraph, type ModelProto } from '@flowprune/onnx';
import { maxRelDiff, torchReference, TORCHVISION_MODELS } from '@flowprune/onnx/testing';

await initBackend({ log: () => undefined });

const RATIO = 0.3;

function logits(model: Model, nchw: Float32Array, shape: number[]): Float32Array {
  const [n, c, h, w] = shape;
  return tf.tidy(() => model.forward(tf.transpose(tf.tensor4d(nchw, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D).dataSync() as Float32Array);
}

/** Labelled random images of the model's input size, for the data-driven measures. */
function samples(model: Model, count: number): SampleBatch {
  const { channels, height, width } = model.net.graph.input;
  const rand = mulberry32(7);
  return { count, channels, height, width, pixels: Uint8Array.from({ length: count * channels * height * width }, () => Math.floor(rand() * 256)), labels: Array.from({ length: count }, (_, i) => i % model.net.numClasses) };
}

/** The unpruned weights with every removed row and column set to zero (what the surgery cut out). */
function zeroedRemoved(sd: StateDict, plans: Map<string, TensorPlan>): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of sd) {
    const plan = plans.get(name);
    if (!plan || t.dtype !== 'F32') {
      out.set(name, t);
      continue;
    }
    const data = Float32Array.from(t.data as Float32Array);
    const [rows, cols = 1] = t.shape;
    const inner = t.shape.slice(2).reduce((a, b) => a * b, 1);
    const keepRows = new Set(plan.rows ?? Array.from({ length: rows }, (_, i) => i));
    const keepCols = new Set(plan.cols ?? Array.from({ length: cols }, (_, i) => i));
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) if (!keepRows.has(r) || !keepCols.has(c)) data.fill(0, (r * cols + c) * inner, (r * cols + c + 1) * inner);
    out.set(name, { ...t, data });
  }
  return out;
}

const paramCount = (sd: StateDict, model: Model) =>
  model.net.params.filter((p) => isTrainable(p.kind)).reduce((s, p) => s + sd.get(p.name)!.data.length, 0);

for (const name of TORCHVISION_MODELS) {
  test(`${name}: flowprune's forward of the imported model equals PyTorch's (1e-4)`, () => {
    const ref = torchReference(name);
    const imported = onnxToGraph(ref.onnx, `${name}.onnx`);
    const model = Model.fromStateDict(graphNetwork(imported.graph), imported.weights);
    try {
      const diff = maxRelDiff(logits(model, ref.input.data, ref.input.shape), ref.output.data);
      assert.ok(diff < 1e-4, `max relative difference ${diff}`);
    } finally {
      model.dispose();
    }
  });

  for (const measure of ['mag_based', 'loss_based']) {
    test(`${name}: one generic pruning step by ${measure}: equals the unpruned model with the removed channels zeroed; ONNX Runtime runs the export with equal outputs and fewer parameters`, async (t) => {
      const ref = torchReference(name);
      const imported = onnxToGraph(ref.onnx, `${name}.onnx`);
      const model = Model.fromStateDict(graphNetwork(imported.graph), imported.weights);
      try {
        if (model.net.filterLayers.length === 0) {
          // SqueezeNet: biased convs without BatchNorm. The paper's measures score conv+BatchNorm
          // filter layers; a network without one is refused by the pruning step, clearly.
          assert.throws(
            () => pruneStep(model, [], { ratio: RATIO, pCumulative: nextPCumulative(100, RATIO), originalWidths: [], policy: 'generic' }),
            (e: unknown) => e instanceof PruneError && /no prunable channel group/.test(e.message),
          );
          return t.skip('no conv followed by a BatchNorm: no prunable group (refused with a clear error, checked)');
        }
        const m = getMeasure(measure);
        const params = resolveParams(m.info, m.info.needsData ? { imp_samples: 4 } : {});
        const { scores } = await m.compute({ model, params, ...(m.info.needsData ? { data: batchListData([samples(model, 4)]) } : {}) });
        const step = pruneStep(model, scores, { ratio: RATIO, pCumulative: nextPCumulative(100, RATIO), originalWidths: originalWidths(model.net), policy: 'generic' });
        const pruned = step.model;
        try {
          const before = model.stateDict();
          const zeroed = Model.fromStateDict(model.net, zeroedRemoved(before, step.plan.tensors));
          const expected = logits(zeroed, ref.input.data, ref.input.shape);
          zeroed.dispose();
          const got = logits(pruned, ref.input.data, ref.input.shape);
          const diff = maxRelDiff(got, expected);
          assert.ok(diff < 1e-4, `pruned vs zeroed: max relative difference ${diff}`);

          const after = pruned.stateDict();
          const [nBefore, nAfter] = [paramCount(before, model), paramCount(after, pruned)];
          assert.ok(nAfter < nBefore, `parameters ${nBefore} → ${nAfter}`);
          const exported = graphToOnnx(pruned.net.graph, after);
          const onnxValues = (m: ModelProto) => m.graph!.initializer.reduce((s, i) => s + i.dims.reduce((a, b) => a * b, 1), 0);
          const [onnxBefore, onnxAfter] = [onnxValues(graphToOnnx(model.net.graph, before)), onnxValues(exported)];
          assert.ok(onnxAfter < onnxBefore, `ONNX initializer values ${onnxBefore} → ${onnxAfter}`);
          const session = await onnxRuntimeSession(encodeOnnx(exported));
          try {
            const ort = await onnxRuntimeRun(session, ref.input.data, ref.input.shape);
            const d = maxRelDiff(ort, got);
            assert.ok(d < 1e-4, `ONNX Runtime vs flowprune: max relative difference ${d}`);
          } finally {
            await session.release();
          }
          t.diagnostic(`${name} ${measure}: parameters ${nBefore} → ${nAfter}, ONNX initializer values ${onnxBefore} → ${onnxAfter}; pruned vs zeroed ${diff.toExponential(1)}`);
        } finally {
          pruned.dispose();
        }
      } finally {
        model.dispose();
      }
    });
  }
}

test('every measure of the registry (the Hessian-based ones too) scores the imported MobileNet-V2 (depthwise, ReLU6, inverted residuals)', async () => {
  const imported = onnxToGraph(torchReference('mobilenet_v2').onnx, 'mobilenet_v2.onnx');
  const model = Model.fromStateDict(graphNetwork(imported.graph), imported.weights);
  try {
    // θ₀ for the *_init measures: the imported weights themselves, as at the start of a run.
    const sd = model.stateDict();
    const initWeights = new Map(model.net.filterLayers.map((l) => [l.conv, sd.get(l.conv)!.data as Float32Array]));
    for (const [name, m] of BUILTIN_MEASURES) {
      // The Hessian-based ones take int(imp_samples / classes) images per class: one each.
      const params = resolveParams(m.info, m.info.needsData ? { imp_samples: 10 } : {});
      const { scores } = await m.compute({
        model,
        params,
        ...(m.info.needsData ? { data: batchListData([samples(model, 10)]) } : {}),
        ...(m.info.needsInitWeights ? { initWeights } : {}),
      });
      assert.equal(scores.length, model.net.filterLayers.length, name);
      scores.forEach((v, l) => assert.ok(v.length === model.net.filterLayers[l].outChannels && v.every(Number.isFinite), `${name}: layer ${l}`));
    }
  } finally {
    model.dispose();
  }
});
