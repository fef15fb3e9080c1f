// Helpers for the pruning tests: seeded weights with non-trivial BatchNorm statistics.
import { mulberry32 } from '@flowprune/common';
import { buildNetwork, Model, type ArchConfig, type ArchName, type StateDict } from '@flowprune/models';
import { tf } from '@flowprune/tensor';

/** A model whose BN γ, β, running mean/var are random, so a removed channel is never trivially 0. */
export function randomModel(arch: ArchName, numClasses: number, seed: number, config?: ArchConfig): Model {
  const base = Model.init(buildNetwork(arch, numClasses, config), seed);
  const sd: StateDict = base.stateDict();
  base.dispose();
  const rand = mulberry32(seed + 1000);
  for (const [name, t] of sd) {
    if (t.dtype !== 'F32') continue;
    const d = t.data as Float32Array;
    if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rand();
    else if (name.endsWith('running_mean') || name.endsWith('.bias')) for (let i = 0; i < d.length; i++) d[i] = rand() - 0.5;
    else if (name.endsWith('.weight') && t.shape.length === 1) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rand();
  }
  return Model.fromStateDict(buildNetwork(arch, numClasses, config), sd);
}

export function randomImportance(model: Model, seed: number): number[][] {
  const rand = mulberry32(seed);
  return model.net.filterLayers.map((l) => Array.from({ length: l.outChannels }, () => rand()));
}

export function input(n: number, seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 32 * 32 * 3 }, () => rand() * 2 - 1), [n, 32, 32, 3]);
}

/** Masks (by BN prefix) that zero every channel a pruning step removed or masked. */
export function keptMasks(model: Model, kept: number[][]): Map<string, tf.Tensor1D> {
  return new Map(
    model.net.filterLayers.map((l, i) => {
      const m = new Float32Array(l.outChannels);
      for (const c of kept[i]) m[c] = 1;
      return [l.bn, tf.tensor1d(m)];
    }),
  );
}

export const relMax = (a: Float32Array, b: Float32Array) => {
  let diff = 0;
  let scale = 0;
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  });
  return diff / scale;
};


/**
 * Logits of the pruned model against the unpruned model's with every removed or masked channel
 * zeroed (relative max difference), and the unpruned model's own logits against the masked ones.
 */
export function maskedLogitDifference(before: Model, after: Model, kept: number[][], seed: number): { pruned: number; unmasked: number } {
  const x = input(2, seed);
  const masks = keptMasks(before, kept);
  const want = before.forward(x, { training: false, masks });
  const got = after.forward(x);
  const plain = before.forward(x);
  const w = want.dataSync() as Float32Array;
  const out = { pruned: relMax(got.dataSync() as Float32Array, w), unmasked: relMax(plain.dataSync() as Float32Array, w) };
  tf.dispose([x, want, got, plain, ...masks.values()]);
  return out;
}
