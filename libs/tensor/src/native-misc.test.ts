// Native pooling, matmul and elementwise kernels against the cpu reference: VGG's max-pools and
// every classifier of the five architectures, plus general geometries (overlapping and padded
// windows, average pools, transposed and broadcast matmuls), forward and gradients.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { nativeFallbackCounts, tf } from './index.js';
import { LINEAR_SHAPES, MAXPOOL_SHAPES } from './native-shapes.test-util.js';
import { blockOnNative, liveCounts, nativeSkipReason, relErr, runOn, seeded, useNativeWithCpuReference } from './test-helpers.js';

const TOL = 1e-4;

/** Runs fn on cpu and native and compares every output; returns the native kernels that fell back. */
async function compare(fn: () => tf.Tensor[], names: string[]): Promise<string[]> {
  const ref = await runOn('cpu', () => tf.tidy(fn));
  const start = liveCounts();
  const before = new Map(nativeFallbackCounts());
  const got = await runOn('native', () => tf.tidy(fn));
  assert.deepEqual(liveCounts(), start, 'tensors leaked');
  assert.equal(got.length, names.length);
  names.forEach((what, i) => {
    const err = relErr(got[i]!, ref[i]!);
    assert.ok(err < TOL, `${what}: relative error ${err}`);
  });
  return [...nativeFallbackCounts()].filter(([k, n]) => n !== (before.get(k) ?? 0)).map(([k]) => k);
}

type Pool = 'max' | 'avg';

function pool(kind: Pool, shape: [number, number, number, number], size: number, stride: number, pad: 'valid' | 'same', blocked = false): () => tf.Tensor[] {
  return () => {
    // Distinct values except for deliberate ties (every 7th value repeats its neighbour), so the
    // first-maximum rule is tested; an offset makes whole windows negative.
    const data = seeded(shape, 51).map((v, i, a) => (i % 7 === 6 ? (a[i - 1] ?? v) : v) - 0.8);
    const x = tf.tensor4d(data, shape);
    const f = (a: tf.Tensor4D): tf.Tensor4D => (kind === 'max' ? tf.maxPool(a, size, stride, pad) : tf.avgPool(a, size, stride, pad));
    const y = f(x);
    const dy = tf.tensor4d(seeded(y.shape, 52), y.shape);
    if (blocked) blockOnNative(x, dy);
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), dy)))([x]);
    return [y, dx!];
  };
}

describe('native pooling vs cpu', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const [hw, c] of MAXPOOL_SHAPES) {
    for (const blocked of [false, true]) {
      test(`vgg13 max-pool 2x2 stride 2, ${blocked ? 'blocked' : 'NHWC'}: [3, ${hw}, ${hw}, ${c}]`, async () => {
        const fell = await compare(pool('max', [3, hw, hw, c], 2, 2, 'valid', blocked), ['y', 'dx']);
        assert.ok(!fell.includes(tf.MaxPool) && !fell.includes(tf.MaxPoolGrad), `fell back: ${fell}`);
      });
    }
  }
  test("max-pool 3x3 stride 2 'same' (overlapping, padded) on 9x9", async () => {
    const fell = await compare(pool('max', [3, 9, 9, 5], 3, 2, 'same'), ['y', 'dx']);
    assert.ok(!fell.includes(tf.MaxPool) && !fell.includes(tf.MaxPoolGrad), `fell back: ${fell}`);
  });
  test('average pool 2x2 stride 2 (native, also blocked) and 3x3 stride 1 overlapping', async () => {
    const fell = await compare(pool('avg', [3, 8, 8, 6], 2, 2, 'valid'), ['y', 'dx']);
    await compare(pool('avg', [3, 8, 8, 16], 2, 2, 'valid', true), ['y', 'dx']);
    assert.ok(!fell.includes(tf.AvgPool) && !fell.includes(tf.AvgPoolGrad), `fell back: ${fell}`);
    await compare(pool('avg', [3, 7, 7, 6], 3, 1, 'valid'), ['y', 'dx']);
  });
  test("padded average pool stays on wasm ('same' counts differ between forward and gradient in tfjs)", async () => {
    const fell = await compare(() => [tf.avgPool(tf.tensor4d(seeded([2, 5, 5, 3], 53), [2, 5, 5, 3]), 2, 2, 'same')], ['y']);
    assert.ok(fell.includes(tf.AvgPool));
  });
});

describe('native matmul vs cpu: every classifier', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const [inF, outF] of LINEAR_SHAPES) {
    test(`linear ${inF} -> ${outF}, batch 3: forward and gradients (transposed products)`, async () => {
      const run = (): tf.Tensor[] => {
        const x = tf.tensor2d(seeded([3, inF], 61), [3, inF]);
        const w = tf.tensor2d(seeded([inF, outF], 62), [inF, outF]);
        const b = tf.tensor1d(seeded([outF], 63));
        const dy = tf.tensor2d(seeded([3, outF], 64), [3, outF]);
        const f = (a: tf.Tensor, k: tf.Tensor, c: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.add(tf.matMul(a as tf.Tensor2D, k as tf.Tensor2D), c), dy));
        return [tf.add(tf.matMul(x, w), b), ...tf.grads(f)([x, w, b])];
      };
      const fell = await compare(run, ['y', 'dx', 'dw', 'db']);
      assert.ok(!fell.includes(tf.BatchMatMul), `fell back: ${fell}`);
    });
  }
  test('batched, both transposes, broadcast batch of 1', async () => {
    const run = (): tf.Tensor[] => {
      const a = tf.tensor3d(seeded([4, 6, 5], 65), [4, 6, 5]);
      const b = tf.tensor3d(seeded([1, 7, 6], 66), [1, 7, 6]);
      return [tf.matMul(a, b, true, true), tf.matMul(tf.tensor3d(seeded([4, 5, 6], 67), [4, 5, 6]), tf.tensor3d(seeded([4, 6, 3], 68), [4, 6, 3]))];
    };
    const fell = await compare(run, ['a^T b^T', 'a b']);
    assert.ok(!fell.includes(tf.BatchMatMul), `fell back: ${fell}`);
  });
});

describe('native elementwise kernels vs cpu', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  test('relu, its gradient, and same-shape add / sub / mul on a ResNet-size activation (odd batch)', async () => {
    const shape: [number, number, number, number] = [3, 32, 32, 16];
    const run = (): tf.Tensor[] => {
      const a = tf.tensor4d(seeded(shape, 71), shape);
      const b = tf.tensor4d(seeded(shape, 72), shape);
      const [da] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), b)))([a]);
      return [tf.relu(a), da!, tf.add(a, b), tf.sub(a, b), tf.mul(a, b)];
    };
    const fell = await compare(run, ['relu', 'relu grad', 'add', 'sub', 'mul']);
    // (Multiply also runs in broadcast form inside sum()'s gradient, which wasm serves.)
    for (const k of [tf.Relu, tf.Add, tf.Sub, 'FlowpruneReluGrad']) assert.ok(!fell.includes(k), `${k} fell back`);
    const fellMul = await compare(() => [tf.mul(tf.tensor4d(seeded(shape, 73), shape), tf.tensor4d(seeded(shape, 74), shape))], ['mul']);
    assert.ok(!fellMul.includes(tf.Multiply));
  });
  test('mixed layouts: a blocked and an NHWC operand give the same values', async () => {
    const shape: [number, number, number, number] = [3, 4, 4, 16];
    const run = (): tf.Tensor[] => {
      const a = tf.tensor4d(seeded(shape, 75), shape);
      const b = tf.tensor4d(seeded(shape, 76), shape);
      blockOnNative(a);
      const [da] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), b)))([a]);
      return [tf.add(a, b), tf.mul(b, a), tf.relu(a), da!, tf.sum(a, [1, 2])];
    };
    await compare(run, ['add', 'mul', 'relu', 'relu grad', 'sum (wasm)']);
  });
  test('broadcasting forms fall back to wasm and stay correct', async () => {
    const run = (): tf.Tensor[] => {
      const a = tf.tensor4d(seeded([3, 4, 4, 8], 73), [3, 4, 4, 8]);
      const c = tf.tensor1d(seeded([8], 74));
      return [tf.add(a, c), tf.mul(a, c), tf.sub(c, a)];
    };
    const fell = await compare(run, ['add', 'mul', 'sub']);
    assert.ok(fell.includes(tf.Add) && fell.includes(tf.Multiply) && fell.includes(tf.Sub));
  });
  test('Identity shares data (no copy) and both tensors stay valid until each is disposed', async () => {
    await runOn('native', () => {
      const a = tf.tensor1d([1, 2, 3]);
      const buffers = tf.backend().numDataIds();
      const b = tf.clone(a);
      assert.equal(tf.backend().numDataIds(), buffers, 'clone allocated a new buffer');
      a.dispose();
      assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
      b.dispose();
      assert.equal(tf.backend().numDataIds(), buffers - 1);
      return [];
    });
  });
});
