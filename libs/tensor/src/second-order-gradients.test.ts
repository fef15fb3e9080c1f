// Hessian-vector products by nested tf.grad (reverse over reverse) against central differences
// of first-order gradients, for every op of the paper's networks. Without the rules of
// second-order-gradients.ts these fail (missing gradient) or are wrong by 10–100 % (Exp).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { batchNorm2d, tf, withTwiceDifferentiableOps } from './index.js';
import { seeded, useWasmWithCpuReference } from './test-helpers.js';

before(useWasmWithCpuReference);

type Pad4 = [[0, 0], [number, number], [number, number], [0, 0]];
const p1: Pad4 = [[0, 0], [1, 1], [1, 1], [0, 0]];
const t = (shape: number[], seed: number, scale = 1) => tf.mul(tf.tensor(seeded(shape, seed), shape), scale);

/** max over tensors of max|Hv − fd| / max|fd|, with fd = (∇f(θ+εv) − ∇f(θ−εv)) / 2ε. */
function hvpError(f: (ps: tf.Tensor[]) => tf.Scalar, shapes: number[][], eps = 1e-3): number {
  return tf.tidy(() => {
    const ps = shapes.map((s, i) => tf.variable(t(s, 10 + i)));
    const v = shapes.map((s, i) => t(s, 50 + i));
    const grad = () => {
      const g = tf.variableGrads(() => f(ps), ps).grads;
      return ps.map((p) => g[p.name]);
    };
    const hv = withTwiceDifferentiableOps(() => {
      const h = tf.variableGrads(() => tf.addN(grad().map((g, i) => tf.sum(tf.mul(g, v[i])))) as tf.Scalar, ps).grads;
      return ps.map((p) => h[p.name]);
    });
    const at = (sign: number) => {
      ps.forEach((p, i) => p.assign(tf.add(t(shapes[i], 10 + i), tf.mul(v[i], sign * eps))));
      return grad();
    };
    const [gp, gm] = [at(1), at(-1)];
    let worst = 0;
    gp.forEach((g, i) => {
      const fd = tf.div(tf.sub(g, gm[i]), 2 * eps);
      worst = Math.max(worst, tf.max(tf.abs(tf.sub(fd, hv[i]))).dataSync()[0] / tf.max(tf.abs(fd)).dataSync()[0]);
    });
    ps.forEach((p) => p.dispose());
    return worst;
  });
}

const labels = () => tf.tensor1d([1, 3], 'int32');
/** Mean cross-entropy through logSumExp (Max, Exp, Log, Sum): the loss of every measure. */
const ce = (z: tf.Tensor) =>
  tf.mean(tf.sub(tf.logSumExp(z, 1), tf.sum(tf.mul(z, tf.oneHot(labels(), 4)), 1))) as tf.Scalar;
const x = () => t([2, 8, 8, 3], 1, 2) as tf.Tensor4D;
const head = (h: tf.Tensor4D, w: tf.Tensor) => ce(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, w as tf.Tensor2D));

const CASES: [string, (ps: tf.Tensor[]) => tf.Scalar, number[][]][] = [
  ['linear + log-sum-exp loss', ([w]) => head(x(), w), [[3, 4]]],
  ['conv 3x3 stride 1 pad 1', ([w, l]) => head(tf.conv2d(x(), w as tf.Tensor4D, 1, p1), l), [[3, 3, 3, 4], [4, 4]]],
  ['conv 3x3 stride 2 pad 1 (Conv2DBackpropFilter rule)', ([w, l]) => head(tf.square(tf.conv2d(x(), w as tf.Tensor4D, 2, p1)), l), [[3, 3, 3, 4], [4, 4]]],
  ['conv-conv (Conv2DBackpropInput in the chain)', ([w, u, l]) => head(tf.conv2d(tf.square(tf.conv2d(x(), w as tf.Tensor4D, 1, p1)), u as tf.Tensor4D, 1, p1), l), [[3, 3, 3, 4], [3, 3, 4, 4], [4, 4]]],
  ['conv + relu', ([w, l]) => head(tf.relu(tf.conv2d(x(), w as tf.Tensor4D, 1, p1)), l), [[3, 3, 3, 4], [4, 4]]],
  [
    'conv + eval BatchNorm (plain ops in the scope)',
    ([w, g, b, l]) => head(batchNorm2d(tf.conv2d(x(), w as tf.Tensor4D, 1, p1), t([4], 7) as tf.Tensor1D, tf.add(t([4], 8, 0.5), 1) as tf.Tensor1D, g as tf.Tensor1D, b as tf.Tensor1D), l),
    [[3, 3, 3, 4], [4], [4], [4, 4]],
  ],
  ['conv + max-pool 2x2 (MaxPoolGrad rule)', ([w, l]) => head(tf.maxPool(tf.conv2d(x(), w as tf.Tensor4D, 1, p1), 2, 2, 'valid'), l), [[3, 3, 3, 4], [4, 4]]],
  [
    'depthwise stride 2 + avg-pool (depthwise and AvgPoolGrad rules)',
    ([d, l]) => ce(tf.matMul(tf.reshape(tf.avgPool(tf.square(tf.depthwiseConv2d(x(), d as tf.Tensor4D, 2, p1)), 2, 2, 'valid'), [2, 12]) as tf.Tensor2D, l as tf.Tensor2D)),
    [[3, 3, 3, 1], [12, 4]],
  ],
];

for (const [name, f, shapes] of CASES) {
  test(`Hessian-vector product through ${name} matches finite differences`, () => {
    const err = hvpError(f, shapes);
    assert.ok(err < 2e-3, `rel error ${err}`);
  });
}
