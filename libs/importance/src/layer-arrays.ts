// Gathers what the formulas read for every filter layer: current weights (downloaded once),
// θ₀ and the gradient statistics, all in PyTorch layout.
import type { Model } from '@flowprune/models';
import type { FirstOrderStatistics } from './first-order.js';
import type { LayerArrays } from './formulas.js';
import { weightsByName } from './model-tensors.js';

export interface LayerSources {
  firstOrder?: FirstOrderStatistics;
  hg?: ReadonlyMap<string, Float64Array>;
  initWeights?: ReadonlyMap<string, Float32Array>;
}

export function layerArrays(model: Model, src: LayerSources = {}): LayerArrays[] {
  const layers = model.net.filterLayers;
  const w = weightsByName(model, layers.flatMap((l) => [l.conv, `${l.bn}.weight`, `${l.bn}.bias`]));
  const fo = src.firstOrder;
  return layers.map((layer) => ({
    layer,
    w: w.get(layer.conv)!,
    w0: src.initWeights?.get(layer.conv),
    g: fo?.gbar.get(layer.conv),
    s: fo?.sbar.get(layer.conv),
    gamma: w.get(`${layer.bn}.weight`),
    beta: w.get(`${layer.bn}.bias`),
    sGamma: fo?.sbar.get(`${layer.bn}.weight`),
    sBeta: fo?.sbar.get(`${layer.bn}.bias`),
    hg: src.hg?.get(layer.conv),
  }));
}
