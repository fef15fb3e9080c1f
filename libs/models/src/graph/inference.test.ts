// Model.forward in eval mode on the native backend runs the fused executor (libs/tensor
// native-inference.ts); its logits must equal the graph interpreter's (the unfused path) on each
// built-in network, with masks, and after the weights change; train mode keeps the interpreter.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import { fusedInferenceRuns, initBackend, loadNativeAddon, tf } from '@flowprune/tensor';
import { buildNetwork } from '../arch/index.js';
import { ARCH_NAMES } from '../arch/types.js';
import { Model } from '../model.js';
import { inferenceProgram } from './inference.js';

const TOL = 1e-4;
const load = loadNativeAddon();
const skip = load.addon ? false : `native backend unavailable: ${load.reason}`;

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  assert.ok(m > 0, 'reference is all zeros');
  return d / m;
}

/** Running statistics and BatchNorm affine parameters away from their 0/1 initial values. */
function perturbBatchNorms(model: Model, seed: number): void {
  for (const [name, v] of model.vars) {
    const at = (lo: number, hi: number) => tf.randomUniform(v.shape, lo, hi, 'float32', seed++);
    if (name.endsWith('running_mean')) v.assign(at(-0.2, 0.2));
    else if (name.endsWith('running_var')) v.assign(at(0.5, 1.5));
    else if (/bn\d*\.weight$|shortcut\.1\.weight$|features\.\d+\.weight$/.test(name) && v.rank === 1) v.assign(at(0.5, 1.5));
  }
}

/** [fused logits, interpreter logits] for the same model and input. */
function bothPaths(model: Model, x: tf.Tensor4D): [Float32Array, Float32Array] {
  const fused = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
  const masks = model.masks.size ? new Map([...model.masks].map(([k, m]) => [k, tf.tensor1d(m)])) : undefined;
  const reference = tf.tidy(() => model.net.forward(model.reader(), x, { training: false, ...(masks ? { masks } : {}) }).dataSync() as Float32Array);
  tf.dispose([...(masks?.values() ?? [])]);
  return [fused, reference];
}

describe('fused eval on the native backend: every built-in network', { skip }, () => {
  before(async () => {
    delete process.env['FLOWPRUNE_BACKEND'];
    const info = await initBackend({ prefer: 'native', log: () => undefined });
    assert.equal(info.name, 'native');
  });

  for (const arch of ARCH_NAMES) {
    test(`${arch}: Model.forward (eval) takes the fused path and equals the interpreter to ${TOL}`, () => {
      const model = Model.init(buildNetwork(arch, 10), 3);
      perturbBatchNorms(model, 11);
      assert.ok('program' in inferenceProgram(model.net.graph, model.reader()), 'the graph compiles');
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const runs = fusedInferenceRuns();
      const [fused, reference] = bothPaths(model, x);
      assert.equal(fusedInferenceRuns() - runs, 1, 'one fused run');
      assert.ok(relErr(fused, reference) <= TOL, `rel err ${relErr(fused, reference)}`);
      x.dispose();
      model.dispose();
    });
  }

  test('resnet56 with BatchNorm masks (a pruned ResNet) and after its weights change', () => {
    const model = Model.init(buildNetwork('resnet56', 10), 4);
    perturbBatchNorms(model, 21);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const before = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
    model.masks.set('layer1.0.bn2', Float32Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    const runs = fusedInferenceRuns();
    // A fresh mask map: the model builds its mask tensors on first use (as a loaded checkpoint does).
    const masked = Model.fromStateDict(model.net, model.stateDict());
    masked.masks = model.masks;
    const [fused, reference] = bothPaths(masked, x);
    assert.equal(fusedInferenceRuns() - runs, 1);
    assert.ok(relErr(fused, reference) <= TOL, `masked: rel err ${relErr(fused, reference)}`);
    assert.ok(relErr(fused, before) > TOL, 'the mask changed the logits');
    // Weights assigned: the executor refolds.
    const w = masked.vars.get('linear.weight')!;
    w.assign(tf.mul(w, 2));
    const [fused2, reference2] = bothPaths(masked, x);
    assert.ok(relErr(fused2, reference2) <= TOL, `after assign: rel err ${relErr(fused2, reference2)}`);
    tf.dispose(x);
    model.dispose();
    masked.dispose();
  });

  test('train mode and taped eval keep the interpreter', () => {
    const model = Model.init(buildNetwork('resnet56', 10), 5);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const runs = fusedInferenceRuns();
    tf.tidy(() => model.forward(x, { training: true }));
    const g = tf.grad((input: tf.Tensor) => tf.sum(model.forward(input as tf.Tensor4D)))(x);
    assert.equal(fusedInferenceRuns(), runs);
    assert.ok(g.abs().sum().dataSync()[0]! > 0, 'the input gradient flows through the interpreter');
    tf.dispose([x, g]);
    model.dispose();
  });
});
