// Measured latency: the same model timed in ONNX Runtime (CPU execution provider) and on flowprune's
// own backend (libs/tensor: native oneDNN, else wasm), batch by batch, after warm-up runs.
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '@flowprune/common';
import type { Model } from '@flowprune/models';
import { tf } from '@flowprune/tensor';
import { decodeOnnx, OnnxError, type ModelProto } from './onnx-file.js';

export interface LatencyOptions {
  batch: number;
  /** Untimed runs first (allocations, kernel selection, caches). */
  warmup: number;
  /** Timed runs. */
  runs: number;
  /** ONNX Runtime's intra-op threads (default: its own choice, all cores); flowprune's come from FLOWPRUNE_THREADS. */
  threads?: number;
}

export interface LatencyStats {
  batch: number;
  runs: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  /** Images per second at the mean latency. */
  imagesPerSecond: number;
}

/** Percentile with linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function latencyStats(timesMs: readonly number[], batch: number): LatencyStats {
  if (timesMs.length === 0) throw new Error('no timed runs');
  const sorted = [...timesMs].sort((a, b) => a - b);
  const meanMs = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { batch, runs: sorted.length, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95), meanMs, imagesPerSecond: (batch * 1000) / meanMs };
}

/** C, H, W of the model's (first) input, which must be fixed numbers. */
export function inputShape(model: ModelProto, source = 'model.onnx'): [number, number, number] {
  const dims = model.graph?.input[0]?.type?.tensorType?.shape?.dim ?? [];
  const chw = dims.slice(1).map((d) => d.dimValue);
  if (dims.length !== 4 || chw.some((d) => d === undefined)) throw new OnnxError(`${source}: the input must be N×C×H×W with fixed C, H, W`);
  return chw as [number, number, number];
}

/** Seeded uniform [-1, 1] images (normalised inputs), NCHW. */
export function randomImages(n: number, [c, h, w]: readonly number[], seed = 1): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * c * h * w }, () => rand() * 2 - 1);
}

async function time(warmup: number, runs: number, once: () => Promise<void> | void): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** An ONNX Runtime CPU session with every graph optimisation, as a user serving the model would set it up. */
export function onnxRuntimeSession(bytes: Uint8Array, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads ? { intraOpNumThreads: threads } : {}),
  });
}

/** The model's outputs in ONNX Runtime for NCHW images. */
export async function onnxRuntimeRun(session: ort.InferenceSession, images: Float32Array, dims: readonly number[]): Promise<Float32Array> {
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', images, [...dims]) });
  return out[session.outputNames[0]].data as Float32Array;
}

export async function onnxRuntimeLatency(bytes: Uint8Array, o: LatencyOptions, source = 'model.onnx'): Promise<LatencyStats> {
  const chw = inputShape(decodeOnnx(bytes, source), source);
  const session = await onnxRuntimeSession(bytes, o.threads);
  try {
    const x = randomImages(o.batch, chw);
    const ms = await time(o.warmup, o.runs, async () => void (await onnxRuntimeRun(session, x, [o.batch, ...chw])));
    return latencyStats(ms, o.batch);
  } finally {
    await session.release();
  }
}

/** Eval-mode forward passes of a flowprune model (NHWC), each read back to the host as a caller would. */
export async function flowpruneLatency(model: Model, chw: readonly number[], o: LatencyOptions): Promise<LatencyStats> {
  const [c, h, w] = chw;
  // Random pixels: their order (NCHW vs NHWC) does not change the work.
  const x = tf.tensor4d(randomImages(o.batch, chw), [o.batch, h, w, c]);
  try {
    const ms = await time(o.warmup, o.runs, () => {
      const logits = tf.tidy(() => model.forward(x));
      logits.dataSync();
      logits.dispose();
    });
    return latencyStats(ms, o.batch);
  } finally {
    x.dispose();
  }
}

export const ENGINES = ['onnxruntime', 'flowprune'] as const;
export type Engine = (typeof ENGINES)[number];

export interface EngineLatency extends LatencyStats {
  engine: Engine;
}

export interface ModelLatencyOptions extends Omit<LatencyOptions, 'batch'> {
  batches: readonly number[];
  engines: readonly Engine[];
}

/**
 * Latency of one model per engine and batch size: ONNX Runtime runs the ONNX file, flowprune the
 * model rebuilt from it (or the one given, which must be the same).
 */
export async function modelLatency(bytes: Uint8Array, model: Model | undefined, o: ModelLatencyOptions, source = 'model.onnx'): Promise<EngineLatency[]> {
  const chw = inputShape(decodeOnnx(bytes, source), source);
  const out: EngineLatency[] = [];
  for (const engine of o.engines)
    for (const batch of o.batches) {
      const run = { ...o, batch };
      if (engine === 'flowprune' && !model) throw new OnnxError(`${source}: the flowprune engine needs the flowprune model`);
      const stats = engine === 'onnxruntime' ? await onnxRuntimeLatency(bytes, run, source) : await flowpruneLatency(model!, chw, run);
      out.push({ engine, ...stats });
    }
  return out;
}
