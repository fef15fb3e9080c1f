// First-order measures (docs/pruning-semantics.md §3.1, §3.3): reductions of ḡ / s̄ with the weights.
import { firstOrderStatistics, type FirstOrderStatistics } from './first-order.js';
import { FORMULAS, perFilter, type FormulaName } from './formulas.js';
import { layerArrays } from './layer-arrays.js';
import type { ImportanceMeasure, MeasureInfo, MeasureInput } from './measure.js';
import { BATCH_SIZE, EXACT_DECISIONS, IMP_SAMPLES, TEMPERATURE } from './parameters.js';
import { cacheOf, requireData, requireInit } from './required-inputs.js';

/** ḡ and s̄ at the input's T and imp_samples, shared through the input's cache. */
export function cachedFirstOrder(input: MeasureInput, measure: string): Promise<FirstOrderStatistics> {
  const { T, imp_samples, exact_decisions } = input.params;
  const data = requireData(input, measure);
  const cache = cacheOf(input);
  return cache.get(`first-order|${T}|${imp_samples}|${exact_decisions}`, () =>
    firstOrderStatistics(input.model, data, { temperature: T, impSamples: imp_samples, decisions: exact_decisions ? cache.decisions : undefined }),
  );
}

function firstOrderMeasure(name: FormulaName, description: string, needsInit = false, traits: Partial<MeasureInfo> = {}): ImportanceMeasure {
  return {
    info: { name, description, needsData: true, needsInitWeights: needsInit, parameters: [TEMPERATURE, IMP_SAMPLES, BATCH_SIZE, EXACT_DECISIONS], ...traits },
    async compute(input) {
      const initWeights = needsInit ? requireInit(input, name) : undefined;
      const stats = await cachedFirstOrder(input, name);
      return { scores: perFilter(layerArrays(input.model, { firstOrder: stats, initWeights }), FORMULAS[name]), samplesUsed: stats.imagesUsed };
    },
  };
}

// The per-filter first-order measures can also be tracked in the trainer (TrackedImportance).
const TRACKABLE = { trackable: true };
export const LossBasedImportance = firstOrderMeasure('loss_based', 'Σ_j |W_j·ḡ_j|: first-order (Taylor) loss preservation', false, TRACKABLE);
export const BiasedLossImportance = firstOrderMeasure('biased_loss', 'Σ_j W_j²·|ḡ_j|: loss preservation biased towards large weights', false, {
  ...TRACKABLE,
  // With θ₀ (use_init) a run asks for the biased_loss_init estimate (docs/pruning-semantics.md §8).
  initVariant: 'biased_loss_init',
});
export const BiasedLossInitImportance = firstOrderMeasure(
  'biased_loss_init',
  'Σ_j |W_j − W0_j|·|W_j·ḡ_j|: biased_loss with distance from initialisation (use_init / bypass)',
  true,
);
export const TfoImportance = firstOrderMeasure('tfo', '|Σ_j W_j·ḡ_j|: Taylor first-order (Molchanov et al.)', false, TRACKABLE);
export const FisherImportance = firstOrderMeasure('fisher', 'Σ_j W_j²·s̄_j with s̄ the batch-weighted mean of squared batch gradients', false, TRACKABLE);
export const NvidiaImportance = firstOrderMeasure('nvidia', "γ²·s̄(γ) + β²·s̄(β) of the filter's BatchNorm (Molchanov et al. 2019)", false, TRACKABLE);
export const BiasedLossTrackedL2Importance = firstOrderMeasure(
  'biased_loss_tracked_l2',
  'Σ_j |W_j|·|W_j·ḡ_j|: the per-weight measure |W·ḡ| reduced as under use_l2',
);
export const BiasedLossTrackedL2InitImportance = firstOrderMeasure(
  'biased_loss_tracked_l2_init',
  'Σ_j |W_j − W0_j|·|W_j·ḡ_j|: the per-weight measure |W·ḡ| reduced as under use_l2 with θ₀ (use_init)',
  true,
);

/** One estimate of biased_loss_tracked with its forced settings (use_l2 on, use_init off); TrackedImportance keeps the running average during training. */
export const BiasedLossTrackedImportance: ImportanceMeasure = {
  info: {
    ...BiasedLossTrackedL2Importance.info,
    name: 'biased_loss_tracked',
    description:
      'biased_loss_tracked as one estimate: Σ_j |W_j|·|W_j·ḡ_j| (use_l2 on, as the paper forces); the trainer averages it over the last minibatches with TrackedImportance',
    trackable: true,
    // The paper's main.py: a per-weight measure, tracked, with momentum kept (docs/pruning-semantics.md §1).
    forcesRunSettings: { useInit: false, useL2: true, preserveMomentum: true, trackImportance: true },
  },
  compute: (input) => BiasedLossTrackedL2Importance.compute(input),
};
