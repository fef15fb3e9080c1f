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

/** The quantities that need only ḡ (one backward per batch), then the one that needs Hḡ (a double backward). */
export const FIRST_ORDER_FLOW_QUANTITIES = ['theta_sq', 'grad_sq', 'theta_dot_grad'] as const;
export const FLOW_QUANTITIES = [...FIRST_ORDER_FLOW_QUANTITIES, 'theta_dot_hg'] as const;
export type FlowQuantity = (typeof FLOW_QUANTITIES)[number];
export type FirstOrderFlowQuantity = (typeof FIRST_ORDER_FLOW_QUANTITIES)[number];
export type FlowValues<Q extends FlowQuantity = FlowQuantity> = Record<Q, number> & {
  /** Σ(θ − θ₀)², when θ₀ was given. */
  dist_init_sq?: number;
};

export type LayerFlow<Q extends FlowQuantity = FlowQuantity> = FlowValues<Q> & {
  conv: string;
  /** One value per output channel (filter), when asked for. */
  filters?: Record<Q, number[]> & { dist_init_sq?: number[] };
};

export interface GradientFlow<Q extends FlowQuantity = FlowQuantity> {
  layers: LayerFlow<Q>[];
  total: FlowValues<Q>;
  /** Images behind ḡ (whole batches up to imp_samples) and behind Hḡ (the class groups; 0 when Hḡ was not computed). */
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

/** The quantities `quantities` of every filter layer and in total, from the gathered arrays. */
function flowOf<Q extends FlowQuantity>(input: MeasureInput, arrays: LayerArrays[], quantities: readonly Q[], perFilter: boolean | undefined): Pick<GradientFlow<Q>, 'layers' | 'total'> {
  const layers = arrays.map((a): LayerFlow<Q> => {
    const per = Object.fromEntries(quantities.map((q) => [q, Array.from({ length: a.layer.outChannels }, (_, i) => FILTER_TERMS[q](a, i))])) as Record<Q, number[]>;
    const dist = a.w0 ? Array.from({ length: a.layer.outChannels }, (_, i) => distInit(a, i)) : undefined;
    const values = Object.fromEntries(quantities.map((q) => [q, sum(per[q])])) as FlowValues<Q>;
    if (dist) values.dist_init_sq = sum(dist);
    return { conv: a.layer.conv, ...values, ...(perFilter ? { filters: { ...per, ...(dist ? { dist_init_sq: dist } : {}) } } : {}) };
  });
  const total = Object.fromEntries(quantities.map((q) => [q, sum(layers.map((l) => l[q]))])) as FlowValues<Q>;
  if (input.initWeights) total.dist_init_sq = sum(layers.map((l) => l.dist_init_sq ?? 0));
  return { layers, total };
}

/**
 * The gradient-flow quantities of `input.model` on `input.data`. `input.params` are resolved
 * against GRADIENT_FLOW_INFO (T, grasp_T, imp_samples, exact_decisions); θ₀ adds dist_init_sq.
 */
export async function gradientFlow(input: MeasureInput, opts: { perFilter?: boolean } = {}): Promise<GradientFlow> {
  const fo = await cachedFirstOrder(input, GRADIENT_FLOW_INFO.name);
  const h = await cachedHessian(input, GRADIENT_FLOW_INFO.name, input.params.grasp_T);
  const arrays = layerArrays(input.model, { firstOrder: fo, hg: h.hg, initWeights: input.initWeights });
  return { ...flowOf(input, arrays, FLOW_QUANTITIES, opts.perFilter), imagesUsed: fo.imagesUsed, hessianImages: h.samplesUsed };
}

/**
 * gradientFlow without θᵀHḡ: the same ḡ (and cache entry), but no Hessian-gradient product, whose
 * double backward over the class groups costs several times the rest.
 */
export async function firstOrderFlow(input: MeasureInput, opts: { perFilter?: boolean } = {}): Promise<GradientFlow<FirstOrderFlowQuantity>> {
  const fo = await cachedFirstOrder(input, GRADIENT_FLOW_INFO.name);
  const arrays = layerArrays(input.model, { firstOrder: fo, initWeights: input.initWeights });
  return { ...flowOf(input, arrays, FIRST_ORDER_FLOW_QUANTITIES, opts.perFilter), imagesUsed: fo.imagesUsed, hessianImages: 0 };
}
