// Native convolution kernels (oneDNN) against the cpu reference backend, on every convolution of
// the five architectures plus geometries they do not use (tfjs 'same' at stride 2 on odd sizes,
// 'valid' leftovers, dilation, channel multiplier 2): forward, input gradient and filter gradient.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nativeFallbackCounts, tf } from './index.js';
import { Layout, loadNativeAddon } from './native-addon.js';
import { heapOf } from './native-heap.js';
import { CONV_SHAPES } from './native-shapes.test-util.js';
import { conv2dFilterGrad, conv2dInputGrad } from './wasm-conv2d-grad.js';
import { liveCounts, nativeSkipReason, relErr, runOn, seeded, useNativeWithCpuReference } from './test-helpers.js';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number;
  pad: Pad;
  depthwise: boolean;
  dilation?: number;
}

const TOL = 1e-4;
const CONV_KERNELS: readonly string[] = [
  tf.Conv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNative,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
];
const explicit = (p: number): Pad => (p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]]);

/** Odd batch 3 where the cpu reference is quick, batch 1 for the largest layers. */
function batchFor(hw: number, cin: number, cout: number, k: number, stride: number, depthwise: boolean): number {
  const flops = 2 * (hw / stride) ** 2 * cout * (depthwise ? 1 : cin) * k * k;
  return flops <= 8e6 ? 3 : 1;
}

const CASES: Case[] = [
  ...CONV_SHAPES.map((s) => {
    const n = batchFor(s.hw, s.cin, s.cout, s.k, s.stride, s.depthwise);
    const kind = s.depthwise ? 'depthwise' : `${s.k}x${s.k}`;
    return {
      name: `${s.archs}: ${s.hw}x${s.hw}x${s.cin} -> ${s.cout} ${kind} stride ${s.stride}, batch ${n}`,
      x: [n, s.hw, s.hw, s.cin] as [number, number, number, number],
      k: s.k,
      cout: s.cout,
      stride: s.stride,
      pad: explicit((s.k - 1) / 2),
      depthwise: s.depthwise,
    };
  }),
  { name: "tfjs 'same' stride 2 on odd 7x7 (bottom/right padding)", x: [3, 7, 7, 8], k: 3, cout: 12, stride: 2, pad: 'same', depthwise: false },
  { name: "'valid' stride 2 on 9x9 (last row unread)", x: [3, 9, 9, 8], k: 3, cout: 12, stride: 2, pad: 'valid', depthwise: false },
  // tfjs has no gradients for dilated convolutions: forward only.
  { name: 'dilation 2 (forward only), 11x11', x: [2, 11, 11, 8], k: 3, cout: 8, stride: 1, pad: 'same', depthwise: false, dilation: 2 },
  { name: 'depthwise channel multiplier 2, stride 2', x: [3, 9, 9, 8], k: 3, cout: 16, stride: 2, pad: 'same', depthwise: true },
  // The Winograd kernel's edges (forward and input gradient): half-empty output tiles, an 8-wide
  // filter column after the 16-wide ones, and the input gradient's padding (2 - the forward's).
  { name: 'Winograd: odd 7x7x16 -> 24', x: [3, 7, 7, 16], k: 3, cout: 24, stride: 1, pad: 'same', depthwise: false },
  { name: "Winograd: 'valid' 10x10x16 -> 32 (the input gradient padded by 2)", x: [2, 10, 10, 16], k: 3, cout: 32, stride: 1, pad: 'valid', depthwise: false },
  { name: 'Winograd: 9x6x24 -> 16 padded top 0, bottom 2, left 2, right 0', x: [2, 9, 6, 24], k: 3, cout: 16, stride: 1, pad: [[0, 0], [0, 2], [2, 0], [0, 0]], depthwise: false },
];

function inputs(c: Case): { x: tf.Tensor4D; w: tf.Tensor4D; dy: tf.Tensor4D } {
  const x = tf.tensor4d(seeded(c.x, 1), c.x);
  const wShape: [number, number, number, number] = c.depthwise ? [c.k, c.k, c.x[3], c.cout / c.x[3]] : [c.k, c.k, c.x[3], c.cout];
  const w = tf.tensor4d(seeded(wShape, 2), wShape);
  const yShape = forward(c, x, w).shape;
  return { x, w, dy: tf.tensor4d(seeded(yShape, 3), yShape) };
}

function forward(c: Case, x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const d = c.dilation ?? 1;
  return c.depthwise ? tf.depthwiseConv2d(x, w, c.stride, c.pad, 'NHWC', d) : tf.conv2d(x, w, c.stride, c.pad, 'NHWC', d);
}

/** y and the gradients of sum(y * dy) w.r.t. x and w, through the backend's gradient kernels. */
function viaGradients(c: Case): tf.Tensor[] {
  return tf.tidy(() => {
    const { x, w, dy } = inputs(c);
    if (c.dilation) return [forward(c, x, w)];
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(forward(c, a as tf.Tensor4D, b as tf.Tensor4D), dy));
    return [forward(c, x, w), ...tf.grads(f)([x, w])];
  });
}

/**
 * The cpu reference. Its own Conv2D backprop kernels are scalar loops (minutes for the largest
 * layers), so regular convolutions' gradients come from the forward-convolution formulation of
 * wasm-conv2d-grad.ts run on cpu, itself checked against those kernels in wasm-conv2d-grad.test.ts.
 */
function reference(c: Case): tf.Tensor[] {
  if (c.depthwise || c.dilation) return viaGradients(c);
  return tf.tidy(() => {
    const { x, w, dy } = inputs(c);
    const pad = c.pad as tf.Conv2DBackpropFilterAttrs['pad'];
    return [forward(c, x, w), conv2dInputGrad(dy, w, x.shape, c.stride, pad), conv2dFilterGrad(x, dy, w.shape, c.stride, pad)];
  });
}

/** The layout native left a forward output in (read before anything rewrites it to NHWC). */
function forwardLayout(c: Case): Layout {
  const { addon } = loadNativeAddon();
  if (!addon) throw new Error('native addon missing');
  return tf.tidy(() => {
    const { x, w } = inputs(c);
    return heapOf(addon, tf.backend()).layoutOf(forward(c, x, w));
  });
}

/** ResNet-56's 3x3 layers, which oneDNN runs blocked with optimised kernels in all three passes. */
const surelyBlockable = (c: Case): boolean => !c.depthwise && c.k === 3 && [16, 32, 64].includes(c.x[3]) && [16, 32, 64].includes(c.cout);

const POLICIES = [
  { name: 'NHWC', policy: 1 },
  { name: 'blocked', policy: 2 },
] as const;

describe('native convolutions vs cpu: every layer of the five architectures, in both layouts', { skip: nativeSkipReason() }, () => {
  before(useNativeWithCpuReference);
  after(() => loadNativeAddon().addon?.setConvLayoutPolicy(0));

  for (const c of CASES) {
    test(`${c.name}, NHWC and blocked`, async () => {
      const ref = await runOn('cpu', () => reference(c));
      for (const { name, policy } of POLICIES) {
        loadNativeAddon().addon?.setConvLayoutPolicy(policy);
        const start = liveCounts();
        const before = new Map(nativeFallbackCounts());
        const got = await runOn('native', () => viaGradients(c));
        const [layout] = await runOn('native', () => [tf.scalar(forwardLayout(c))]);
        if (policy === 1) assert.equal(layout![0], Layout.Nhwc);
        else if (surelyBlockable(c)) assert.equal(layout![0], Layout.Blocked, 'expected a blocked output');
        assert.deepEqual(liveCounts(), start, `${name}: tensors leaked`);
        assert.equal(got.length, ref.length);
        ['y', 'dx', 'dw'].slice(0, ref.length).forEach((what, i) => {
          const err = relErr(got[i]!, ref[i]!);
          assert.ok(err < TOL, `${name}: ${what}: relative error ${err}`);
        });
        // The native kernels must have done the work: only the input gradient of a layer with
        // fewer than 8 input channels (the image stem) is handed to wasm.
        const fellBack = [...nativeFallbackCounts()]
          .filter(([k, n]) => CONV_KERNELS.includes(k) && n !== (before.get(k) ?? 0))
          .map(([k]) => k);
        assert.deepEqual(fellBack, c.x[3] < 8 ? [tf.Conv2DBackpropInput] : [], `${name}: fell back`);
      }
    });
  }
});
