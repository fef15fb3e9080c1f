// ReLU and max-pool decisions taken from a float64 evaluation of the same forward pass.
//
// Why: a float32 forward pass differs from a float64 one by rounding, and a ReLU whose input is
// within that rounding of 0 (or a max-pool window whose top two values are) can go the other way.
// One such flip changes the gradient of the filters it feeds by up to 1e-2 of their layer's scale
// (measured on the MobileNet-V1 importance fixture). Reference values computed in float64 are only
// reproduced when the branches are the float64 ones; everything else may stay float32.
//
// How: prepare() runs the forward once per new sample with every kernel of the active backend
// wrapped so that a float64 twin of each tensor is computed on the host (f64-kernels.ts), and
// records, per sample, the float64 decision of every *fragile* element: ReLU inputs within
// `fragility` of the sample's largest |input|, max-pool windows whose top two values are that
// close. replay() runs the real (float32, taped) forward with the ReLU and MaxPool kernels
// wrapped: before each runs, any fragile element whose float32 value decides otherwise is moved
// across by the smallest step (a sign change, or one ulp above the window's max), in place, so the
// value saved for the backward pass carries the float64 decision too. Robust elements are left
// alone: their float32 sign cannot differ.
import * as tf from '@tensorflow/tfjs-core';
import { withoutFusedKernels } from './fusion-scope.js';
import { F64_KERNELS, type F64 } from './f64-kernels.js';
import { inplaceFloat32View } from './inplace-view.js';

const { computePool2DInfo } = tf.backend_util;
const FLT_MIN = 1.1754943508222875e-38; // smallest normal float32 (denormals may be flushed)

interface ReluPoint {
  kind: 'relu';
  /** Input elements per sample. */
  inPerSample: number;
  offsets: Int32Array;
  positive: Uint8Array;
}
interface PoolPoint {
  kind: 'maxpool';
  inPerSample: number;
  /** Output positions (within the sample) of the fragile windows. */
  windows: Int32Array;
  /** Input offset (within the sample) of each window's float64 winner. */
  winners: Int32Array;
}
type DecisionPoint = ReluPoint | PoolPoint;

export interface Float64DecisionsOptions {
  /** Elements within this fraction of the sample's largest |value| keep their float64 decision (default 1e-4). */
  fragility?: number;
  /** Samples evaluated in float64 at once (every intermediate tensor is held in float64; default 8). */
  shadowChunk?: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function nextUp(v: number): number {
  if (v === 0) return FLT_MIN;
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0] += v > 0 ? 1 : -1;
  return f[0];
}

/** Every kernel `names` of the active backend replaced by wrap(original) while fn runs. */
function withWrappedKernels<T>(names: readonly string[] | 'all', wrap: (orig: tf.KernelConfig) => tf.KernelFunc, fn: () => T): T {
  const backend = tf.getBackend();
  const originals = (names === 'all' ? tf.getKernelsForBackend(backend) : names.map((n) => tf.getKernel(n, backend))).filter(
    (c): c is tf.KernelConfig => c !== undefined,
  );
  for (const c of originals) {
    tf.unregisterKernel(c.kernelName, backend);
    tf.registerKernel({ ...c, kernelFunc: wrap(c) });
  }
  try {
    return withoutFusedKernels(fn);
  } finally {
    for (const c of originals) {
      tf.unregisterKernel(c.kernelName, backend);
      tf.registerKernel(c);
    }
  }
}

export class Float64Decisions {
  readonly fragility: number;
  readonly shadowChunk: number;
  private readonly samples = new Map<string, DecisionPoint[]>();
  /** Float32 elements moved to their float64 decision by replay() so far. */
  corrections = 0;

  constructor(opts: Float64DecisionsOptions = {}) {
    this.fragility = opts.fragility ?? 1e-4;
    this.shadowChunk = opts.shadowChunk ?? 8;
  }

  has(key: string): boolean {
    return this.samples.has(key);
  }

  get size(): number {
    return this.samples.size;
  }

  /**
   * Records the float64 decisions of the samples of x whose keys are new. keys[n] names sample n
   * (equal keys mean equal inputs). Run it outside any gradient tape: it only evaluates.
   */
  prepare(forward: (x: tf.Tensor4D) => unknown, x: tf.Tensor4D, keys: readonly string[]): void {
    if (keys.length !== x.shape[0]) throw new Error(`prepare: ${keys.length} keys for ${x.shape[0]} samples`);
    const todo: number[] = [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (!this.samples.has(k) && !seen.has(k)) {
        todo.push(i);
        seen.add(k);
      }
    });
    const promoted = new Map<tf.DataId, F64>(); // weights and constants, shared by the chunks
    for (let s = 0; s < todo.length; s += this.shadowChunk) {
      const idx = todo.slice(s, s + this.shadowChunk);
      const points = this.shadowForward(forward, x, idx, promoted);
      idx.forEach((i, j) => this.samples.set(keys[i], points[j]));
    }
  }

  /** forward() with the recorded float64 decisions enforced on its ReLU and MaxPool inputs. */
  replay<T>(forward: () => T, keys: readonly string[]): T {
    const per = keys.map((k) => {
      const p = this.samples.get(k);
      if (!p) throw new Error('replay: a sample has no recorded decisions; call prepare() with it first');
      return p;
    });
    let k = 0;
    let depth = 0;
    const out = withWrappedKernels(
      [tf.Relu, tf.MaxPool],
      (orig) => (args) => {
        if (depth > 0) return orig.kernelFunc(args);
        const x = args.inputs['x'] as tf.TensorInfo;
        if (x.shape[0] !== keys.length) throw new Error(`replay: ${orig.kernelName} input has ${x.shape[0]} samples, expected ${keys.length}`);
        const view = inplaceFloat32View(args.backend, x);
        const point = k++;
        const kind = orig.kernelName === tf.Relu ? 'relu' : 'maxpool';
        per.forEach((points, s) => {
          const p = points[point];
          if (!p || p.kind !== kind || p.inPerSample * keys.length !== sizeOf(x.shape))
            throw new Error(`replay: the forward pass differs from the prepared one at ${orig.kernelName} #${point}`);
          this.corrections += p.kind === 'relu' ? enforceRelu(view, s * p.inPerSample, p) : enforcePool(view, x, args.attrs as unknown as tf.MaxPoolAttrs, s, p);
        });
        depth++;
        try {
          return orig.kernelFunc(args);
        } finally {
          depth--;
        }
      },
      forward,
    );
    if (per.some((points) => points.length !== k)) throw new Error(`replay: the forward pass made ${k} ReLU/max-pool calls, the prepared one ${per[0]?.length}`);
    return out;
  }

  /** Evaluates forward on samples idx of x in float64 beside float32; returns each sample's decision points. */
  private shadowForward(forward: (x: tf.Tensor4D) => unknown, x: tf.Tensor4D, idx: number[], promoted: Map<tf.DataId, F64>): DecisionPoint[][] {
    const shadows = new Map<tf.DataId, F64>();
    const points: DecisionPoint[][] = idx.map(() => []);
    const n = idx.length;
    let depth = 0;
    const twin = (info: tf.TensorInfo, backend: tf.KernelBackend): F64 => {
      const s = shadows.get(info.dataId) ?? promoted.get(info.dataId);
      if (s) return s;
      const v = backend.readSync(info.dataId) as ArrayLike<number>; // weights, images, constants: exact
      const t = { values: Float64Array.from(v), shape: info.shape };
      promoted.set(info.dataId, t);
      return t;
    };
    withWrappedKernels(
      'all',
      (orig) => (args) => {
        if (depth > 0) return orig.kernelFunc(args);
        depth++;
        try {
          const out = orig.kernelFunc(args);
          const f64 = F64_KERNELS.get(orig.kernelName);
          const entries = Object.entries(args.inputs).filter((e): e is [string, tf.TensorInfo] => e[1] !== undefined);
          if (!f64) {
            if (entries.some(([, t]) => shadows.has(t.dataId)))
              throw new Error(`float64 decisions: kernel ${orig.kernelName} has no float64 implementation (add it to f64-kernels.ts)`);
            return out;
          }
          const kb = args.backend as tf.KernelBackend;
          const ins = Object.fromEntries(entries.map(([name, t]) => [name, twin(t, kb)]));
          if (orig.kernelName === tf.Relu || orig.kernelName === tf.MaxPool) {
            const x32 = kb.readSync(entries.find(([name]) => name === 'x')![1].dataId) as Float32Array;
            if (orig.kernelName === tf.Relu) this.recordRelu(ins['x']!, x32, n, points);
            else this.recordPool(ins['x']!, x32, args.attrs as unknown as tf.MaxPoolAttrs, n, points);
          }
          const res = f64(ins, args.attrs ?? {});
          const outs = Array.isArray(out) ? out : [out];
          const twins = Array.isArray(res) ? res : [res];
          outs.forEach((o, i) => {
            const t = twins[i];
            if (t) shadows.set(o.dataId, { values: t.values, shape: o.shape }); // the kernel's shape (e.g. Reshape's -1 resolved)
          });
          return out;
        } finally {
          depth--;
        }
      },
      () =>
        tf.tidy(() => {
          forward(tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor4D);
        }),
    );
    return points;
  }

  /**
   * The margin below which a decision is fragile for one sample: `fragility` of its largest |value|,
   * or 8x the largest float32 − float64 difference seen in it, whichever is larger.
   */
  private margin(x64: Float64Array, x32: Float32Array, base: number, per: number): number {
    let scale = 0;
    let err = 0;
    for (let i = base; i < base + per; i++) {
      scale = Math.max(scale, Math.abs(x64[i]));
      err = Math.max(err, Math.abs(x64[i] - x32[i]));
    }
    return Math.max(this.fragility * scale, 8 * err);
  }

  private recordRelu(z: F64, z32: Float32Array, n: number, points: DecisionPoint[][]): void {
    const per = z.values.length / n;
    for (let s = 0; s < n; s++) {
      const base = s * per;
      const thr = this.margin(z.values, z32, base, per);
      const offsets: number[] = [];
      const positive: number[] = [];
      for (let i = 0; i < per; i++) {
        const v = z.values[base + i];
        if (Math.abs(v) <= thr) {
          offsets.push(i);
          positive.push(v > 0 ? 1 : 0);
        }
      }
      points[s].push({ kind: 'relu', inPerSample: per, offsets: Int32Array.from(offsets), positive: Uint8Array.from(positive) });
    }
  }

  private recordPool(x: F64, x32: Float32Array, attrs: tf.MaxPoolAttrs, n: number, points: DecisionPoint[][]): void {
    const info = computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const [, H, W, C] = x.shape;
    const per = H * W * C;
    for (let s = 0; s < n; s++) {
      const thr = this.margin(x.values, x32, s * per, per);
      const windows: number[] = [];
      const winners: number[] = [];
      forEachWindow(info, C, (w, positions) => {
        let best = -1;
        let second = -Infinity;
        for (const p of positions) {
          const v = x.values[s * per + p];
          if (best < 0 || v > x.values[s * per + best]) {
            if (best >= 0) second = Math.max(second, x.values[s * per + best]);
            best = p;
          } else second = Math.max(second, v);
        }
        if (best >= 0 && x.values[s * per + best] - second <= thr) {
          windows.push(w);
          winners.push(best);
        }
      });
      points[s].push({ kind: 'maxpool', inPerSample: per, windows: Int32Array.from(windows), winners: Int32Array.from(winners) });
    }
  }
}

/** Calls f(window index within a sample, input offsets within the sample in row-major window order). */
function forEachWindow(info: tf.backend_util.Conv2DInfo, C: number, f: (w: number, positions: number[]) => void): void {
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW, inHeight: H, inWidth: W } = info;
  const { top, left } = info.padInfo;
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++)
      for (let c = 0; c < C; c++) {
        const positions: number[] = [];
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - left;
            if (iw >= 0 && iw < W) positions.push((ih * W + iw) * C + c);
          }
        }
        f((oh * OW + ow) * C + c, positions);
      }
}

function enforceRelu(view: Float32Array, base: number, p: ReluPoint): number {
  let changed = 0;
  for (let j = 0; j < p.offsets.length; j++) {
    const i = base + p.offsets[j];
    const v = view[i];
    if (p.positive[j] && !(v > 0)) {
      view[i] = v < 0 ? -v : FLT_MIN;
      changed++;
    } else if (!p.positive[j] && v > 0) {
      view[i] = -v;
      changed++;
    }
  }
  return changed;
}

function enforcePool(view: Float32Array, x: tf.TensorInfo, attrs: tf.MaxPoolAttrs, s: number, p: PoolPoint): number {
  if (p.windows.length === 0) return 0;
  const info = computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const C = x.shape[3];
  const base = s * sizeOf(x.shape.slice(1));
  const wanted = new Map<number, number>();
  p.windows.forEach((w, j) => wanted.set(w, p.winners[j]));
  let changed = 0;
  forEachWindow(info, C, (w, positions) => {
    const winner = wanted.get(w);
    if (winner === undefined) return;
    let first = -1;
    for (const q of positions) if (first < 0 || view[base + q] > view[base + first]) first = q; // the float32 first maximum
    if (first !== winner) {
      view[base + winner] = nextUp(view[base + first]);
      changed++;
    }
  });
  return changed;
}
