// End to end: a tiny conv net (conv, batch norm, depthwise, strided conv, dense) trains on wasm
// with plain SGD, and follows the same loss curve as the cpu backend.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { batchNorm2dTrain, tf } from './index.js';
import { liveCounts, runOn, seeded, useWasmWithCpuReference } from './test-helpers.js';

const BATCH = 8;
const STEPS = 20;
const LR = 0.5;
const P1: [[0, 0], [1, 1], [1, 1], [0, 0]] = [[0, 0], [1, 1], [1, 1], [0, 0]];

/** Two classes: a bright upper-left vs lower-right quadrant in channel 0, plus noise. */
function data(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const shape: [number, number, number, number] = [BATCH, 8, 8, 3];
  const noise = seeded(shape, 31);
  const labels: number[] = [];
  for (let n = 0; n < BATCH; n++) {
    const cls = n % 2;
    labels.push(cls);
    for (let h = 0; h < 4; h++) {
      for (let w = 0; w < 4; w++) {
        const [hh, ww] = cls === 0 ? [h, w] : [h + 4, w + 4];
        const i = ((n * 8 + hh) * 8 + ww) * 3;
        noise[i] = (noise[i] ?? 0) + 2;
      }
    }
  }
  return { x: tf.tensor4d(noise, shape), y: tf.cast(tf.oneHot(labels, 2), 'float32') as tf.Tensor2D };
}

interface Net {
  conv1: tf.Variable<tf.Rank.R4>;
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
  depthwise: tf.Variable<tf.Rank.R4>;
  conv2: tf.Variable<tf.Rank.R4>;
  dense: tf.Variable<tf.Rank.R2>;
}

function init(): Net {
  const v = <R extends tf.Rank>(shape: number[], seed: number, scale: number): tf.Variable<R> =>
    tf.variable(tf.mul(tf.tensor(seeded(shape, seed), shape), scale) as tf.Tensor<R>);
  return {
    conv1: v([3, 3, 3, 8], 41, 0.3),
    gamma: tf.variable(tf.ones([8])),
    beta: tf.variable(tf.zeros([8])),
    depthwise: v([3, 3, 8, 1], 42, 0.3),
    conv2: v([3, 3, 8, 16], 43, 0.2),
    dense: v([16, 2], 44, 0.3),
  };
}

function loss(x: tf.Tensor4D, y: tf.Tensor2D, p: Net): tf.Scalar {
  let h = tf.conv2d(x, p.conv1, 1, P1);
  h = tf.relu(batchNorm2dTrain(h, p.gamma, p.beta).y);
  h = tf.relu(tf.depthwiseConv2d(h, p.depthwise, 2, P1));
  h = tf.relu(tf.conv2d(h, p.conv2, 2, P1));
  const logits = tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, p.dense);
  return tf.losses.softmaxCrossEntropy(y, logits);
}

async function trainCurve(backend: string): Promise<{ losses: number[]; leaked: number }> {
  const out: number[] = [];
  let leaked = 0;
  await runOn(backend, () => {
    const { x, y } = data();
    const p = init();
    const vars = Object.values(p);
    const opt = tf.train.sgd(LR);
    let steady = 0;
    for (let step = 0; step < STEPS; step++) {
      const l = opt.minimize(() => loss(x, y, p), true, vars);
      if (!l) throw new Error('minimize returned no loss');
      out.push(l.dataSync()[0] ?? NaN);
      l.dispose();
      if (step === 1) steady = liveCounts().tensors; // after the optimizer created its state
    }
    leaked = liveCounts().tensors - steady;
    tf.dispose([x, y, ...vars]);
    opt.dispose();
    return [];
  });
  return { losses: out, leaked };
}

describe('tiny conv net on wasm', () => {
  before(useWasmWithCpuReference);

  test(`loss falls over ${STEPS} SGD steps and tracks the cpu backend`, async () => {
    const wasm = await trainCurve('wasm');
    const cpu = await trainCurve('cpu');
    const first = wasm.losses[0] ?? NaN;
    const last = wasm.losses[STEPS - 1] ?? NaN;
    assert.ok(first > 0.5, `initial loss ${first} should be near ln 2`);
    assert.ok(last < 0.5 * first, `loss did not fall enough: ${wasm.losses.map((l) => l.toFixed(3)).join(' ')}`);
    assert.equal(wasm.leaked, 0, 'tensors leaked per training step');
    wasm.losses.forEach((l, i) => {
      const ref = cpu.losses[i] ?? NaN;
      assert.ok(Math.abs(l - ref) <= 1e-3 * Math.max(1, Math.abs(ref)), `step ${i}: wasm ${l} vs cpu ${ref}`);
    });
  });
});
