// Tracked importance in the trainer (docs/pruning-semantics.md §8): the run loop's ImportanceTracker port,
// backed by libs/importance's TrackedImportance, fed with each tracked step's gradients.
import { TrackedImportance, type TrackedLayerState, type TrackedMeasureName } from '@flowprune/importance';
import { tfToTorch, type FilterLayer, type Model } from '@flowprune/models';
import type { tf } from '@flowprune/tensor';
import type { ImportanceTracker } from './prune-train-run.js';
import type { RunConfig } from './run-config.js';

/** Host copy of a parameter or its gradient in PyTorch layout. */
function torchData(model: Model, name: string, t: tf.Tensor): Float32Array {
  const spec = model.net.params.find((p) => p.name === name)!;
  return tfToTorch(spec, t.dataSync() as Float32Array);
}

/** The run loop resets it with the current network's layers before every round's epoch. */
export function makeTracker(cfg: RunConfig, layers: readonly FilterLayer[]): ImportanceTracker {
  const tracked = new TrackedImportance(layers, {
    measure: cfg.measure as TrackedMeasureName,
    alpha: cfg.alpha,
    trackBatches: cfg.trackBatches,
    useL2: cfg.useL2,
    useInit: cfg.useInit,
  });
  return {
    reset: (m) => tracked.reset(m.net.filterLayers),
    update: (m, grads, initModel) => {
      const states: TrackedLayerState[] = m.net.filterLayers.map((layer) => {
        const bnW = `${layer.bn}.weight`;
        const bnB = `${layer.bn}.bias`;
        return {
          weight: torchData(m, layer.conv, m.vars.get(layer.conv)!),
          grad: torchData(m, layer.conv, grads.get(layer.conv)!),
          init: initModel ? torchData(initModel, layer.conv, initModel.vars.get(layer.conv)!) : undefined,
          gamma: m.vars.get(bnW)!.dataSync() as Float32Array,
          beta: m.vars.get(bnB)!.dataSync() as Float32Array,
          gradGamma: grads.get(bnW)!.dataSync() as Float32Array,
          gradBeta: grads.get(bnB)!.dataSync() as Float32Array,
        };
      });
      tracked.update(states);
    },
    scores: () => tracked.values(),
  };
}
