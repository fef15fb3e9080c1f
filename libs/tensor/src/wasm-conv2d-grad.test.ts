import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tf } from './index.js';
import { liveCounts, relErr, runOn, seeded, useWasmWithCpuReference } from './test-helpers.js';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  out: number;
  stride: number;
  pad: Pad;
}

const p1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
const CASES: Case[] = [];
for (const n of [1, 3]) {
  CASES.push(
    { name: `stem 3->16 3x3 s1 pad1, batch ${n}`, x: [n, 32, 32, 3], k: 3, out: 16, stride: 1, pad: p1 },
    { name: `16->32 3x3 s2 pad1, batch ${n}`, x: [n, 16, 16, 16], k: 3, out: 32, stride: 2, pad: p1 },
    { name: `projection 16->32 1x1 s2 pad0, batch ${n}`, x: [n, 16, 16, 16], k: 1, out: 32, stride: 2, pad: 'valid' },
    { name: `64->64 3x3 s1 on 8x8, batch ${n}`, x: [n, 8, 8, 64], k: 3, out: 64, stride: 1, pad: p1 },
  );
}
// Odd sizes: the last row/column is read by no window ('valid') or sits in the bottom padding ('same').
CASES.push(
  { name: 'odd 7x7 3x3 s2 same', x: [3, 7, 7, 4], k: 3, out: 5, stride: 2, pad: 'same' },
  { name: 'odd 9x9 3x3 s2 valid', x: [3, 9, 9, 4], k: 3, out: 5, stride: 2, pad: 'valid' },
);

/** Gradients of sum(conv2d(x, w) * dy) w.r.t. x and w, i.e. the two backprop kernels with upstream dy. */
function convGrads(c: Case): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(seeded(c.x, 1), c.x);
    const w = tf.tensor4d(seeded([c.k, c.k, c.x[3], c.out], 2), [c.k, c.k, c.x[3], c.out]);
    const yShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const dy = tf.tensor4d(seeded(yShape, 3), yShape);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy));
    return tf.grads(f)([x, w]);
  });
}

describe('wasm Conv2DBackpropInput / Conv2DBackpropFilter vs cpu', () => {
  before(useWasmWithCpuReference);

  for (const c of CASES) {
    test(c.name, async () => {
      const [dxRef, dwRef] = await runOn('cpu', () => convGrads(c));
      const start = liveCounts();
      const [dx, dw] = await runOn('wasm', () => convGrads(c));
      assert.ok(dx && dw && dxRef && dwRef);
      assert.ok(relErr(dx, dxRef) < 1e-4, `dx rel err ${relErr(dx, dxRef)}`);
      assert.ok(relErr(dw, dwRef) < 1e-4, `dw rel err ${relErr(dw, dwRef)}`);
      // Everything ran in tf.tidy and runOn disposed the outputs: any leftover is a kernel leak
      // (the backend buffer count also catches ref-count mistakes the engine cannot see).
      assert.deepEqual(liveCounts(), start);
    });
  }

  test('conv2dTranspose (Conv2DBackpropInput as a forward op) matches cpu', async () => {
    const run = (): tf.Tensor[] => {
      const dy = tf.tensor4d(seeded([2, 5, 5, 8], 4), [2, 5, 5, 8]);
      const w = tf.tensor4d(seeded([3, 3, 4, 8], 5), [3, 3, 4, 8]);
      return [tf.conv2dTranspose(dy, w, [2, 10, 10, 4], 2, 'same')];
    };
    const [ref] = await runOn('cpu', run);
    const [got] = await runOn('wasm', run);
    assert.ok(got && ref);
    assert.ok(relErr(got, ref) < 1e-4, `rel err ${relErr(got, ref)}`);
  });
});
