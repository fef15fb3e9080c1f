// Float64 host implementations of the kernels a network's forward pass runs (NHWC), used to
// evaluate a forward pass in double precision beside the float32 one (f64-decisions.ts). Plain
// loops: they are about 20x slower than the float32 backends, which is why only the decisions
// (ReLU signs, max-pool winners) they lead to are kept.
import * as tf from '@tensorflow/tfjs-core';

const { computeConv2DInfo, computePool2DInfo } = tf.backend_util;

export interface F64 {
  values: Float64Array;
  shape: number[];
}

export type F64Kernel = (inputs: Record<string, F64 | undefined>, attrs: tf.NamedAttrMap) => F64 | F64[];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function input(inputs: Record<string, F64 | undefined>, name: string, kernel: string): F64 {
  const t = inputs[name];
  if (!t) throw new Error(`float64 ${kernel}: missing input ${name}`);
  return t;
}

type Pad = tf.Conv2DAttrs['pad'];

/** Filters [K, CO] transposed to [CO, K], per filter array (weights repeat across chunks). */
const transposed = new WeakMap<Float64Array, Float64Array>();

function transposeFilter(w: Float64Array, K: number, CO: number): Float64Array {
  let t = transposed.get(w);
  if (!t) {
    t = new Float64Array(K * CO);
    for (let k = 0; k < K; k++) for (let co = 0; co < CO; co++) t[co * K + k] = w[k * CO + co];
    transposed.set(w, t);
  }
  return t;
}

/**
 * y[p, :] = Σ_k a[p, k]·w[k, :] for P rows, with wt = wᵀ [CO, K]: 2 rows x 4 outputs per pass so
 * each loaded value serves several multiply-adds (about 4x the naive loop in V8).
 */
function gemm(a: Float64Array, wt: Float64Array, y: Float64Array, yOffset: number, P: number, K: number, CO: number): void {
  let r = 0;
  for (; r + 1 < P; r += 2) {
    const a0 = r * K;
    const a1 = a0 + K;
    let co = 0;
    for (; co + 3 < CO; co += 4) {
      const w0 = co * K;
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < K; k++) {
        const u = a[a0 + k];
        const v = a[a1 + k];
        const q0 = wt[w0 + k];
        const q1 = wt[w1 + k];
        const q2 = wt[w2 + k];
        const q3 = wt[w3 + k];
        s00 += u * q0;
        s01 += u * q1;
        s02 += u * q2;
        s03 += u * q3;
        s10 += v * q0;
        s11 += v * q1;
        s12 += v * q2;
        s13 += v * q3;
      }
      const o0 = yOffset + r * CO + co;
      const o1 = o0 + CO;
      y[o0] = s00;
      y[o0 + 1] = s01;
      y[o0 + 2] = s02;
      y[o0 + 3] = s03;
      y[o1] = s10;
      y[o1 + 1] = s11;
      y[o1 + 2] = s12;
      y[o1 + 3] = s13;
    }
    for (; co < CO; co++) {
      let s0 = 0;
      let s1 = 0;
      const w0 = co * K;
      for (let k = 0; k < K; k++) {
        s0 += a[a0 + k] * wt[w0 + k];
        s1 += a[a1 + k] * wt[w0 + k];
      }
      y[yOffset + r * CO + co] = s0;
      y[yOffset + (r + 1) * CO + co] = s1;
    }
  }
  for (; r < P; r++)
    for (let co = 0; co < CO; co++) {
      let s0 = 0;
      for (let k = 0; k < K; k++) s0 += a[r * K + k] * wt[co * K + k];
      y[yOffset + r * CO + co] = s0;
    }
}

/** NHWC convolution; depthwise when `depthwise` (filter [kh, kw, C, multiplier]). */
function conv(x: F64, f: F64, strides: number | [number, number], pad: Pad, dilations: number | [number, number], rounding: 'floor' | 'round' | 'ceil' | undefined, depthwise: boolean): F64 {
  const info = computeConv2DInfo(x.shape as [number, number, number, number], f.shape as [number, number, number, number], strides, dilations, pad, rounding, depthwise);
  const [N, H, W, C] = x.shape;
  const { outHeight: OH, outWidth: OW, outChannels: CO, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [KH, KW] = [info.filterHeight, info.filterWidth];
  const { top, left } = info.padInfo;
  const y = new Float64Array(N * OH * OW * CO);
  const xv = x.values;
  const wv = f.values;
  if (depthwise) {
    const mult = CO / C;
    for (let n = 0; n < N; n++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yo = ((n * OH + oh) * OW + ow) * CO;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh + kh * dh - top;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw + kw * dw - left;
              if (iw < 0 || iw >= W) continue;
              const xo = ((n * H + ih) * W + iw) * C;
              const wo = (kh * KW + kw) * CO;
              for (let c = 0; c < C; c++) for (let m = 0; m < mult; m++) y[yo + c * mult + m] += xv[xo + c] * wv[wo + c * mult + m];
            }
          }
        }
    return { values: y, shape: [N, OH, OW, CO] };
  }
  // im2col per image, then a blocked GEMM against the transposed filter.
  const K = KH * KW * C;
  const P = OH * OW;
  const wt = transposeFilter(wv, K, CO);
  const a = new Float64Array(P * K);
  for (let n = 0; n < N; n++) {
    a.fill(0);
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const row = (oh * OW + ow) * K;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh * dh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dw - left;
            if (iw < 0 || iw >= W) continue;
            a.set(xv.subarray(((n * H + ih) * W + iw) * C, ((n * H + ih) * W + iw + 1) * C), row + (kh * KW + kw) * C);
          }
        }
      }
    gemm(a, wt, y, n * P * CO, P, K, CO);
  }
  return { values: y, shape: [N, OH, OW, CO] };
}

function pool(x: F64, attrs: tf.MaxPoolAttrs, op: 'max' | 'avg'): F64 {
  const info = computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [N, H, W, C] = x.shape;
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
  const { top, left } = info.padInfo;
  const y = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let acc = op === 'max' ? -Infinity : 0;
          let count = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh + kh - top;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw + kw - left;
              if (iw < 0 || iw >= W) continue;
              const v = x.values[((n * H + ih) * W + iw) * C + c];
              if (op === 'max') acc = v > acc ? v : acc;
              else acc += v;
              count++;
            }
          }
          y[((n * OH + oh) * OW + ow) * C + c] = op === 'max' ? acc : acc / count;
        }
  return { values: y, shape: [N, OH, OW, C] };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** NumPy broadcasting of a binary elementwise op. */
function binary(a: F64, b: F64, f: (x: number, y: number) => number): F64 {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array<number>(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array<number>(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error(`float64 broadcast: shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const n = size(shape);
  const out = new Float64Array(n);
  if (a.values.length === n && b.values.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a.values[i], b.values[i]);
    return { values: out, shape };
  }
  const so = strides(shape);
  const sa = strides(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = strides(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  for (let i = 0; i < n; i++) {
    let r = i;
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(r / so[d]);
      r -= q * so[d];
      ia += q * sa[d];
      ib += q * sb[d];
    }
    out[i] = f(a.values[ia], b.values[ib]);
  }
  return { values: out, shape };
}

function unary(x: F64, f: (v: number) => number): F64 {
  const out = new Float64Array(x.values.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.values[i]);
  return { values: out, shape: x.shape };
}

/** Sum or mean over `axis` (tfjs semantics: negative axes count from the end). */
function reduce(x: F64, axisAttr: number | number[], keepDims: boolean, mean: boolean): F64 {
  const rank = x.shape.length;
  const axes = new Set((Array.isArray(axisAttr) ? axisAttr : [axisAttr]).map((a) => (a < 0 ? a + rank : a)));
  const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const out = new Float64Array(size(kept));
  const sx = strides(x.shape);
  const sk = strides(kept);
  for (let i = 0; i < x.values.length; i++) {
    let r = i;
    let o = 0;
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(r / sx[d]);
      r -= q * sx[d];
      if (!axes.has(d)) o += q * sk[d];
    }
    out[o] += x.values[i];
  }
  if (mean) {
    const count = x.values.length / out.length;
    for (let i = 0; i < out.length; i++) out[i] /= count;
  }
  return { values: out, shape: keepDims ? kept : x.shape.filter((_, i) => !axes.has(i)) };
}

function batchMatMul(a: F64, b: F64, transposeA: boolean, transposeB: boolean): F64 {
  const [ba, ra, ca] = a.shape.length === 3 ? a.shape : [1, ...a.shape];
  const [bb, rb, cb] = b.shape.length === 3 ? b.shape : [1, ...b.shape];
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const [k2, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k !== k2) throw new Error(`float64 BatchMatMul: inner dimensions ${k} and ${k2} differ`);
  const batch = Math.max(ba, bb);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const oa = (ba === 1 ? 0 : p) * ra * ca;
    const ob = (bb === 1 ? 0 : p) * rb * cb;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a.values[oa + (transposeA ? q * ca + i : i * ca + q)] * b.values[ob + (transposeB ? j * cb + q : q * cb + j)];
        out[(p * m + i) * n + j] = s;
      }
  }
  return { values: out, shape: [batch, m, n] };
}

function fusedBatchNorm(inputs: Record<string, F64 | undefined>, eps: number): F64 {
  const x = input(inputs, 'x', 'FusedBatchNorm');
  const [mean, variance] = [input(inputs, 'mean', 'FusedBatchNorm'), input(inputs, 'variance', 'FusedBatchNorm')];
  const { scale, offset } = inputs;
  const C = x.shape[x.shape.length - 1];
  const at = (t: F64 | undefined, c: number, d: number) => (t ? t.values[t.values.length === 1 ? 0 : c] : d);
  const k = Array.from({ length: C }, (_, c) => at(scale, c, 1) / Math.sqrt(at(variance, c, 0) + eps));
  const y = new Float64Array(x.values.length);
  for (let i = 0; i < y.length; i++) {
    const c = i % C;
    y[i] = (x.values[i] - at(mean, c, 0)) * k[c] + at(offset, c, 0);
  }
  return { values: y, shape: x.shape };
}

const pass = (name: string): F64Kernel => (inputs) => input(inputs, 'x', name);

/** The float64 kernels by tfjs kernel name. */
export const F64_KERNELS: ReadonlyMap<string, F64Kernel> = new Map<string, F64Kernel>([
  [tf.Identity, pass(tf.Identity)],
  [tf.Reshape, (inputs, attrs) => ({ values: input(inputs, 'x', tf.Reshape).values, shape: (attrs as unknown as tf.ReshapeAttrs).shape })],
  [tf.Cast, pass(tf.Cast)],
  [
    tf.Conv2D,
    (inputs, attrs) => {
      const a = attrs as unknown as tf.Conv2DAttrs;
      if (a.dataFormat !== 'NHWC') throw new Error('float64 Conv2D: NHWC only');
      return conv(input(inputs, 'x', tf.Conv2D), input(inputs, 'filter', tf.Conv2D), a.strides, a.pad, a.dilations, a.dimRoundingMode, false);
    },
  ],
  [
    tf.DepthwiseConv2dNative,
    (inputs, attrs) => {
      const a = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
      return conv(input(inputs, 'x', tf.DepthwiseConv2dNative), input(inputs, 'filter', tf.DepthwiseConv2dNative), a.strides, a.pad, a.dilations, a.dimRoundingMode, true);
    },
  ],
  [tf.FusedBatchNorm, (inputs, attrs) => fusedBatchNorm(inputs, (attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon)],
  [tf.Relu, (inputs) => unary(input(inputs, 'x', tf.Relu), (v) => (v > 0 ? v : 0))],
  [
    tf.ClipByValue,
    (inputs, attrs) => {
      // ReLU6 of imported MobileNet-V2s.
      const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
      return unary(input(inputs, 'x', tf.ClipByValue), (v) => (v < lo ? lo : v > hi ? hi : v));
    },
  ],
  [tf.MaxPool, (inputs, attrs) => pool(input(inputs, 'x', tf.MaxPool), attrs as unknown as tf.MaxPoolAttrs, 'max')],
  [tf.AvgPool, (inputs, attrs) => pool(input(inputs, 'x', tf.AvgPool), attrs as unknown as tf.MaxPoolAttrs, 'avg')],
  [tf.Mean, (inputs, attrs) => reduce(input(inputs, 'x', tf.Mean), (attrs as unknown as tf.MeanAttrs).axis, (attrs as unknown as tf.MeanAttrs).keepDims, true)],
  [tf.Sum, (inputs, attrs) => reduce(input(inputs, 'x', tf.Sum), (attrs as unknown as tf.SumAttrs).axis, (attrs as unknown as tf.SumAttrs).keepDims, false)],
  [
    tf.BatchMatMul,
    (inputs, attrs) => {
      const a = attrs as unknown as tf.BatchMatMulAttrs;
      return batchMatMul(input(inputs, 'a', tf.BatchMatMul), input(inputs, 'b', tf.BatchMatMul), a.transposeA, a.transposeB);
    },
  ],
  [tf.Add, (inputs) => binary(input(inputs, 'a', tf.Add), input(inputs, 'b', tf.Add), (x, y) => x + y)],
  [tf.Sub, (inputs) => binary(input(inputs, 'a', tf.Sub), input(inputs, 'b', tf.Sub), (x, y) => x - y)],
  [tf.Multiply, (inputs) => binary(input(inputs, 'a', tf.Multiply), input(inputs, 'b', tf.Multiply), (x, y) => x * y)],
  [tf.RealDiv, (inputs) => binary(input(inputs, 'a', tf.RealDiv), input(inputs, 'b', tf.RealDiv), (x, y) => x / y)],
  [tf.Rsqrt, (inputs) => unary(input(inputs, 'x', tf.Rsqrt), (v) => 1 / Math.sqrt(v))],
  [tf.Sqrt, (inputs) => unary(input(inputs, 'x', tf.Sqrt), Math.sqrt)],
  [tf.Neg, (inputs) => unary(input(inputs, 'x', tf.Neg), (v) => -v)],
]);
