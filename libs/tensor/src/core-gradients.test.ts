import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from './index.js';
import { useWasmWithCpuReference } from './test-helpers.js';

before(useWasmWithCpuReference);

test('tfjs-core gradients are registered (the Node build of tfjs-core ships none)', () => {
  for (const kernel of [tf.Conv2D, tf.DepthwiseConv2dNative, tf.Relu, tf.BatchMatMul, tf.Sum, tf.Mean, tf.Softmax, tf.MaxPool]) {
    assert.ok(tf.getGradient(kernel), `no gradient for ${kernel}`);
  }
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2, 3])).arraySync());
  assert.deepEqual(g, [2, -4, 6]);
});

test('chained tensor methods work (x.square().sum())', () => {
  const v = tf.tidy(() => tf.tensor1d([1, 2, 3]).square().sum().arraySync());
  assert.equal(v, 14);
});
