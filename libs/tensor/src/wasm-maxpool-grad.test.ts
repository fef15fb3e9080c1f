// The wasm MaxPoolGrad replacement against the cpu backend's. The stock wasm kernel drops the
// gradient of windows whose values are all negative; these inputs are centred on 0 so many are.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from './index.js';
import { relErr, runOn, seeded, useWasmWithCpuReference } from './test-helpers.js';

before(useWasmWithCpuReference);

const CASES: { name: string; x: [number, number, number, number]; size: number; stride: number; pad: 'valid' | 'same' }[] = [
  { name: '2x2 stride 2 valid (VGG)', x: [3, 8, 8, 5], size: 2, stride: 2, pad: 'valid' },
  { name: '2x2 stride 2 valid, odd map', x: [2, 7, 7, 3], size: 2, stride: 2, pad: 'valid' },
  { name: '3x3 stride 2 same (overlapping, padded)', x: [2, 9, 9, 4], size: 3, stride: 2, pad: 'same' },
  { name: '3x3 stride 1 valid (overlapping)', x: [1, 6, 6, 2], size: 3, stride: 1, pad: 'valid' },
];

for (const c of CASES) {
  test(`MaxPoolGrad on wasm equals cpu: ${c.name}`, async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(seeded(c.x, 3), c.x);
        const dyShape = tf.maxPool(x, c.size, c.stride, c.pad).shape;
        const dy = tf.tensor4d(seeded(dyShape, 4), dyShape);
        return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad), dy)))(x)];
      });
    const [wasm] = await runOn('wasm', run);
    const [cpu] = await runOn('cpu', run);
    // Overlapping windows add several dy into one position, in another order than cpu: rounding only.
    assert.ok(relErr(wasm, cpu) < 1e-6, `rel ${relErr(wasm, cpu)}`);
    assert.deepEqual(Array.from(wasm, (v) => v !== 0), Array.from(cpu, (v) => v !== 0), 'same positions receive gradient');
    const negative = Array.from(seeded(c.x, 3)).filter((v) => v < 0).length;
    assert.ok(negative > 0, 'the input has negative values');
  });
}
