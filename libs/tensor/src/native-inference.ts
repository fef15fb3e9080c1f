// The fused eval-mode executor of the native backend (native/src/inference.h): a network handed
// over as a program of fused ops — convolution with folded BatchNorm, bias, residual add,
// ReLU/clip and a BatchNorm after the activation; pooling; linear — runs as oneDNN primitives with
// activations kept in oneDNN's layout from the first convolution to the logits. Eval only: no
// gradient is taped, so callers use it where nothing differentiates the output.
import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsAllowed } from './fusion-scope.js';
import { inPlaceWriteEpoch } from './heap-writes.js';
import { Layout, loadNativeAddon, type NativeAddon } from './native-addon.js';
import { heapOf } from './native-heap.js';
import { NATIVE_BACKEND, sizeOf } from './native-kernel.js';

/** A tensor of the program without the batch: an image map [channels, height, width] or features [channels]. */
export type InferenceTensor = { rank: 4; channels: number; height: number; width: number } | { rank: 2; channels: number };

/** clip(x, min, max); ReLU is { min: 0, max: Infinity }. */
export interface InferenceActivation {
  min: number;
  max: number;
}

/** An eval-mode BatchNorm, y = (x − mean) / √(variance + eps) · gamma + beta, times an optional 0/1 channel mask. */
export interface InferenceBatchNorm {
  mean: tf.Tensor;
  variance: tf.Tensor;
  gamma?: tf.Tensor;
  beta?: tf.Tensor;
  mask?: tf.Tensor;
  eps: number;
}

type Pair = readonly [number, number];

/**
 * act(bn(conv(input) + bias) + residual), then postBatchNorm: the order of a PyTorch
 * conv → BatchNorm → add → ReLU → BatchNorm chain; every part but the convolution is optional.
 * weight is tfjs's filter (HWIO; depthwise [kh, kw, in, multiplier]).
 */
export interface InferenceConv {
  kind: 'conv';
  input: number;
  output: number;
  residual?: number;
  inChannels: number;
  outChannels: number;
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  /** [top, left, bottom, right] */
  padding: readonly [number, number, number, number];
  groups: number;
  weight: tf.Tensor;
  bias?: tf.Tensor;
  batchNorm?: InferenceBatchNorm;
  activation?: InferenceActivation;
  postBatchNorm?: InferenceBatchNorm;
}

/** Max or average pooling (average: padded zeros counted unless 'avg-exclude-padding'). */
export interface InferencePool {
  kind: 'pool';
  input: number;
  output: number;
  mode: 'max' | 'avg' | 'avg-exclude-padding';
  kernel: Pair;
  stride: Pair;
  padding: readonly [number, number, number, number];
}

/**
 * A fully connected layer, weight in tfjs's [in, out]. On an image map the input is flattened in
 * PyTorch's NCHW order (torch.flatten(x, 1)).
 */
export interface InferenceLinear {
  kind: 'linear';
  input: number;
  output: number;
  inFeatures: number;
  outFeatures: number;
  weight: tf.Tensor;
  bias?: tf.Tensor;
  activation?: InferenceActivation;
}

export type InferenceOp = InferenceConv | InferencePool | InferenceLinear;

/** Tensor 0 is the input images; `output` the logits [n, classes] (or a map). Ops in execution order. */
export interface InferenceProgram {
  tensors: InferenceTensor[];
  output: number;
  ops: InferenceOp[];
}

/** How the executor keeps activations between its primitives (channels divisible by 8 only for blocked). */
export type InferenceLayout = 'blocked' | 'nhwc';

/** FLOWPRUNE_FUSED_EVAL=off keeps eval on the op-by-op path; nhwc keeps its activations NHWC. */
function fusedEvalSetting(): 'off' | InferenceLayout {
  const v = (process.env['FLOWPRUNE_FUSED_EVAL'] ?? '').trim().toLowerCase();
  return ['off', '0', 'false'].includes(v) ? 'off' : v === 'nhwc' ? 'nhwc' : 'blocked';
}

let runs = 0;

/** How many forward passes the fused executor has run since start-up (tests assert a path took it). */
export function fusedInferenceRuns(): number {
  return runs;
}

/**
 * Whether an eval forward may take the fused executor now: the native backend is active, no
 * gradient is being taped, and no scope asked for one kernel per op (the float64 decision scopes).
 */
export function fusedInferenceAvailable(): boolean {
  if (tf.getBackend() !== NATIVE_BACKEND || fusedEvalSetting() === 'off' || !fusedKernelsAllowed()) return false;
  return tf.engine().state.gradientDepth === 0 && !!loadNativeAddon().addon;
}

// Record sizes, as in native/src/inference.h (kOpRecord, kTensorRecord, kWeightRecord).
const OP_RECORD = 24;
const TENSOR_RECORD = 4;
const WEIGHT_RECORD = 12;
const OP_KIND = { conv: 0, pool: 1, linear: 2 } as const;
const POOL_MODE = { max: 0, avg: 1, 'avg-exclude-padding': 2 } as const;

/** [kind, min, max]: 0 none, 1 ReLU, 2 clip. */
function activationCode(a: InferenceActivation | undefined): [number, number, number] {
  if (!a) return [0, 0, 0];
  if (a.min === 0 && a.max === Infinity) return [1, 0, 0];
  return [2, a.min, Math.min(a.max, 3.4e38)];
}

/** The program's structure (everything but the weights) as native/src/inference.cc reads it. */
export function encodeProgram(p: InferenceProgram): Float64Array {
  const out = new Float64Array(3 + p.tensors.length * TENSOR_RECORD + p.ops.length * OP_RECORD);
  out.set([p.tensors.length, p.output, p.ops.length]);
  p.tensors.forEach((t, i) => out.set(t.rank === 4 ? [4, t.channels, t.height, t.width] : [2, t.channels, 1, 1], 3 + i * TENSOR_RECORD));
  const base = 3 + p.tensors.length * TENSOR_RECORD;
  p.ops.forEach((op, i) => {
    const head = [OP_KIND[op.kind], op.input, op.output, op.kind === 'conv' ? (op.residual ?? -1) : -1];
    let params: number[];
    if (op.kind === 'conv') {
      params = [
        op.inChannels, op.outChannels, ...op.kernel, ...op.stride, ...op.dilation, ...op.padding, op.groups,
        op.batchNorm ? 1 : 0, op.batchNorm?.eps ?? 0, ...activationCode(op.activation), op.postBatchNorm ? 1 : 0, op.postBatchNorm?.eps ?? 0,
      ];
    } else if (op.kind === 'pool') {
      params = [POOL_MODE[op.mode], ...op.kernel, ...op.stride, ...op.padding];
    } else {
      params = [op.inFeatures, op.outFeatures, ...activationCode(op.activation)];
    }
    out.set([...head, ...params], base + i * OP_RECORD);
  });
  return out;
}

/** Every weight tensor of the program, in the order of the weights table (absent ones undefined). */
function weightTensors(p: InferenceProgram): (tf.Tensor | undefined)[] {
  const bn = (b: InferenceBatchNorm | undefined) => [b?.mean, b?.variance, b?.gamma, b?.beta, b?.mask];
  return p.ops.flatMap((op) => {
    if (op.kind === 'pool') return Array<undefined>(WEIGHT_RECORD).fill(undefined);
    if (op.kind === 'linear') return [op.weight, op.bias, ...Array<undefined>(WEIGHT_RECORD - 2).fill(undefined)];
    return [op.weight, op.bias, ...bn(op.batchNorm), ...bn(op.postBatchNorm)];
  });
}

interface Compiled {
  handle: number;
  /** What the folded weights were made from: each tensor's data id, and the in-place write epoch. */
  dataIds: (tf.DataId | undefined)[];
  epoch: number;
}

/**
 * Executors by layout and encoded structure; one handle serves every program of that structure.
 * Each holds its folded weights and activation buffers natively, so only the few most recently
 * used are kept.
 */
const MAX_EXECUTORS = 6;
/** Channels per block of the blocked layout (kBlock in native/src/layout.h). */
const BLOCK = 8;
const executors = new Map<string, Compiled>();
const structureKeys = new WeakMap<InferenceProgram, string>();

/**
 * The layout an executor really uses. Blocked nChw8c holds only maps whose channels are a multiple
 * of 8; a pruned network has others (12, 13, ...), and a convolution between an NHWC and a blocked
 * map has no optimised oneDNN kernel: it ran on the scalar reference one, ~300x slower (a pruned
 * ResNet-56 took 2.3 s per image instead of 8 ms). Such programs run NHWC throughout.
 */
function executorLayout(program: InferenceProgram, layout: InferenceLayout): InferenceLayout {
  const unblockable = program.tensors.some((t, i) => i > 0 && t.rank === 4 && t.channels % BLOCK !== 0);
  return layout === 'blocked' && unblockable ? 'nhwc' : layout;
}

/** The native executor of a program's structure, compiled once per structure and layout. */
function compile(addon: NativeAddon, program: InferenceProgram, requested: InferenceLayout): Compiled {
  const layout = executorLayout(program, requested);
  let key = structureKeys.get(program);
  if (key === undefined) {
    key = encodeProgram(program).join(',');
    structureKeys.set(program, key);
  }
  const full = `${layout}:${key}`;
  let c = executors.get(full);
  if (c) {
    // Most recently used last: a long-lived service sees a new structure per pruning step.
    executors.delete(full);
    executors.set(full, c);
    return c;
  }
  if (executors.size >= MAX_EXECUTORS) {
    const [oldest, e] = executors.entries().next().value as [string, Compiled];
    addon.inferenceRelease(e.handle);
    executors.delete(oldest);
  }
  c = { handle: addon.inferenceCompile(encodeProgram(program), layout === 'blocked' ? Layout.Blocked : Layout.Nhwc), dataIds: [], epoch: -1 };
  executors.set(full, c);
  return c;
}

/**
 * The program's output for `x` (NHWC images on the native backend) through the fused executor:
 * logits [n, classes], or an NHWC map [n, h, w, c] where the program ends in one. Weights are folded
 * and reordered when they changed since the last run (a new data id, or any in-place write).
 * Callers check fusedInferenceAvailable() first.
 */
export function runInference<T extends tf.Tensor = tf.Tensor2D>(program: InferenceProgram, x: tf.Tensor4D, layout: InferenceLayout = defaultLayout()): T {
  const { addon } = loadNativeAddon();
  if (!addon || tf.getBackend() !== NATIVE_BACKEND) throw new Error('fused inference needs the native backend');
  if (x.dtype !== 'float32') throw new Error(`fused inference: float32 input expected, got ${x.dtype}`);
  const c = compile(addon, program, layout);
  const heap = heapOf(addon, tf.backend());
  const weights = weightTensors(program);
  const ids = weights.map((t) => t?.dataId);
  if (c.epoch !== inPlaceWriteEpoch() || ids.length !== c.dataIds.length || ids.some((id, i) => id !== c.dataIds[i])) {
    heap.toNhwc(weights);
    addon.inferenceSetWeights(c.handle, heap.buffer, Float64Array.from(weights, (t) => heap.optPtr(t)));
    c.dataIds = ids;
    c.epoch = inPlaceWriteEpoch();
  }
  const [n] = x.shape;
  const o = program.tensors[program.output]!;
  if (heap.layoutOf(x) !== inputLayout(program, heap.layoutOf(x), layout)) heap.toLayout(x, Layout.Nhwc);
  const out = heap.out(o.rank === 2 ? [n, o.channels] : [n, o.height, o.width, o.channels]);
  addon.inferenceRun(c.handle, heap.buffer, heap.ptr(x), heap.layoutOf(x), n, heap.ptr(out), sizeOf(out.shape), x.size);
  runs++;
  return tf.engine().makeTensorFromTensorInfo(out) as T;
}

/**
 * The layout the executor reads an input of layout `given` in. A blocked input is read as it is
 * only where its first convolutions write blocked maps too: an NHWC executor, or a program whose
 * output is a map (written NHWC into the caller's tensor), would convolve blocked into NHWC, which
 * oneDNN has only its reference kernel for (~2 s instead of ~10 ms for one VGG-13 layer at batch 2).
 */
function inputLayout(program: InferenceProgram, given: Layout, requested: InferenceLayout): Layout {
  const mapOut = program.tensors[program.output]!.rank === 4;
  return given !== Layout.Nhwc && (executorLayout(program, requested) === 'nhwc' || mapOut) ? Layout.Nhwc : given;
}

const fastLayouts = new WeakMap<InferenceProgram, Map<number, InferenceLayout | null>>();

/**
 * The executor layout in which a program runs at batch n on optimised oneDNN kernels only: the
 * default layout, else NHWC, else undefined, and the caller keeps its op-by-op path. A primitive
 * oneDNN has only its scalar reference kernel for runs ~300x slower: pruned widths between blocked
 * and NHWC maps did (executorLayout now avoids them), and grouped convolutions of fewer than 8
 * channels a group have no blocked kernel but a gemm one in NHWC. Decided once per program and batch.
 */
export function fastInferenceLayout(program: InferenceProgram, n: number): InferenceLayout | undefined {
  let byBatch = fastLayouts.get(program);
  if (!byBatch) fastLayouts.set(program, (byBatch = new Map()));
  let layout = byBatch.get(n);
  if (layout === undefined) {
    const first = defaultLayout();
    const candidates: InferenceLayout[] = first === 'nhwc' ? ['nhwc'] : [first, 'nhwc'];
    layout = candidates.find((l) => !/\bref:/.test(describeInference(program, n, Layout.Nhwc, l))) ?? null;
    byBatch.set(n, layout);
  }
  return layout ?? undefined;
}

/** One line per oneDNN primitive the program runs as at batch n, for an input of layout inLayout (for tests and profiling). */
export function describeInference(program: InferenceProgram, batch: number, inLayout: Layout = Layout.Nhwc, layout: InferenceLayout = defaultLayout()): string {
  const { addon } = loadNativeAddon();
  if (!addon) throw new Error('fused inference needs the native addon');
  return addon.inferenceDescribe(compile(addon, program, layout).handle, inputLayout(program, inLayout, layout), batch);
}

function defaultLayout(): InferenceLayout {
  const s = fusedEvalSetting();
  return s === 'off' ? 'blocked' : s;
}

/**
 * The cores' fp32 FMA peak: `threads` threads each issuing independent 8-wide FMAs for about 0.1 s each time
 * (best of `repeats`). What the hardware can do at most; the bench reports shares of it.
 */
export function fmaPeakProbe(threads: number, repeats = 5): { gflops: number; seconds: number } | undefined {
  const { addon } = loadNativeAddon();
  if (!addon) return undefined;
  const [seconds, flops] = addon.fmaProbe(threads, 20_000_000, repeats);
  return seconds > 0 ? { seconds, gflops: flops / seconds / 1e9 } : undefined;
}

/** Seconds of one size³ sgemm on all threads (best of `repeats`): what a large matrix product reaches. */
export function sgemmPeakProbe(size = 2048, repeats = 5): { gflops: number; seconds: number } | undefined {
  const { addon } = loadNativeAddon();
  if (!addon) return undefined;
  const seconds = addon.sgemmProbe(size, repeats);
  return { seconds, gflops: (2 * size ** 3) / seconds / 1e9 };
}
