// Measures of the weights alone (docs/pruning-semantics.md §3.3).
import { FORMULAS, perFilter, type FormulaName } from './formulas.js';
import { layerArrays } from './layer-arrays.js';
import type { ImportanceMeasure } from './measure.js';

function weightMeasure(name: FormulaName, description: string): ImportanceMeasure {
  return {
    info: { name, description, needsData: false, needsInitWeights: false, parameters: [] },
    async compute({ model }) {
      return { scores: perFilter(layerArrays(model), FORMULAS[name]), samplesUsed: 0 };
    },
  };
}

export const MagnitudeImportance = weightMeasure('mag_based', 'L2 norm of each filter (‖W_i‖₂): magnitude-based pruning');
export const L1Importance = weightMeasure('l1', 'L1 norm of each filter (‖W_i‖₁)');
export const BnScaleImportance = weightMeasure('bn', "magnitude of the filter's BatchNorm scale |γ_i| (network slimming)");
