// First-order statistics (docs/pruning-semantics.md §3.1): the batch-size-weighted averages of the per-batch
// mean-loss gradients ḡ and of their elementwise squares s̄, over whole batches read until
// imp_samples images have been consumed. Eval-mode BatchNorm, loss at temperature T.
import type { Model } from '@flowprune/models';
import { tf, type Float64Decisions } from '@flowprune/tensor';
import { MeasureError } from './measure.js';
import { batchTensors, evalLoss, filterLayerTensors, prepareExact, toTorchLayout } from './model-tensors.js';
import { sliceBatch, type ImportanceData, type SampleBatch } from './samples.js';

export interface FirstOrderStatistics {
  /** ḡ = Σ_b n_b·∇L_b / Σ_b n_b per filter-layer tensor (conv, BN weight, BN bias), PyTorch layout. */
  gbar: Map<string, Float64Array>;
  /** s̄ = Σ_b n_b·(∇L_b)² / Σ_b n_b, squared per batch (not per sample). */
  sbar: Map<string, Float64Array>;
  /** n_b of every batch used. */
  batchWeights: number[];
  imagesUsed: number;
}

export interface FirstOrderOptions {
  temperature: number;
  impSamples: number;
  /** Largest number of images differentiated at once; bigger batches are split (eval-mode BN makes samples independent). */
  maxChunk?: number;
  /** Take ReLU / max-pool decisions from a float64 evaluation (see libs/tensor f64-decisions.ts). */
  decisions?: Float64Decisions;
}

/** Gradient of a batch's mean loss, summed over sub-chunks with weights n_k / n_b, in PyTorch layout. */
function batchGradient(model: Model, b: SampleBatch, temperature: number, maxChunk: number, decisions?: Float64Decisions): Map<string, Float32Array> {
  const tensors = filterLayerTensors(model);
  const vars = tensors.map((t) => t.variable);
  const sums = tf.tidy(() => {
    let acc: tf.Tensor[] | undefined;
    for (let start = 0; start < b.count; start += maxChunk) {
      const chunk = sliceBatch(b, start, Math.min(b.count, start + maxChunk));
      const { x, y } = batchTensors(chunk);
      const exact = prepareExact(model, x, chunk, decisions);
      const { grads } = tf.variableGrads(() => evalLoss(model, x, y, temperature, exact), vars);
      const w = chunk.count / b.count;
      const part = vars.map((v) => tf.mul(grads[v.name], w));
      acc = acc ? acc.map((a, i) => tf.add(a, part[i])) : part;
    }
    return acc!;
  });
  const out = new Map<string, Float32Array>();
  tensors.forEach((t, i) => out.set(t.spec.name, toTorchLayout(t.spec, sums[i])));
  tf.dispose(sums);
  return out;
}

export async function firstOrderStatistics(model: Model, data: ImportanceData, opts: FirstOrderOptions): Promise<FirstOrderStatistics> {
  const maxChunk = opts.maxChunk ?? 128;
  const gbar = new Map<string, Float64Array>();
  const sbar = new Map<string, Float64Array>();
  const batchWeights: number[] = [];
  let consumed = 0;
  for await (const b of data.batches()) {
    if (consumed >= opts.impSamples) break; // checked before each batch: whole batches only
    const g = batchGradient(model, b, opts.temperature, maxChunk, opts.decisions);
    const n = b.count;
    for (const [name, v] of g) {
      let gs = gbar.get(name);
      let ss = sbar.get(name);
      if (!gs || !ss) {
        gs = new Float64Array(v.length);
        ss = new Float64Array(v.length);
        gbar.set(name, gs);
        sbar.set(name, ss);
      }
      for (let j = 0; j < v.length; j++) {
        gs[j] += n * v[j];
        ss[j] += n * v[j] * v[j];
      }
    }
    batchWeights.push(n);
    consumed += n;
  }
  if (consumed === 0) throw new MeasureError('no images to estimate from: the data gave no batches', 'batches');
  for (const a of [...gbar.values(), ...sbar.values()]) for (let j = 0; j < a.length; j++) a[j] /= consumed;
  return { gbar, sbar, batchWeights, imagesUsed: consumed };
}
