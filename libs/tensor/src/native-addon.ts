// Loads flowprune_native, the Node-API addon built from libs/tensor/native at install time (when
// oneDNN is present). Every kernel takes the wasm heap first and then byte offsets into it, so
// tensors are read and written in place; argument orders mirror native/src/addon.cc.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Byte offset of a tensor in the heap; -1 marks an absent optional tensor. */
export type Ptr = number;

export const ConvPass = { Forward: 0, BackwardData: 1, BackwardWeights: 2 } as const;
export type ConvPass = (typeof ConvPass)[keyof typeof ConvPass];

export const PoolKind = { Max: 0, MaxGrad: 1, Avg: 2, AvgGrad: 3 } as const;
export type PoolKind = (typeof PoolKind)[keyof typeof PoolKind];

export const BinaryOp = { Add: 0, Sub: 1, Mul: 2 } as const;
export type BinaryOp = (typeof BinaryOp)[keyof typeof BinaryOp];

/** Physical layout of an activation: tfjs's NHWC, or oneDNN's blocked nChw8c (native/src/layout.h). */
export const Layout = { Nhwc: 0, Blocked: 1 } as const;
export type Layout = (typeof Layout)[keyof typeof Layout];

export interface NativeAddon {
  /** e.g. "oneDNN 2.6.3, 2 OpenMP thread(s)". */
  info(): string;
  /** Sets the OpenMP threads for every kernel; returns the count in effect. */
  setThreads(n: number): number;
  /** in: the layout of x / dx, out: of y / dy. */
  conv2d(
    heap: ArrayBuffer, pass: ConvPass, a: Ptr, b: Ptr, out: Ptr,
    n: number, ih: number, iw: number, ic: number, oh: number, ow: number, oc: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, pb: number, pr: number, groups: number,
    inLayout: Layout, outLayout: Layout,
  ): void;
  /** Whether this geometry runs (all three passes) with blocked activations. */
  convPrefersBlocked(
    n: number, ih: number, iw: number, ic: number, oh: number, ow: number, oc: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, pb: number, pr: number, groups: number,
  ): boolean;
  /**
   * How convolutions pick their activation layout (where blocked is viable): 0 time both once per
   * geometry and keep the faster (default), 1 always NHWC, 2 always blocked. Forgets past choices.
   */
  setConvLayoutPolicy(policy: 0 | 1 | 2): void;
  /** Rewrites an [n, h, w, c] activation in place from one layout to the other. */
  relayout(heap: ArrayBuffer, data: Ptr, n: number, h: number, w: number, c: number, from: Layout, to: Layout): void;
  matmul(
    heap: ArrayBuffer, a: Ptr, b: Ptr, out: Ptr,
    batchA: number, batchB: number, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean,
  ): void;
  batchNormTrain(
    heap: ArrayBuffer, x: Ptr, gamma: Ptr, beta: Ptr, residual: Ptr, y: Ptr, mean: Ptr, variance: Ptr,
    layout: Layout, n: number, hw: number, c: number, eps: number, relu: boolean,
  ): void;
  batchNormTrainGrad(
    heap: ArrayBuffer, dy: Ptr, x: Ptr, y: Ptr, gamma: Ptr, mean: Ptr, variance: Ptr,
    dx: Ptr, dresidual: Ptr, dgamma: Ptr, dbeta: Ptr, layout: Layout, n: number, hw: number, c: number, eps: number, relu: boolean,
    /** Differentiate the eval-mode forward (mean and variance are running statistics, constants of x). */
    globalStats?: boolean,
  ): void;
  batchNormInference(
    heap: ArrayBuffer, x: Ptr, mean: Ptr, meanLen: number, variance: Ptr, varianceLen: number,
    gamma: Ptr, gammaLen: number, beta: Ptr, betaLen: number, y: Ptr,
    layout: Layout, n: number, hw: number, c: number, eps: number, relu: boolean, residual?: Ptr,
  ): void;
  binary(heap: ArrayBuffer, op: BinaryOp, a: Ptr, b: Ptr, out: Ptr, n: number): void;
  relu(heap: ArrayBuffer, x: Ptr, out: Ptr, n: number): void;
  reluGrad(heap: ArrayBuffer, dy: Ptr, x: Ptr, dx: Ptr, n: number): void;
  pool(
    heap: ArrayBuffer, kind: PoolKind, a: Ptr, b: Ptr, out: Ptr,
    n: number, ih: number, iw: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, layout: Layout,
  ): void;
  /** slots: [param, grad, buffer (-1: none), size, fresh (1: first step)] per parameter. */
  sgdStep(heap: ArrayBuffer, slots: Float64Array, lr: number, momentum: number, weightDecay: number): void;
  /** A fused eval executor for an encoded program (native-inference.ts), activations in `layout`; returns its handle. */
  inferenceCompile(program: Float64Array, layout: Layout): number;
  /** Folds and caches the weights: 12 heap offsets per op (w, b, BN mean, var, gamma, beta, mask, the same five after the activation). */
  inferenceSetWeights(handle: number, heap: ArrayBuffer, table: Float64Array): void;
  /** Logits [n, classes] into `out` for n images at `x` in `inLayout`. */
  inferenceRun(handle: number, heap: ArrayBuffer, x: Ptr, inLayout: Layout, n: number, out: Ptr, outSize: number, inSize: number): void;
  /** One line per primitive of the plan for batch n (its oneDNN implementation), building the plan if needed. */
  inferenceDescribe(handle: number, inLayout: Layout, n: number): string;
  inferenceRelease(handle: number): void;
  /** Best seconds of one size x size x size sgemm on all threads (printed beside the FMA peak). */
  sgemmProbe(size: number, repeats: number): number;
  /** [best seconds, floating-point operations] of `threads` threads running `iterations` rounds of independent FMAs (seconds 0: no AVX2/FMA). */
  fmaProbe(threads: number, iterations: number, repeats: number): [number, number];
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon?: undefined; reason: string };

const ADDON_PATH = fileURLToPath(new URL('../native/build/Release/flowprune_native.node', import.meta.url));

let loaded: AddonLoad | undefined;

/** The addon, or why it is unavailable (not built, or failed to load). Memoised. */
export function loadNativeAddon(): AddonLoad {
  loaded ??= load();
  return loaded;
}

/** FLOWPRUNE_NATIVE=off (or 0, false) keeps the addon unloaded, as if it were not built. */
function nativeDisabled(): boolean {
  return ['off', '0', 'false'].includes((process.env['FLOWPRUNE_NATIVE'] ?? '').trim().toLowerCase());
}

function load(): AddonLoad {
  if (nativeDisabled()) return { reason: 'disabled by FLOWPRUNE_NATIVE=off' };
  if (!existsSync(ADDON_PATH)) {
    return { reason: 'addon not built (install oneDNN, e.g. apt-get install -y libdnnl-dev, then npm run build:native)' };
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    return { addon, path: ADDON_PATH };
  } catch (err) {
    return { reason: `addon failed to load: ${err instanceof Error ? (err.message.split('\n')[0] ?? err.name) : String(err)}` };
  }
}
