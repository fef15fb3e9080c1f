// Hessian-gradient measures (docs/pruning-semantics.md §3.2–3.3): grasp (signed) and grad_preserve.
import { FORMULAS, perFilter } from './formulas.js';
import { hessianGradientProduct, type HessianGradientProduct } from './hessian.js';
import { layerArrays } from './layer-arrays.js';
import { MeasureError, type ImportanceMeasure, type MeasureInput, type MeasureParameterInfo, type ForcedRunSettings } from './measure.js';
import { EXACT_DECISIONS, GRAD_PRESERVE_T, GRASP_T, IMP_SAMPLES } from './parameters.js';
import { cacheOf, requireData } from './required-inputs.js';

/** Hg at the given temperature over int(imp_samples / classes) images of every class. */
export function cachedHessian(input: MeasureInput, measure: string, temperature: number): Promise<HessianGradientProduct> {
  const classes = input.model.net.numClasses;
  const imp = input.params.imp_samples;
  const perClass = Math.trunc(imp / classes);
  if (perClass < 1)
    throw new MeasureError(`imp_samples (${imp}) must be at least the number of classes (${classes}) for ${measure}: it takes int(imp_samples / classes) images per class`, 'params');
  const data = requireData(input, measure);
  const cache = cacheOf(input);
  const exact = input.params.exact_decisions;
  return cache.get(`hessian|${temperature}|${perClass}|${exact}`, async () =>
    hessianGradientProduct(input.model, await data.classGroups(perClass, classes), { temperature, decisions: exact ? cache.decisions : undefined }),
  );
}

function hessianMeasure(name: 'grasp' | 'grad_preserve', description: string, temperature: MeasureParameterInfo, forcesRunSettings?: ForcedRunSettings): ImportanceMeasure {
  return {
    info: { name, description, needsData: true, needsInitWeights: false, parameters: [temperature, IMP_SAMPLES, EXACT_DECISIONS], hessianGroups: true, forcesRunSettings },
    async compute(input) {
      const h = await cachedHessian(input, name, input.params[temperature.name]);
      return { scores: perFilter(layerArrays(input.model, { hg: h.hg }), FORMULAS[name]), samplesUsed: h.samplesUsed };
    },
  };
}

export const GraspImportance = hessianMeasure('grasp', 'Σ_j W_j·(Hg)_j, signed (GraSP): the most negative filters go first', GRASP_T);
// The paper forces its temperature to 1 (quirk Q5).
export const GradPreserveImportance = hessianMeasure('grad_preserve', '|Σ_j W_j·(Hg)_j|: preserves the gradient norm (Hessian-gradient product)', GRAD_PRESERVE_T, {
  graspTemperature: 1,
});
