import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tf } from './index.js';
import { liveCounts, relErr, runOn, seeded, useWasmWithCpuReference } from './test-helpers.js';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  stride: number;
  pad: Pad;
}

const p1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
const CASES: Case[] = [];
for (const n of [1, 3]) {
  CASES.push(
    { name: `depthwise 32ch 3x3 s1 pad1, batch ${n}`, x: [n, 16, 16, 32], k: 3, stride: 1, pad: p1 },
    { name: `depthwise 32ch 3x3 s2 pad1, batch ${n}`, x: [n, 16, 16, 32], k: 3, stride: 2, pad: p1 },
  );
}
CASES.push({ name: 'depthwise odd 9x9 3x3 s2 valid', x: [3, 9, 9, 5], k: 3, stride: 2, pad: 'valid' });

function depthwiseGrads(c: Case): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(seeded(c.x, 11), c.x);
    const w = tf.tensor4d(seeded([c.k, c.k, c.x[3], 1], 12), [c.k, c.k, c.x[3], 1]);
    const yShape = tf.depthwiseConv2d(x, w, c.stride, c.pad).shape;
    const dy = tf.tensor4d(seeded(yShape, 13), yShape);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy));
    return tf.grads(f)([x, w]);
  });
}

describe('wasm DepthwiseConv2dNativeBackpropInput / ...BackpropFilter vs cpu', () => {
  before(useWasmWithCpuReference);

  for (const c of CASES) {
    test(c.name, async () => {
      const [dxRef, dwRef] = await runOn('cpu', () => depthwiseGrads(c));
      const start = liveCounts();
      const [dx, dw] = await runOn('wasm', () => depthwiseGrads(c));
      assert.ok(dx && dw && dxRef && dwRef);
      assert.ok(relErr(dx, dxRef) < 1e-4, `dx rel err ${relErr(dx, dxRef)}`);
      assert.ok(relErr(dw, dwRef) < 1e-4, `dw rel err ${relErr(dw, dwRef)}`);
      assert.deepEqual(liveCounts(), start);
    });
  }

  test('channel multiplier > 1 is rejected with a clear error', async () => {
    await assert.rejects(
      runOn('wasm', () =>
        tf.tidy(() => {
          const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
          const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
          return [tf.grad((a: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, w, 1, 'same')))(x)];
        }),
      ),
      /channel multiplier 1 only/,
    );
  });
});
