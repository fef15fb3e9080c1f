// The fused eval executor (native-inference.ts) against the unfused path — tfjs ops one by one on
// the native backend — on every convolution geometry of the five architectures, for each fused
// chain (conv+BN+ReLU, conv+BN+residual+ReLU, conv+ReLU+BN as VGG-13 has it), in both input
// layouts (NHWC and blocked nChw8c) and both executor layouts; then pooling and the classifier,
// and the weights cache (a new data id and an in-place write both refold).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { batchNorm2d } from './batchnorm.js';
import { withoutFusedKernels } from './fusion-scope.js';
import { noteInPlaceWrite } from './heap-writes.js';
import { tf } from './index.js';
import { Layout } from './native-addon.js';
import {
  describeInference,
  fastInferenceLayout,
  fusedInferenceAvailable,
  fusedInferenceRuns,
  runInference,
  type InferenceBatchNorm,
  type InferenceConv,
  type InferenceLayout,
  type InferenceProgram,
  type InferenceTensor,
} from './native-inference.js';
import { CONV_SHAPES, LINEAR_SHAPES, MAXPOOL_SHAPES, type ConvShape } from './native-shapes.test-util.js';
import { blockOnNative, nativeSkipReason, relErr, seeded, useNativeWithCpuReference } from './test-helpers.js';

const TOL = 1e-4;
const EPS = 1e-5;
const LAYOUTS: readonly InferenceLayout[] = ['blocked', 'nhwc'];

function batchNormParams(c: number, seed: number): InferenceBatchNorm {
  const u = (s: number, lo: number, hi: number) => tf.tensor1d(Array.from(seeded([c], s), (v) => lo + ((v + 1.5) / 3) * (hi - lo)));
  return { mean: u(seed, -0.5, 0.5), variance: u(seed + 1, 0.2, 2), gamma: u(seed + 2, 0.5, 1.5), beta: u(seed + 3, -0.3, 0.3), eps: EPS };
}

const bn = (x: tf.Tensor4D, p: InferenceBatchNorm) =>
  batchNorm2d(x, p.mean as tf.Tensor1D, p.variance as tf.Tensor1D, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, p.eps);

/** The op-by-op forward of one fused conv op (what the graph interpreter runs without the executor). */
function unfused(op: InferenceConv, x: tf.Tensor4D, residual?: tf.Tensor4D): tf.Tensor4D {
  return withoutFusedKernels(() =>
    tf.tidy(() => {
      const [t, l, b, r] = op.padding;
      const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [[0, 0], [t, b], [l, r], [0, 0]];
      const w = op.weight as tf.Tensor4D;
      const stride: [number, number] = [op.stride[0], op.stride[1]];
      let y = op.groups === 1 ? tf.conv2d(x, w, stride, pad) : tf.depthwiseConv2d(x, w, stride, pad);
      if (op.bias) y = tf.add(y, op.bias);
      if (op.batchNorm) y = bn(y, op.batchNorm);
      if (residual) y = tf.add(y, residual);
      if (op.activation) y = tf.relu(y);
      if (op.postBatchNorm) y = bn(y, op.postBatchNorm);
      return y;
    }),
  );
}

type Variant = 'bn-relu' | 'bn-residual-relu' | 'relu-bn';

function convProgram(s: ConvShape, variant: Variant, seed: number): InferenceProgram {
  const pad = (s.k - 1) / 2;
  const oh = Math.floor((s.hw + 2 * pad - s.k) / s.stride) + 1;
  const wShape = s.depthwise ? [s.k, s.k, s.cin, 1] : [s.k, s.k, s.cin, s.cout];
  const op: InferenceConv = {
    kind: 'conv',
    input: 0,
    output: 1,
    ...(variant === 'bn-residual-relu' ? { residual: 0 } : {}),
    inChannels: s.cin,
    outChannels: s.cout,
    kernel: [s.k, s.k],
    stride: [s.stride, s.stride],
    dilation: [1, 1],
    padding: [pad, pad, pad, pad],
    groups: s.depthwise ? s.cin : 1,
    weight: tf.tensor(seeded(wShape, seed), wShape).mul(1 / Math.sqrt(s.k * s.k * (s.depthwise ? 1 : s.cin))),
    ...(variant === 'relu-bn' ? { bias: tf.tensor1d(seeded([s.cout], seed + 1)).mul(0.1) } : {}),
    ...(variant === 'relu-bn' ? { postBatchNorm: batchNormParams(s.cout, seed + 2) } : { batchNorm: batchNormParams(s.cout, seed + 2) }),
    activation: { min: 0, max: Infinity },
  };
  return { tensors: [{ rank: 4, channels: s.cin, height: s.hw, width: s.hw }, { rank: 4, channels: s.cout, height: oh, width: oh }], output: 1, ops: [op] };
}

const variantsOf = (s: ConvShape): Variant[] =>
  s.cin === s.cout && s.stride === 1 ? ['bn-relu', 'bn-residual-relu', 'relu-bn'] : ['bn-relu', 'relu-bn'];

const disposeProgram = (p: InferenceProgram) =>
  p.ops.forEach((op) => {
    if (op.kind === 'pool') return;
    tf.dispose([op.weight, ...(op.bias ? [op.bias] : [])]);
    if (op.kind === 'conv') for (const b of [op.batchNorm, op.postBatchNorm]) if (b) tf.dispose([b.mean, b.variance, b.gamma!, b.beta!]);
  });

describe('fused eval executor vs the unfused ops: every conv geometry of the five networks', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const s of CONV_SHAPES) {
    for (const variant of variantsOf(s)) {
      const name = `${s.depthwise ? 'dw' : 'conv'} ${s.k}x${s.k}/${s.stride} ${s.cin}->${s.cout} @${s.hw} (${s.archs}) ${variant}`;
      test(name, () => {
        const program = convProgram(s, variant, s.hw * 131 + s.cin);
        const n = s.hw * s.hw * s.cin * s.cout * (s.depthwise ? 1 : s.k * s.k) > 3e7 ? 1 : 2;
        const x = tf.tensor4d(seeded([n, s.hw, s.hw, s.cin], 7), [n, s.hw, s.hw, s.cin]);
        const op = program.ops[0] as InferenceConv;
        const ref = unfused(op, x, variant === 'bn-residual-relu' ? x : undefined);
        const want = ref.dataSync();
        const inputLayouts = s.cin % 8 === 0 ? [Layout.Nhwc, Layout.Blocked] : [Layout.Nhwc];
        for (const inLayout of inputLayouts) {
          // Both executor layouts for the plain chain; the others in the default (blocked) one.
          for (const layout of variant === 'bn-relu' ? LAYOUTS : LAYOUTS.slice(0, 1)) {
            const xi = x.clone();
            if (inLayout === Layout.Blocked) blockOnNative(xi);
            const y = runInference<tf.Tensor4D>(program, xi, layout);
            const err = relErr(y.dataSync(), want);
            assert.ok(err <= TOL, `input ${inLayout === Layout.Blocked ? 'blocked' : 'nhwc'}, executor ${layout}: rel err ${err}`);
            tf.dispose([xi, y]);
          }
        }
        // No oneDNN reference (scalar) kernel on the way, from either input layout, in either executor layout.
        for (const inLayout of inputLayouts) for (const layout of LAYOUTS) assert.doesNotMatch(describeInference(program, n, inLayout, layout), /\bref\b|ref:/, `input ${inLayout}, executor ${layout}`);
        tf.dispose([x, ref]);
        disposeProgram(program);
      });
    }
  }
});

describe('fused eval executor: pruned widths (channels not a multiple of 8)', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  // A pruned ResNet block after its stem: the residual stream keeps 16 channels, the inner conv 12 (or 13).
  for (const inner of [12, 13]) {
    for (const layout of LAYOUTS) {
      test(`stem 3 -> 16, then 16 -> ${inner} -> 16 with a residual add, executor ${layout}: equals the ops, no reference kernel`, () => {
        const shape = (cin: number, cout: number): ConvShape => ({ hw: 16, cin, cout, k: 3, stride: 1, depthwise: false, archs: 'pruned resnet' });
        const [stem, first, second] = [shape(3, 16), shape(16, inner), shape(inner, 16)].map((c, i) => convProgram(c, 'bn-relu', 3 + i).ops[0] as InferenceConv);
        const program: InferenceProgram = {
          tensors: [3, 16, inner, 16].map((channels) => ({ rank: 4, channels, height: 16, width: 16 })),
          output: 3,
          ops: [stem!, { ...first!, input: 1, output: 2 }, { ...second!, input: 2, output: 3, residual: 1 }],
        };
        const x = tf.tensor4d(seeded([2, 16, 16, 3], 9), [2, 16, 16, 3]);
        const ref = tf.tidy(() => {
          const s = unfused(stem!, x);
          return unfused(second!, unfused(first!, s), s);
        });
        const y = runInference<tf.Tensor4D>(program, x, layout);
        const err = relErr(y.dataSync(), ref.dataSync());
        assert.ok(err <= TOL, `rel err ${err}`);
        // A conv between an NHWC and a blocked map has only oneDNN's scalar kernel (~300x slower).
        assert.doesNotMatch(describeInference(program, 2, Layout.Nhwc, layout), /\bref\b|ref:/);
        tf.dispose([x, ref, y]);
        disposeProgram(program);
      });
    }
  }
});

describe('fused eval executor: the Winograd F(2x2, 3x3) kernel at its edges', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  interface Case {
    name: string;
    n: number;
    h: number;
    w: number;
    cin: number;
    cout: number;
    /** Top, left, bottom, right. */
    padding: [number, number, number, number];
    variant: Variant;
  }
  // Odd outputs leave half-empty 2x2 tiles on the bottom and right; 24 channels leave an 8-wide
  // filter column after the 16-wide ones; 40 images of 16x16 split into many chunks and threads.
  const cases: Case[] = [
    { name: 'odd 7x7 output, 16 -> 24 channels', n: 3, h: 7, w: 7, cin: 16, cout: 24, padding: [1, 1, 1, 1], variant: 'bn-relu' },
    { name: 'non-square 9x6 with a residual add', n: 2, h: 9, w: 6, cin: 24, cout: 24, padding: [1, 1, 1, 1], variant: 'bn-residual-relu' },
    { name: 'asymmetric padding (0, 2, 2, 0): a 10x8 output of a 8x8 map', n: 2, h: 8, w: 8, cin: 16, cout: 32, padding: [2, 0, 2, 0], variant: 'relu-bn' },
    { name: 'no padding: 12x12 -> 10x10', n: 2, h: 12, w: 12, cin: 32, cout: 16, padding: [0, 0, 0, 0], variant: 'bn-relu' },
    { name: '40 images of 16x16x16: many chunks over the threads', n: 40, h: 16, w: 16, cin: 16, cout: 16, padding: [1, 1, 1, 1], variant: 'bn-residual-relu' },
  ];

  for (const c of cases) {
    test(`${c.name} (${c.variant}): equals the ops in both layouts, on the Winograd kernel`, () => {
      const [t, l, b, r] = c.padding;
      const oh = c.h + t + b - 2;
      const ow = c.w + l + r - 2;
      const base = convProgram({ hw: c.h, cin: c.cin, cout: c.cout, k: 3, stride: 1, depthwise: false, archs: 'winograd edge' }, c.variant, 11);
      const op: InferenceConv = { ...(base.ops[0] as InferenceConv), padding: c.padding };
      const program: InferenceProgram = {
        tensors: [{ rank: 4, channels: c.cin, height: c.h, width: c.w }, { rank: 4, channels: c.cout, height: oh, width: ow }],
        output: 1,
        ops: [op],
      };
      const x = tf.tensor4d(seeded([c.n, c.h, c.w, c.cin], 5), [c.n, c.h, c.w, c.cin]);
      const ref = unfused(op, x, c.variant === 'bn-residual-relu' ? x : undefined);
      for (const layout of LAYOUTS) {
        for (const inLayout of [Layout.Nhwc, Layout.Blocked]) {
          assert.match(describeInference(program, c.n, inLayout, layout), /winograd/, `input ${inLayout}, executor ${layout}`);
          const xi = x.clone();
          if (inLayout === Layout.Blocked) blockOnNative(xi);
          const y = runInference<tf.Tensor4D>(program, xi, layout);
          assert.deepEqual(y.shape, [c.n, oh, ow, c.cout]);
          const err = relErr(y.dataSync(), ref.dataSync());
          assert.ok(err <= TOL, `input ${inLayout}, executor ${layout}: rel err ${err}`);
          tf.dispose([xi, y]);
        }
      }
      tf.dispose([x, ref]);
      disposeProgram(program);
    });
  }

  test('8-channel maps, outputs under 4x4, batches of under 16 tiles and strided convolutions stay on oneDNN', () => {
    const shapes: [ConvShape, number][] = [
      [{ hw: 16, cin: 8, cout: 8, k: 3, stride: 1, depthwise: false, archs: '8 channels' }, 2],
      [{ hw: 2, cin: 64, cout: 64, k: 3, stride: 1, depthwise: false, archs: '2x2 output' }, 2],
      [{ hw: 4, cin: 64, cout: 64, k: 3, stride: 1, depthwise: false, archs: '4x4 output, 3 images: 12 tiles' }, 3],
      [{ hw: 16, cin: 32, cout: 32, k: 3, stride: 2, depthwise: false, archs: 'stride 2' }, 2],
    ];
    for (const [s, n] of shapes) {
      const program = convProgram(s, 'bn-relu', 1);
      assert.doesNotMatch(describeInference(program, n, Layout.Nhwc, 'blocked'), /winograd/, s.archs);
      disposeProgram(program);
    }
    // The same 4x4 layer with 4 images (16 tiles) takes the kernel.
    const program = convProgram({ hw: 4, cin: 64, cout: 64, k: 3, stride: 1, depthwise: false, archs: '' }, 'bn-relu', 1);
    assert.match(describeInference(program, 4, Layout.Nhwc, 'blocked'), /winograd/);
    disposeProgram(program);
  });
});

describe('fused eval executor: a 1x1 convolution carrying the stride-2 depthwise one after it (MobileNet-V1)', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  // Every pointwise layer followed by a stride-2 depthwise one in the five networks: the pairs of CONV_SHAPES.
  const pairs = CONV_SHAPES.flatMap((dwShape) =>
    dwShape.depthwise && dwShape.stride === 2
      ? CONV_SHAPES.filter((s) => !s.depthwise && s.k === 1 && s.hw === dwShape.hw && s.cout === dwShape.cin).map((pw) => [pw, dwShape] as const)
      : [],
  );

  test('the table has the pairs', () => assert.ok(pairs.length >= 4, `found ${pairs.length}`));

  for (const [pw, dwShape] of pairs) {
    test(`1x1 ${pw.cin}->${pw.cout} @${pw.hw}, then depthwise 3x3/2: one primitive in the blocked layout, equal to the ops in both`, () => {
      const first = convProgram(pw, 'bn-relu', 21).ops[0] as InferenceConv;
      const second = convProgram(dwShape, 'bn-relu', 22).ops[0] as InferenceConv;
      const out = (pw.hw - 1) / 2 + 1;
      const program: InferenceProgram = {
        tensors: [
          { rank: 4, channels: pw.cin, height: pw.hw, width: pw.hw },
          { rank: 4, channels: pw.cout, height: pw.hw, width: pw.hw },
          { rank: 4, channels: pw.cout, height: Math.floor(out), width: Math.floor(out) },
          { rank: 2, channels: 10 },
        ],
        output: 3,
        ops: [
          first,
          { ...second, input: 1, output: 2 },
          // A classifier after it, so the pair's output is an inner tensor (blocked), as in the network.
          { kind: 'linear', input: 2, output: 3, inFeatures: pw.cout * Math.floor(out) ** 2, outFeatures: 10, weight: tf.tensor(seeded([pw.cout * Math.floor(out) ** 2, 10], 23), [pw.cout * Math.floor(out) ** 2, 10]).mul(0.05) },
        ],
      };
      const n = 128;
      const x = tf.tensor4d(seeded([n, pw.hw, pw.hw, pw.cin], 24), [n, pw.hw, pw.hw, pw.cin]);
      const lin = program.ops[2] as { weight: tf.Tensor };
      const ref = tf.tidy(() => {
        const y = unfused(second, unfused(first, x));
        return tf.matMul(tf.transpose(y, [0, 3, 1, 2]).reshape([n, -1]), lin.weight as tf.Tensor2D);
      });
      // In the network the pointwise layer reads an inner (blocked) map: a blocked input here. The
      // bench's batch, 128: for small batches oneDNN offers only ref_fused_convolution (its two
      // kernels in sequence), which the executor declines, keeping two primitives.
      for (const layout of LAYOUTS) {
        const inLayout = layout === 'blocked' ? Layout.Blocked : Layout.Nhwc;
        const lines = describeInference(program, n, inLayout, layout);
        if (layout === 'blocked') assert.match(lines, /\+ depthwise\n.*in the previous primitive/, lines);
        else assert.doesNotMatch(lines, /depthwise/);
        const xi = x.clone();
        if (inLayout === Layout.Blocked) blockOnNative(xi);
        const y = runInference<tf.Tensor2D>(program, xi, layout);
        const err = relErr(y.dataSync(), ref.dataSync());
        assert.ok(err <= TOL, `executor ${layout}: rel err ${err}`);
        tf.dispose([xi, y]);
      }
      tf.dispose([x, ref]);
      disposeProgram(program);
    });
  }
});

describe('fused eval executor: the layout without reference kernels', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  /** A stem 3 -> c, a c -> c 3x3 convolution in `groups` groups, a classifier. */
  const groupedProgram = (c: number, groups: number): InferenceProgram => {
    const conv = (input: number, cin: number, g: number, seed: number): InferenceConv => ({
      kind: 'conv', input, output: input + 1, inChannels: cin, outChannels: c, kernel: [3, 3], stride: [1, 1], dilation: [1, 1],
      padding: [1, 1, 1, 1], groups: g, weight: tf.tensor(seeded([3, 3, cin / g, c], seed), [3, 3, cin / g, c]), activation: { min: 0, max: Infinity },
    });
    const map = (channels: number): InferenceTensor => ({ rank: 4, channels, height: 8, width: 8 });
    return {
      tensors: [map(3), map(c), map(c), { rank: 2, channels: 10 }],
      output: 3,
      ops: [conv(0, 3, 1, 1), conv(1, c, groups, 2), { kind: 'linear', input: 2, output: 3, inFeatures: c * 64, outFeatures: 10, weight: tf.tensor(seeded([c * 64, 10], 3), [c * 64, 10]) }],
    };
  };

  test('grouped convolutions of 4 channels a group run NHWC (blocked has only the reference kernel for them)', () => {
    const program = groupedProgram(16, 4);
    assert.match(describeInference(program, 2, Layout.Nhwc, 'blocked'), /ref:/, 'the case this guards against');
    assert.equal(fastInferenceLayout(program, 2), 'nhwc');
    assert.doesNotMatch(describeInference(program, 2, Layout.Nhwc, 'nhwc'), /ref:/);
    disposeProgram(program);
  });

  test('a program the blocked layout runs on optimised kernels keeps it', () => {
    const program = groupedProgram(16, 2);
    assert.equal(fastInferenceLayout(program, 2), 'blocked');
    disposeProgram(program);
  });
});

describe('fused eval executor: pooling, flatten and the classifier', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  for (const [hw, c] of MAXPOOL_SHAPES) {
    test(`maxpool 2x2/2 on ${hw}x${hw}x${c} then flatten + linear (VGG-13)`, () => {
      const o = hw / 2;
      const classes = 10;
      const w = tf.tensor2d(seeded([c * o * o, classes], hw), [c * o * o, classes]).mul(0.05) as tf.Tensor2D;
      const b = tf.tensor1d(seeded([classes], 3));
      const program: InferenceProgram = {
        tensors: [{ rank: 4, channels: c, height: hw, width: hw }, { rank: 4, channels: c, height: o, width: o }, { rank: 2, channels: classes }],
        output: 2,
        ops: [
          { kind: 'pool', input: 0, output: 1, mode: 'max', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] },
          { kind: 'linear', input: 1, output: 2, inFeatures: c * o * o, outFeatures: classes, weight: w, bias: b },
        ],
      };
      const x = tf.tensor4d(seeded([2, hw, hw, c], 11), [2, hw, hw, c]);
      // PyTorch's flatten is in NCHW order: what the graph interpreter's flatten does.
      const ref = tf.tidy(() => tf.add(tf.matMul(tf.reshape(tf.transpose(tf.maxPool(x, 2, 2, 'valid'), [0, 3, 1, 2]), [2, -1]), w), b));
      for (const layout of LAYOUTS) {
        for (const inLayout of [Layout.Nhwc, Layout.Blocked]) {
          const xi = x.clone();
          if (inLayout === Layout.Blocked) blockOnNative(xi);
          const y = runInference(program, xi, layout);
          assert.ok(relErr(y.dataSync(), ref.dataSync()) <= TOL, `${layout}, input ${inLayout}`);
          tf.dispose([xi, y]);
        }
      }
      tf.dispose([x, ref, w, b]);
    });
  }

  for (const [features, classes] of LINEAR_SHAPES) {
    test(`global average pool + linear ${features}->${classes} (ResNet, MobileNet classifiers)`, () => {
      const hw = 4;
      const w = tf.tensor2d(seeded([features, classes], features), [features, classes]).mul(0.05) as tf.Tensor2D;
      const b = tf.tensor1d(seeded([classes], 5));
      const program: InferenceProgram = {
        tensors: [{ rank: 4, channels: features, height: hw, width: hw }, { rank: 4, channels: features, height: 1, width: 1 }, { rank: 2, channels: classes }],
        output: 2,
        ops: [
          { kind: 'pool', input: 0, output: 1, mode: 'avg', kernel: [hw, hw], stride: [hw, hw], padding: [0, 0, 0, 0] },
          { kind: 'linear', input: 1, output: 2, inFeatures: features, outFeatures: classes, weight: w, bias: b },
        ],
      };
      const x = tf.tensor4d(seeded([3, hw, hw, features], 13), [3, hw, hw, features]);
      const ref = tf.tidy(() => tf.add(tf.matMul(tf.reshape(tf.mean(x, [1, 2]), [3, features]), w), b));
      for (const layout of LAYOUTS) {
        const y = runInference(program, x, layout);
        assert.ok(relErr(y.dataSync(), ref.dataSync()) <= TOL, layout);
        y.dispose();
      }
      tf.dispose([x, ref, w, b]);
    });
  }
});

describe('fused eval executor: weights cache and availability', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);

  const shape: ConvShape = { hw: 8, cin: 16, cout: 16, k: 3, stride: 1, depthwise: false, archs: 'test' };

  test('a new value (assign) and an in-place write are both seen; the counter counts runs', () => {
    const program = convProgram(shape, 'bn-relu', 5);
    const op = program.ops[0] as InferenceConv;
    const weight = tf.variable(op.weight as tf.Tensor4D);
    const withVar: InferenceProgram = { ...program, ops: [{ ...op, weight }] };
    const x = tf.tensor4d(seeded([2, 8, 8, 16], 3), [2, 8, 8, 16]);
    const check = (label: string) => {
      const ref = unfused({ ...op, weight }, x);
      const y = runInference<tf.Tensor4D>(withVar, x);
      assert.ok(relErr(y.dataSync(), ref.dataSync()) <= TOL, label);
      tf.dispose([y, ref]);
    };
    const runs = fusedInferenceRuns();
    check('initial');
    weight.assign(tf.mul(weight, -1.5) as tf.Tensor4D);
    check('after assign');
    // An in-place update of the variable's storage, as the fused SGD step does.
    const view = tf.backend().readSync(weight.dataId) as Float32Array;
    const scaled = Float32Array.from(view, (v) => v * 0.5);
    weight.assign(tf.tensor4d(scaled, weight.shape as [number, number, number, number]));
    check('after a second assign');
    (op.batchNorm!.mean as tf.Tensor).dataSync(); // reads never refold
    const gammaData = (tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array }).typedArrayFromHeap(op.batchNorm!.gamma!);
    gammaData.fill(2);
    noteInPlaceWrite();
    check('after an in-place write');
    assert.equal(fusedInferenceRuns() - runs, 4);
    tf.dispose([x, weight]);
    disposeProgram(program);
  });

  test('unavailable while a gradient is taped and inside withoutFusedKernels', () => {
    assert.equal(fusedInferenceAvailable(), true);
    withoutFusedKernels(() => assert.equal(fusedInferenceAvailable(), false));
    let inside: boolean | undefined;
    tf.grad((x: tf.Tensor) => {
      inside = fusedInferenceAvailable();
      return tf.sum(x);
    })(tf.scalar(1));
    assert.equal(inside, false);
  });
});
