// Measures of the weights alone (PRUNING-SPEC §3.3): accumulated in float64 on the host.
import type { Model } from '@flowprune/models';
import type { ImportanceMeasure } from './measure.js';

/** Rows of each filter layer's conv weight viewed as [n_l, fan_in] (PyTorch layout). */
function perFilter(model: Model, reduce: (row: Float32Array) => number): number[][] {
  const sd = model.stateDict();
  return model.net.filterLayers.map((layer) => {
    const w = sd.get(layer.conv)!.data as Float32Array;
    const out: number[] = [];
    for (let i = 0; i < layer.outChannels; i++) out.push(reduce(w.subarray(i * layer.fanIn, (i + 1) * layer.fanIn)));
    return out;
  });
}

export const MagnitudeImportance: ImportanceMeasure = {
  info: {
    name: 'mag_based',
    description: 'L2 norm of each filter (‖W_i‖₂): magnitude-based pruning',
    needsData: false,
    needsInitWeights: false,
    parameters: [],
  },
  async compute({ model }) {
    return perFilter(model, (row) => {
      let s = 0;
      for (const v of row) s += v * v;
      return Math.sqrt(s);
    });
  },
};

export const L1Importance: ImportanceMeasure = {
  info: { name: 'l1', description: 'L1 norm of each filter (‖W_i‖₁)', needsData: false, needsInitWeights: false, parameters: [] },
  async compute({ model }) {
    return perFilter(model, (row) => {
      let s = 0;
      for (const v of row) s += Math.abs(v);
      return s;
    });
  },
};

export const BnScaleImportance: ImportanceMeasure = {
  info: {
    name: 'bn',
    description: "Magnitude of the filter's BatchNorm scale |γ_i| (network slimming)",
    needsData: false,
    needsInitWeights: false,
    parameters: [],
  },
  async compute({ model }) {
    const sd = model.stateDict();
    return model.net.filterLayers.map((layer) => Array.from(sd.get(`${layer.bn}.weight`)!.data as Float32Array, Math.abs));
  },
};
