// The Hessian-gradient product of GraSP / grad_preserve (docs/pruning-semantics.md §3.2):
//   g  = (1/C)·Σ_c ∇L_c          (held constant)
//   Hg = (1/C)·Σ_c ∇_θ⟨g, ∇L_c⟩   over all trainable tensors,
// with L_c the mean loss of class group c. All groups have the same size, so both are means over
// the union of the groups, which is processed in chunks (weights n_k / N).
//
// Hg is exact reverse-over-reverse autodiff: the inner tf.variableGrads is taped by the outer one.
// That needs every gradient rule on the way to be differentiable itself; libs/tensor supplies the
// missing second-order rules and a plain-op BatchNorm inside withTwiceDifferentiableOps. Measured
// against the fixtures' float64 reference: rel ≈ 1e-6 (see libs/importance/README.md).
import type { Model } from '@flowprune/models';
import { tf, withTwiceDifferentiableOps, type Float64Decisions } from '@flowprune/tensor';
import { MeasureError } from './measure.js';
import { batchTensors, convTensors, evalLoss, prepareExact, toTorchLayout64, trainableTensors, type ExactForward, type TrainableTensor } from './model-tensors.js';
import { concatBatches, sliceBatch, type SampleBatch } from './samples.js';

export interface HessianOptions {
  temperature: number;
  /** Images differentiated at once (the double backward keeps about 3x the activations of a backward). */
  maxChunk?: number;
  /** Take ReLU / max-pool decisions from a float64 evaluation (see libs/tensor f64-decisions.ts). */
  decisions?: Float64Decisions;
}

export interface HessianGradientProduct {
  /** (Hg) for every filter layer's conv weight, PyTorch layout, by state_dict name. */
  hg: Map<string, Float64Array>;
  samplesUsed: number;
}

function chunksOf(groups: readonly SampleBatch[], maxChunk: number): SampleBatch[] {
  const all = concatBatches(groups);
  const out: SampleBatch[] = [];
  for (let s = 0; s < all.count; s += maxChunk) out.push(sliceBatch(all, s, Math.min(all.count, s + maxChunk)));
  return out;
}

/** Σ_k w_k·f(chunk_k) for the given tensors, accumulated in float64 on the host (tfjs layout). */
type ChunkGradient = (x: tf.Tensor4D, y: tf.Tensor1D, exact: ExactForward | undefined) => tf.NamedTensorMap;

function weightedSum(model: Model, tensors: TrainableTensor[], chunks: SampleBatch[], total: number, decisions: Float64Decisions | undefined, f: ChunkGradient): Float64Array[] {
  const acc = tensors.map((t) => new Float64Array(t.variable.size));
  for (const c of chunks) {
    const w = c.count / total;
    const parts = tf.tidy(() => {
      const { x, y } = batchTensors(c);
      const grads = f(x, y, prepareExact(model, x, c, decisions));
      return tensors.map((t) => grads[t.variable.name]);
    });
    parts.forEach((p, i) => {
      const d = p.dataSync();
      const a = acc[i];
      for (let j = 0; j < d.length; j++) a[j] += w * d[j];
    });
    tf.dispose(parts);
  }
  return acc;
}

export function hessianGradientProduct(model: Model, groups: readonly SampleBatch[], opts: HessianOptions): HessianGradientProduct {
  const sizes = new Set(groups.map((g) => g.count));
  if (groups.length === 0 || sizes.size !== 1)
    throw new MeasureError(`the class groups must be non-empty and of equal size, got sizes ${[...sizes].join(', ') || 'none'}`, 'batches');
  const chunks = chunksOf(groups, opts.maxChunk ?? 32);
  const total = groups.length * groups[0].count;
  const T = opts.temperature;
  const all = trainableTensors(model);
  const vars = all.map((t) => t.variable);

  const d = opts.decisions;
  const gHost = weightedSum(model, all, chunks, total, d, (x, y, exact) => tf.variableGrads(() => evalLoss(model, x, y, T, exact), vars).grads);
  const g = gHost.map((a, i) => tf.tensor(Float32Array.from(a), all[i].variable.shape));
  try {
    const out = convTensors(model);
    const outVars = out.map((t) => t.variable);
    const hgHost = weightedSum(model, out, chunks, total, d, (x, y, exact) =>
      withTwiceDifferentiableOps(
        () =>
          tf.variableGrads(() => {
            const inner = tf.variableGrads(() => evalLoss(model, x, y, T, exact), vars).grads;
            return tf.addN(vars.map((v, i) => tf.sum(tf.mul(inner[v.name], g[i])))) as tf.Scalar;
          }, outVars).grads,
      ),
    );
    const hg = new Map<string, Float64Array>();
    out.forEach((t, i) => hg.set(t.spec.name, toTorchLayout64(t.spec, hgHost[i])));
    return { hg, samplesUsed: total };
  } finally {
    tf.dispose(g);
  }
}
