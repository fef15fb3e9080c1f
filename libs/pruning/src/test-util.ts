// Helpers for the pruning tests: seeded weights with non-trivial BatchNorm statistics.
import { mulberry32 } from '@flowprune/common';
import { buildNetwork, Model, type ArchName, type StateDict } from '@flowprune/models';

/** A model whose BN γ, β, running mean/var are random, so a removed channel is never trivially 0. */
export function randomModel(arch: ArchName, numClasses: number, seed: number): Model {
  const base = Model.init(buildNetwork(arch, numClasses), seed);
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
  return Model.fromStateDict(buildNetwork(arch, numClasses), sd);
}

export function randomImportance(model: Model, seed: number): number[][] {
  const rand = mulberry32(seed);
  return model.net.filterLayers.map((l) => Array.from({ length: l.outChannels }, () => rand()));
}
