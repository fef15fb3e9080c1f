// The paper's gradient-flow quantities (Lubana & Dick 2021, §3–5) for one model: per prunable filter
// layer (its conv weight) and in total, ‖θ‖², ‖ḡ‖², θᵀḡ and θᵀHḡ. ḡ and Hḡ are not recomputed
// here: they are the very statistics loss_based (cachedFirstOrder: batch-weighted mean gradient of
// the tempered loss over the sample budget) and grasp (cachedHessian: class-balanced groups at
// grasp_T) reduce, shared through the same StatisticsCache.
import { rowSum, type LayerArrays } from './formulas.js';
import { cachedFirstOrder } from './gradient-measures.js';
import { cachedHessian } from './hessian-measures.js';
import { layerArrays } from './layer-arrays.js';
import type { MeasureInfo, MeasureInput } from './measure.js';
import { BATCH_SIZE, EXACT_DECISIONS, GRASP_T, IMP_SAMPLES, TEMPERATURE } from './parameters.js';

/** The parameters of a gradient-flow computation: loss_based's T and sample budget, grasp's grasp_T. */
export const GRADIENT_FLOW_INFO: MeasureInfo = {
  name: 'gradient_flow',
  description: 'Σθ², Σḡ², Σθ·ḡ and Σθ·(Hḡ) per filter layer (conv weight), with loss_based’s ḡ and grasp’s Hḡ',
  needsData: true,
  needsInitWeights: false,
  parameters: [TEMPERATURE, GRASP_T, IMP_SAMPLES, BATCH_SIZE, EXACT_DECISIONS],
};

const FLOW_QUANTITIES = ['theta_sq', 'grad_sq', 'theta_dot_grad', 'theta_dot_hg'] as const;
export type FlowQuantity = (typeof FLOW_QUANTITIES)[number];
export type FlowValues = Record<FlowQuantity, number> & {
  /** Σ(θ − θ₀)², when θ₀ was given. */
  dist_init_sq?: number;
};

export interface LayerFlow extends FlowValues {
  conv: string;
  /** One value per output channel (filter), when asked for. */
  filters?: Record<FlowQuantity, number[]> & { dist_init_sq?: number[] };
}

export interface GradientFlow {
  layers: LayerFlow[];
  total: FlowValues;
  /** Images behind ḡ (whole batches up to imp_samples) and behind Hḡ (the class groups). */
  imagesUsed: number;
  hessianImages: number;
}

/** The value of filter i of each quantity (sums in float64). */
const FILTER_TERMS: Record<FlowQuantity, (a: LayerArrays, i: number) => number> = {
  theta_sq: (a, i) => rowSum(a, i, (j) => a.w[j] * a.w[j]),
  grad_sq: (a, i) => rowSum(a, i, (j) => a.g![j] * a.g![j]),
  theta_dot_grad: (a, i) => rowSum(a, i, (j) => a.w[j] * a.g![j]),
  theta_dot_hg: (a, i) => rowSum(a, i, (j) => a.w[j] * a.hg![j]),
};
const distInit = (a: LayerArrays, i: number) => rowSum(a, i, (j) => (a.w[j] - a.w0![j]) ** 2);

const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

/**
 * The gradient-flow quantities of `input.model` on `input.data`. `input.params` are resolved
 * against GRADIENT_FLOW_INFO (T, grasp_T, imp_samples, exact_decisions); θ₀ adds dist_init_sq.
 */
export async function gradientFlow(input: MeasureInput, opts: { perFilter?: boolean } = {}): Promise<GradientFlow> {
  const fo = await cachedFirstOrder(input, GRADIENT_FLOW_INFO.name);
  const h = await cachedHessian(input, GRADIENT_FLOW_INFO.name, input.params.grasp_T);
  const arrays = layerArrays(input.model, { firstOrder: fo, hg: h.hg, initWeights: input.initWeights });
  const layers = arrays.map((a): LayerFlow => {
    const per = Object.fromEntries(FLOW_QUANTITIES.map((q) => [q, Array.from({ length: a.layer.outChannels }, (_, i) => FILTER_TERMS[q](a, i))])) as Record<
      FlowQuantity,
      number[]
    >;
    const dist = a.w0 ? Array.from({ length: a.layer.outChannels }, (_, i) => distInit(a, i)) : undefined;
    const values = Object.fromEntries(FLOW_QUANTITIES.map((q) => [q, sum(per[q])])) as FlowValues;
    if (dist) values.dist_init_sq = sum(dist);
    return { conv: a.layer.conv, ...values, ...(opts.perFilter ? { filters: { ...per, ...(dist ? { dist_init_sq: dist } : {}) } } : {}) };
  });
  const total = Object.fromEntries(FLOW_QUANTITIES.map((q) => [q, sum(layers.map((l) => l[q]))])) as FlowValues;
  if (input.initWeights) total.dist_init_sq = sum(layers.map((l) => l.dist_init_sq ?? 0));
  return { layers, total, imagesUsed: fo.imagesUsed, hessianImages: h.samplesUsed };
}
