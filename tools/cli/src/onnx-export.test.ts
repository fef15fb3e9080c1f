// Every built-in architecture, unpruned and pruned by several measures and ratios (through
// libs/pruning's prune step), exported as ONNX: ONNX Runtime's outputs equal flowprune's eval
// outputs, the file rebuilds into the same model, and onnx.checker (python3-onnx) accepts it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { tempDir } from '@flowprune/grpc/testing';
import { batchListData, getMeasure, resolveParams, type SampleBatch } from '@flowprune/importance';
import { buildNetwork, Model, type ArchName, type StateDict } from '@flowprune/models';
import { encodeOnnx, modelFromOnnx, modelToOnnx, onnxRuntimeRun, onnxRuntimeSession, randomImages } from '@flowprune/onnx';
import { nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { initBackend, tf } from '@flowprune/tensor';

const CLASSES = 4;
const IMAGES = 2;
/** |ONNX Runtime − flowprune| ≤ 1e-4 · max |flowprune| over the logits of the batch. */
const RELATIVE = 1e-4;

/** Seeded weights with random BatchNorm statistics and affine parameters (init leaves them 0/1). */
function seededModel(arch: ArchName, seed: number): Model {
  const init = Model.init(buildNetwork(arch, CLASSES), seed);
  const sd: StateDict = init.stateDict();
  init.dispose();
  const rand = mulberry32(seed + 1);
  for (const [name, t] of sd) {
    if (t.dtype !== 'F32' || t.shape.length !== 1 || name.startsWith('linear') || name.startsWith('classifier')) continue;
    const d = t.data as Float32Array;
    const [lo, span] = name.endsWith('running_var') || name.endsWith('.weight') ? [0.5, 1] : [-0.5, 1];
    for (let i = 0; i < d.length; i++) d[i] = lo + span * rand();
  }
  return Model.fromStateDict(buildNetwork(arch, CLASSES), sd);
}

/** A few labelled random images for the data-driven measures. */
function sampleBatch(count: number, seed: number): SampleBatch {
  const rand = mulberry32(seed);
  return {
    count,
    height: 32,
    width: 32,
    channels: 3,
    pixels: Uint8Array.from({ length: count * 32 * 32 * 3 }, () => Math.floor(rand() * 256)),
    labels: Array.from({ length: count }, (_, i) => i % CLASSES),
  };
}

async function pruned(model: Model, measure: string, ratio: number): Promise<Model> {
  const m = getMeasure(measure);
  const params = resolveParams(m.info, m.info.needsData ? { imp_samples: 8 } : {});
  const { scores } = await m.compute({ model, params, ...(m.info.needsData ? { data: batchListData([sampleBatch(8, 5)]) } : {}) });
  return pruneStep(model, scores, { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(model.net) }).model;
}

/**
 * The model with non-zero BatchNorm scale and bias in its masked channels (the prune step zeroes
 * them, but a checkpoint need not keep them so): only the mask silences those channels then.
 */
function unzeroMasked(model: Model): Model {
  const sd = model.stateDict();
  for (const [prefix, mask] of model.masks)
    for (const key of [`${prefix}.weight`, `${prefix}.bias`]) {
      const d = sd.get(key)!.data as Float32Array;
      mask.forEach((m, c) => void (m === 0 && (d[c] = 0.25 + c / mask.length)));
    }
  const out = Model.fromStateDict(model.net, sd);
  out.masks = model.masks;
  model.dispose();
  return out;
}

/** Logits of flowprune's eval for NCHW images. */
function flowpruneLogits(model: Model, nchw: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(nchw, [IMAGES, 3, 32, 32]), [0, 2, 3, 1]) as tf.Tensor4D;
    return model.forward(x).dataSync() as Float32Array;
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: output sizes differ`);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst <= RELATIVE * scale, `${what}: max |difference| ${worst} > ${RELATIVE} × ${scale}`);
}

/** A python3 with Debian's python3-onnx, if any. */
const pythonWithOnnx = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0);

const CASES: { arch: ArchName; measure?: string; ratio?: number }[] = [
  { arch: 'vgg13' },
  { arch: 'vgg13', measure: 'mag_based', ratio: 0.75 },
  { arch: 'vgg13', measure: 'loss_based', ratio: 0.3 },
  { arch: 'resnet56' },
  { arch: 'resnet56', measure: 'mag_based', ratio: 0.75 },
  { arch: 'resnet56', measure: 'bn', ratio: 0.5 },
  { arch: 'resnet56', measure: 'loss_based', ratio: 0.3 },
  { arch: 'mobilenet_v1' },
  { arch: 'mobilenet_v1', measure: 'l1', ratio: 0.5 },
  { arch: 'mobilenet_v1', measure: 'loss_based', ratio: 0.75 },
  { arch: 'resnet18', measure: 'mag_based', ratio: 0.5 },
];

for (const c of CASES) {
  const what = `${c.arch}${c.measure ? `, pruned by ${c.measure} at ${c.ratio}` : ', unpruned'}`;
  test(`${what}: ONNX Runtime's outputs equal flowprune's eval; the file rebuilds the model; onnx.checker accepts it`, async (t) => {
    await initBackend({ log: () => undefined });
    const base = seededModel(c.arch, 11);
    const model = c.measure ? unzeroMasked(await pruned(base, c.measure, c.ratio!)) : base;
    if (c.measure && c.arch.startsWith('resnet')) assert.ok(model.masks.size > 0, 'a pruned ResNet keeps masked channels: the case the export folds');
    const bytes = encodeOnnx(modelToOnnx(model));
    const images = randomImages(IMAGES, [3, 32, 32], 3);
    const expected = flowpruneLogits(model, images);
    const session = await onnxRuntimeSession(bytes, 1);
    assertClose(await onnxRuntimeRun(session, images, [IMAGES, 3, 32, 32]), expected, 'ONNX Runtime');
    await session.release();
    const rebuilt = modelFromOnnx(bytes, 'exported');
    assertClose(flowpruneLogits(rebuilt, images), expected, 'rebuilt from ONNX');
    for (const m of new Set([base, model, rebuilt])) m.dispose();
    if (!pythonWithOnnx) return t.skip('no python3 with the onnx module (Debian python3-onnx): onnx.checker not run');
    const file = join(tempDir('onnx-export'), 'model.onnx');
    writeFileSync(file, bytes);
    const check = spawnSync(pythonWithOnnx, ['-c', 'import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)', file], { encoding: 'utf8' });
    assert.equal(check.status, 0, `onnx.checker: ${check.stderr}`);
  });
}
