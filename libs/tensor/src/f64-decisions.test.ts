// Float64 decisions: the float64 kernels agree with float32 ones, and a ReLU / max-pool that
// float32 rounding decides the wrong way gets the float64 decision, in the forward value and the
// gradient.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Float64Decisions } from './f64-decisions.js';
import { F64_KERNELS } from './f64-kernels.js';
import { batchNorm2d, tf } from './index.js';
import { relErr, seeded, useWasmWithCpuReference } from './test-helpers.js';

before(useWasmWithCpuReference);

const p1: [[0, 0], [1, 1], [1, 1], [0, 0]] = [[0, 0], [1, 1], [1, 1], [0, 0]];

test('a float64-shadowed forward pass of a conv net agrees with float32 and records decisions', () => {
  const x = tf.tensor4d(seeded([2, 8, 8, 3], 1), [2, 8, 8, 3]);
  const w1 = tf.tensor4d(seeded([3, 3, 3, 6], 2), [3, 3, 3, 6]);
  const dw = tf.tensor4d(seeded([3, 3, 6, 1], 3), [3, 3, 6, 1]);
  const w2 = tf.tensor4d(seeded([1, 1, 6, 4], 4), [1, 1, 6, 4]);
  const lin = tf.tensor2d(seeded([4, 5], 5), [4, 5]);
  const bn = [seeded([6], 6), Float32Array.from(seeded([6], 7), (v) => v * v + 0.5), seeded([6], 8), seeded([6], 9)].map((a) => tf.tensor1d(a));
  const net = (xs: tf.Tensor4D) => {
    let h = tf.relu(batchNorm2d(tf.conv2d(xs, w1, 1, p1), bn[0] as tf.Tensor1D, bn[1] as tf.Tensor1D, bn[2] as tf.Tensor1D, bn[3] as tf.Tensor1D));
    h = tf.maxPool(tf.relu(tf.depthwiseConv2d(h, dw, 2, p1)), 2, 2, 'valid');
    return tf.add(tf.matMul(tf.reshape(tf.mean(tf.conv2d(h, w2, 1, 'valid'), [1, 2]), [xs.shape[0], 4]) as tf.Tensor2D, lin), 0.5);
  };
  const d = new Float64Decisions();
  d.prepare(net, x, ['a', 'b']);
  assert.equal(d.size, 2);
  // Replaying on the same samples gives the float32 result (no element is near a decision boundary here).
  const replayed = d.replay(() => net(x), ['a', 'b']).dataSync();
  assert.ok(relErr(replayed, net(x).dataSync()) < 1e-6);
  assert.equal(d.corrections, 0);
  assert.throws(() => d.replay(() => net(x), ['a', 'unknown']), /no recorded decisions/);
  for (const k of ['Conv2D', 'DepthwiseConv2dNative', 'FusedBatchNorm', 'Relu', 'MaxPool', 'Mean', 'BatchMatMul', 'Add', 'Reshape']) assert.ok(F64_KERNELS.has(k), k);
});

test('a ReLU that float32 rounding closes is opened by the float64 decision (value and gradient)', () => {
  // conv output = 1e8 + 1 − 1e8: 0 in float32 (ulp(1e8) = 8), 1 in float64.
  const x = tf.tensor4d([1e8, 1, -1e8], [1, 1, 1, 3]);
  const f = tf.variable(tf.tensor4d([1, 1, 1], [1, 1, 3, 1]));
  const net = (xs: tf.Tensor4D) => tf.relu(tf.conv2d(xs, f, 1, 'valid'));
  assert.equal(net(x).dataSync()[0], 0, 'float32 closes the ReLU');
  const plain = tf.variableGrads(() => tf.sum(net(x)) as tf.Scalar, [f]).grads[f.name].dataSync();
  assert.deepEqual(Array.from(plain), [0, 0, 0]);
  const d = new Float64Decisions();
  d.prepare(net, x, ['only']);
  const g = tf.variableGrads(() => tf.sum(d.replay(() => net(x), ['only'])) as tf.Scalar, [f]).grads[f.name].dataSync();
  assert.deepEqual(Array.from(g), [1e8, 1, -1e8], 'the gradient flows as in float64');
  assert.equal(d.corrections, 1);
});

test('a max-pool tie made by float32 rounding goes to the float64 winner', () => {
  // Two conv outputs 1e8 + {1, 2} − 1e8: both 0 in float32 (a tie, first wins), 1 < 2 in float64.
  const x = tf.tensor4d([1e8, 1, -1e8, 1e8, 2, -1e8], [1, 1, 2, 3]);
  const f = tf.variable(tf.tensor4d([1, 1, 1], [1, 1, 3, 1]));
  const net = (xs: tf.Tensor4D) => tf.maxPool(tf.conv2d(xs, f, 1, 'valid'), [1, 2], [1, 2], 'valid');
  const grad = (d?: Float64Decisions) =>
    tf.variableGrads(() => tf.sum(d ? d.replay(() => net(x), ['s']) : net(x)) as tf.Scalar, [f]).grads[f.name].dataSync();
  assert.deepEqual(Array.from(grad()), [1e8, 1, -1e8], 'float32 routes to the first position');
  const d = new Float64Decisions();
  d.prepare(net, x, ['s']);
  assert.deepEqual(Array.from(grad(d)), [1e8, 2, -1e8], 'float64 routes to the second');
});
