import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { batchNorm2d, batchNorm2dTrain, BN_EPS, tf, updateRunningStats } from './index.js';
import { liveCounts, relErr, runOn, seeded, useWasmWithCpuReference } from './test-helpers.js';

const SHAPE: [number, number, number, number] = [3, 6, 5, 16]; // odd batch, non-square
const C = SHAPE[3];
const M = SHAPE[0] * SHAPE[1] * SHAPE[2];

// Inputs with a per-channel offset, so mean subtraction is actually exercised.
const xData = seeded(SHAPE, 21).map((v, i) => 2 * v + 0.25 * (i % C));
const dyData = seeded(SHAPE, 22);
const gammaData = seeded([C], 23).map((v) => 1 + v);
const betaData = seeded([C], 24);
const runMeanData = seeded([C], 25);
const runVarData = seeded([C], 26).map((v) => 0.5 + v * v);

const x = (): tf.Tensor4D => tf.tensor4d(xData, SHAPE);
const dy = (): tf.Tensor4D => tf.tensor4d(dyData, SHAPE);
const vec = (d: Float32Array): tf.Tensor1D => tf.tensor1d(d);

/** PyTorch BatchNorm2d written with plain ops and autodiff: the reference. */
function reference(xt: tf.Tensor4D, mean: tf.Tensor, variance: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  return tf.add(tf.mul(tf.div(tf.sub(xt, mean), tf.sqrt(tf.add(variance, BN_EPS))), g), b);
}

/** Channel statistics in float64, independent of any tfjs kernel. */
function float64Stats(): { mean: number[]; biased: number[]; unbiased: number[] } {
  const mean = new Array<number>(C).fill(0);
  const sq = new Array<number>(C).fill(0);
  xData.forEach((v, i) => (mean[i % C] = (mean[i % C] ?? 0) + v / M));
  xData.forEach((v, i) => (sq[i % C] = (sq[i % C] ?? 0) + (v - (mean[i % C] ?? 0)) ** 2));
  return { mean, biased: sq.map((s) => s / M), unbiased: sq.map((s) => s / (M - 1)) };
}

describe('batchNorm2d / batchNorm2dTrain (wasm) vs plain-op autodiff (cpu)', () => {
  before(useWasmWithCpuReference);

  test('train mode: forward, batch statistics and gradients w.r.t. x, gamma, beta', async () => {
    const ref = await runOn('cpu', () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
          const { mean, variance } = tf.moments(a, [0, 1, 2]);
          return tf.sum(tf.mul(reference(a as tf.Tensor4D, mean, variance, g, b), dy()));
        };
        const { mean, variance } = tf.moments(x(), [0, 1, 2]);
        return [reference(x(), mean, variance, vec(gammaData), vec(betaData)), ...tf.grads(f)([x(), vec(gammaData), vec(betaData)])];
      }),
    );
    const start = liveCounts();
    const got = await runOn('wasm', () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(batchNorm2dTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D).y, dy()));
        const r = batchNorm2dTrain(x(), vec(gammaData), vec(betaData));
        return [r.y, ...tf.grads(f)([x(), vec(gammaData), vec(betaData)]), r.mean, r.variance, r.unbiasedVariance];
      }),
    );
    assert.deepEqual(liveCounts(), start, 'tensors leaked');
    const names = ['y', 'dx', 'dgamma', 'dbeta'];
    names.forEach((name, i) => {
      const e = relErr(got[i] ?? [], ref[i] ?? []);
      assert.ok(e < 1e-4, `${name} rel err ${e}`);
    });
    const stats = float64Stats();
    assert.ok(relErr(got[4] ?? [], stats.mean) < 1e-4, 'batch mean');
    assert.ok(relErr(got[5] ?? [], stats.biased) < 1e-4, 'biased batch variance');
    assert.ok(relErr(got[6] ?? [], stats.unbiased) < 1e-4, 'unbiased batch variance');
  });

  test('eval mode: forward and gradients w.r.t. x, running mean/var, gamma, beta', async () => {
    const inputs = (): tf.Tensor[] => [x(), vec(runMeanData), vec(runVarData), vec(gammaData), vec(betaData)];
    const ref = await runOn('cpu', () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(reference(a as tf.Tensor4D, m, v, g, b), dy()));
        const [a, m, v, g, b] = inputs() as [tf.Tensor4D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return [reference(a, m, v, g, b), ...tf.grads(f)(inputs())];
      }),
    );
    const start = liveCounts();
    const got = await runOn('wasm', () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(batchNorm2d(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, g as tf.Tensor1D, b as tf.Tensor1D), dy()));
        const [a, m, v, g, b] = inputs() as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return [batchNorm2d(a, m, v, g, b), ...tf.grads(f)(inputs())];
      }),
    );
    assert.deepEqual(liveCounts(), start, 'tensors leaked');
    ['y', 'dx', 'dmean', 'dvariance', 'dgamma', 'dbeta'].forEach((name, i) => {
      const e = relErr(got[i] ?? [], ref[i] ?? []);
      assert.ok(e < 1e-4, `${name} rel err ${e}`);
    });
  });

  test('train-mode gradient avoids Tile (the slow path of tfjs-core FusedBatchNorm grad on wasm)', async () => {
    const profile = await tf.profile(() =>
      tf.tidy(() => tf.grads((a: tf.Tensor) => tf.sum(batchNorm2dTrain(a as tf.Tensor4D, vec(gammaData), vec(betaData)).y))([x()])),
    );
    assert.ok(profile.kernelNames.includes('FusedBatchNorm'), `kernels: ${profile.kernelNames.join(',')}`);
    assert.ok(!profile.kernelNames.includes('Tile'), `kernels: ${profile.kernelNames.join(',')}`);
  });

  test('updateRunningStats follows PyTorch (momentum 0.1, unbiased variance)', () => {
    const rm = tf.variable(tf.tensor1d([1, 2]));
    const rv = tf.variable(tf.tensor1d([1, 4]));
    const batch = { mean: tf.tensor1d([3, -2]), unbiasedVariance: tf.tensor1d([2, 0]) };
    updateRunningStats(rm, rv, batch);
    const close = (a: ArrayLike<number>, b: number[]): boolean => relErr(a, b) < 1e-6;
    assert.ok(close(rm.dataSync(), [0.9 * 1 + 0.1 * 3, 0.9 * 2 - 0.2]), `running mean ${rm.dataSync()}`);
    assert.ok(close(rv.dataSync(), [0.9 + 0.2, 3.6]), `running var ${rv.dataSync()}`);
    tf.dispose([rm, rv, batch.mean, batch.unbiasedVariance]);
  });

  test('batchNorm2dTrain rejects a single value per channel (unbiased variance undefined)', () => {
    const one = tf.ones([1, 1, 1, 2]) as tf.Tensor4D;
    assert.throws(() => batchNorm2dTrain(one, tf.ones([2]), tf.zeros([2])), /more than one value per channel/);
    one.dispose();
  });
});
