// Native BatchNorm kernels against the cpu reference (where batchnorm.ts composes ordinary ops):
// train mode with and without the fused residual add and ReLU, forward, batch statistics and every
// gradient, and eval mode (the fused eval kernel with residual and ReLU; FusedBatchNorm under a
// gradient tape), on every BatchNorm shape of the five architectures.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { batchNorm2d, batchNorm2dTrain, nativeFallbackCounts, tf, type BatchNormPost } from './index.js';
import { BN_SHAPES } from './native-shapes.test-util.js';
import { blockOnNative, liveCounts, nativeSkipReason, relErr, runOn, seeded, useNativeWithCpuReference } from './test-helpers.js';

const TOL = 1e-4;
const BATCH = 3; // odd on purpose

type Variant = 'plain' | 'relu' | 'residual+relu';
const VARIANTS: Variant[] = ['plain', 'relu', 'residual+relu'];

interface Data {
  x: tf.Tensor4D;
  r: tf.Tensor4D;
  dy: tf.Tensor4D;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

function data(hw: number, c: number): Data {
  const shape: [number, number, number, number] = [BATCH, hw, hw, c];
  // A per-channel offset larger than the spread, so centring is really exercised.
  const x = seeded(shape, 31).map((v, i) => 1.5 * v + 3 * Math.sin(i % c));
  return {
    x: tf.tensor4d(x, shape),
    r: tf.tensor4d(seeded(shape, 32), shape),
    dy: tf.tensor4d(seeded(shape, 33), shape),
    gamma: tf.tensor1d(seeded([c], 34).map((v) => 1 + v)),
    beta: tf.tensor1d(seeded([c], 35)),
    mean: tf.tensor1d(seeded([c], 36)),
    variance: tf.tensor1d(seeded([c], 37).map((v) => 0.5 + v * v)),
  };
}

/** The activations, blocked on native when asked (as a convolution would leave them). */
function place(d: Data, blocked: boolean): Data {
  if (blocked) blockOnNative(d.x, d.r, d.dy);
  return d;
}

/** Train mode: y, batch mean, batch variance, and d(sum(y*dy)) w.r.t. x, gamma, beta (and the residual). */
function train(hw: number, c: number, variant: Variant, blocked: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const d = place(data(hw, c), blocked);
    const post = (r: tf.Tensor): BatchNormPost =>
      variant === 'plain' ? {} : variant === 'relu' ? { relu: true } : { relu: true, residual: r as tf.Tensor4D };
    const out = batchNorm2dTrain(d.x, d.gamma, d.beta, 1e-5, post(d.r));
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, r?: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(batchNorm2dTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, post(r ?? d.r)).y, d.dy));
    const grads = tf.grads(f)(variant === 'residual+relu' ? [d.x, d.gamma, d.beta, d.r] : [d.x, d.gamma, d.beta]);
    return [out.y, out.mean, out.variance, out.unbiasedVariance, ...grads];
  });
}

/**
 * Eval mode with running statistics, ReLU after (with and without a residual), and its gradients
 * w.r.t. x, gamma, beta, the residual and the statistics themselves.
 */
function evalMode(hw: number, c: number, blocked: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const d = place(data(hw, c), blocked);
    const bn = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor, post: BatchNormPost): tf.Tensor =>
      batchNorm2d(x as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, post);
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(bn(x, d.mean, d.variance, g, b, { relu: true }), d.dy));
    const fr = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor, r: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(bn(x, m, v, g, b, { relu: true, residual: r as tf.Tensor4D }), d.dy));
    // The native backend runs its fused eval kernel outside a tape and inside (with its fused
    // gradient); the cpu reference composes ordinary ops.
    return [
      batchNorm2d(d.x, d.mean, d.variance, d.gamma, d.beta, 1e-5, { relu: true }),
      batchNorm2d(d.x, d.mean, d.variance, d.gamma, d.beta, 1e-5, { relu: true, residual: d.r }),
      ...tf.grads(f)([d.x, d.gamma, d.beta]),
      ...tf.grads(fr)([d.x, d.mean, d.variance, d.gamma, d.beta, d.r]),
    ];
  });
}

const EVAL_NAMES = ['y', 'y with residual', 'dx', 'dgamma', 'dbeta', ...['dx', 'dmean', 'dvariance', 'dgamma', 'dbeta', 'dresidual'].map((n) => `${n} (with residual)`)];

const TRAIN_NAMES = ['y', 'mean', 'variance', 'unbiased variance', 'dx', 'dgamma', 'dbeta', 'dresidual'];

describe('native BatchNorm vs cpu: every BatchNorm shape of the five architectures', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const [hw, c] of BN_SHAPES) {
    for (const variant of VARIANTS) {
      for (const blocked of [false, true]) {
        test(`train, ${variant}, ${blocked ? 'blocked' : 'NHWC'}: [${BATCH}, ${hw}, ${hw}, ${c}]`, async () => {
          const ref = await runOn('cpu', () => train(hw, c, variant, false));
          const start = liveCounts();
          const fallbacks = nativeFallbackCounts().get('FlowpruneBatchNormTrain') ?? 0;
          const got = await runOn('native', () => train(hw, c, variant, blocked));
          assert.deepEqual(liveCounts(), start, 'tensors leaked');
          assert.equal(nativeFallbackCounts().get('FlowpruneBatchNormTrain') ?? 0, fallbacks);
          const names = variant === 'residual+relu' ? TRAIN_NAMES : TRAIN_NAMES.slice(0, -1);
          assert.equal(got.length, names.length);
          names.forEach((what, i) => {
            const err = relErr(got[i]!, ref[i]!);
            assert.ok(err < TOL, `${what}: relative error ${err}`);
          });
        });
      }
    }
    test(`eval (fused eval kernel and its gradient) + [residual] + ReLU, blocked: [${BATCH}, ${hw}, ${hw}, ${c}]`, async () => {
      const ref = await runOn('cpu', () => evalMode(hw, c, false));
      const kernels = ['FlowpruneBatchNormEval', 'FlowpruneBatchNormEvalGrad'];
      const fallbacks = kernels.map((k) => nativeFallbackCounts().get(k) ?? 0);
      const start = liveCounts();
      const got = await runOn('native', () => evalMode(hw, c, true));
      assert.deepEqual(liveCounts(), start, 'tensors leaked');
      assert.deepEqual(kernels.map((k) => nativeFallbackCounts().get(k) ?? 0), fallbacks);
      assert.equal(got.length, EVAL_NAMES.length);
      EVAL_NAMES.forEach((what, i) => {
        const err = relErr(got[i]!, ref[i]!);
        assert.ok(err < TOL, `${what}: relative error ${err}`);
      });
    });
  }

  test('FusedBatchNorm with scalar statistics and no scale/offset', async () => {
    const run = (): tf.Tensor[] => [tf.batchNorm(tf.tensor4d(seeded([3, 4, 5, 6], 40), [3, 4, 5, 6]), tf.scalar(0.3), tf.scalar(2), undefined, undefined, 1e-3)];
    const [ref] = await runOn('cpu', run);
    const [got] = await runOn('native', run);
    assert.ok(relErr(got!, ref!) < TOL);
  });
});
