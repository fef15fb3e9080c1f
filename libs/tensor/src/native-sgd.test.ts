// The fused native SGD step against PyTorch's update written with tf ops on the cpu backend.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { fusedSgdStep, tf, type SgdHyper } from './index.js';
import { nativeSkipReason, relErr, runOn, seeded, useNativeWithCpuReference } from './test-helpers.js';

const SHAPES = [[3, 3, 16, 32], [32], [512, 10], [3, 3, 64, 1], [7]];

/** θ after `steps` PyTorch SGD steps with gradients g_t = seeded(t): reference (tf ops) or fused. */
function run(h: SgdHyper, steps: number, fused: boolean): tf.Tensor[] {
  const params = SHAPES.map((s, i) => {
    const initial = tf.tensor(seeded(s, 80 + i), s);
    const v = tf.variable(initial);
    initial.dispose(); // the variable then holds the only reference (as Model does)
    return v;
  });
  let buffers: (tf.Tensor | undefined)[] = SHAPES.map(() => undefined);
  for (let t = 0; t < steps; t++) {
    const grads = SHAPES.map((s, i) => tf.tensor(seeded(s, 100 * t + i), s));
    if (fused) {
      const out = fusedSgdStep(params.map((param, i) => ({ param, grad: grads[i]!, buffer: buffers[i] })), h);
      assert.ok(out, 'fused step refused');
      buffers = out;
    } else {
      buffers = params.map((p, i) =>
        tf.tidy(() => {
          const d = tf.add(grads[i]!, tf.mul(p, h.weightDecay));
          const old = buffers[i];
          const buf = h.momentum === 0 ? d : old ? tf.add(tf.mul(old, h.momentum), d) : d;
          p.assign(tf.sub(p, tf.mul(buf, h.lr)));
          return h.momentum === 0 ? undefined : tf.keep(buf);
        }),
      );
    }
    tf.dispose(grads);
  }
  const out = params.map((p) => tf.clone(p));
  tf.dispose([...params, ...buffers.filter((b): b is tf.Tensor => b !== undefined)]);
  return out;
}

describe('fused native SGD step vs PyTorch semantics on cpu', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const h of [
    { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    { lr: 0.05, momentum: 0, weightDecay: 5e-4 },
    { lr: 0.01, momentum: 0.9, weightDecay: 0 },
  ]) {
    test(`3 steps, lr ${h.lr}, momentum ${h.momentum}, weight decay ${h.weightDecay}`, async () => {
      const ref = await runOn('cpu', () => run(h, 3, false));
      const before = tf.memory().numTensors;
      const got = await runOn('native', () => run(h, 3, true));
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      got.forEach((g, i) => assert.ok(relErr(g, ref[i]!) < 1e-5, `param ${i}: ${relErr(g, ref[i]!)}`));
    });
  }

  test('refuses (changing nothing) when a parameter shares its data, and off the native backend', async () => {
    await runOn('native', () => {
      const p = tf.variable(tf.tensor1d([1, 2, 3]));
      const alias = tf.reshape(p, [3, 1]); // shares p's data
      const g = tf.tensor1d([1, 1, 1]);
      assert.equal(fusedSgdStep([{ param: p, grad: g }], { lr: 1, momentum: 0.9, weightDecay: 0 }), undefined);
      assert.deepEqual(Array.from(p.dataSync()), [1, 2, 3]);
      tf.dispose([p, alias, g]);
      return [];
    });
    await runOn('cpu', () => {
      const p = tf.variable(tf.tensor1d([1, 2, 3]));
      assert.equal(fusedSgdStep([{ param: p, grad: tf.ones([3]) }], { lr: 1, momentum: 0, weightDecay: 0 }), undefined);
      return [p];
    });
  });
});
