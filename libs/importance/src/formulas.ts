// The per-filter formulas of docs/pruning-semantics.md §3.3 / docs/reference-fixtures.md §4, over one filter layer's
// host arrays. Sums run in float64 (plain JS numbers).
import type { FilterLayer } from '@flowprune/models';

/** One filter layer's arrays, PyTorch layout: the conv weight is [outChannels, fanIn] row-major. */
export interface LayerArrays {
  layer: FilterLayer;
  w: Float32Array;
  /** θ₀ of the conv weight. */
  w0?: Float32Array;
  /** ḡ and s̄ of the conv weight. */
  g?: Float64Array;
  s?: Float64Array;
  gamma?: Float32Array;
  beta?: Float32Array;
  /** s̄ of the BatchNorm weight and bias. */
  sGamma?: Float64Array;
  sBeta?: Float64Array;
  /** (Hg) of the conv weight. */
  hg?: Float64Array;
}

/** The value of filter i of a layer. */
export type FilterFormula = (a: LayerArrays, i: number) => number;

function need<T>(v: T | undefined, what: string, a: LayerArrays): T {
  if (v === undefined) throw new Error(`formula needs ${what} for layer ${a.layer.index} (${a.layer.conv})`);
  return v;
}

/** Σ over the weights j of filter i of term(j), j indexing the flattened [out, fanIn] arrays. */
export function rowSum(a: LayerArrays, i: number, term: (j: number) => number): number {
  const n = a.layer.fanIn;
  let s = 0;
  for (let j = i * n; j < (i + 1) * n; j++) s += term(j);
  return s;
}

export const FORMULAS = {
  mag_based: (a, i) => Math.sqrt(rowSum(a, i, (j) => a.w[j] * a.w[j])),
  l1: (a, i) => rowSum(a, i, (j) => Math.abs(a.w[j])),
  bn: (a, i) => Math.abs(need(a.gamma, 'γ', a)[i]),
  loss_based: (a, i) => {
    const g = need(a.g, 'ḡ', a);
    return rowSum(a, i, (j) => Math.abs(a.w[j] * g[j]));
  },
  biased_loss: (a, i) => {
    const g = need(a.g, 'ḡ', a);
    return rowSum(a, i, (j) => a.w[j] * a.w[j] * Math.abs(g[j]));
  },
  /** The distance-from-initialisation variant: Σ |W − W0|·|W·ḡ|. */
  biased_loss_init: (a, i) => {
    const [g, w0] = [need(a.g, 'ḡ', a), need(a.w0, 'θ₀', a)];
    return rowSum(a, i, (j) => Math.abs(a.w[j] - w0[j]) * Math.abs(a.w[j] * g[j]));
  },
  tfo: (a, i) => {
    const g = need(a.g, 'ḡ', a);
    return Math.abs(rowSum(a, i, (j) => a.w[j] * g[j]));
  },
  fisher: (a, i) => {
    const s = need(a.s, 's̄', a);
    return rowSum(a, i, (j) => a.w[j] * a.w[j] * s[j]);
  },
  nvidia: (a, i) => {
    const [gm, bt] = [need(a.gamma, 'γ', a), need(a.beta, 'β', a)];
    return gm[i] * gm[i] * need(a.sGamma, 's̄(γ)', a)[i] + bt[i] * bt[i] * need(a.sBeta, 's̄(β)', a)[i];
  },
  /** The per-weight |W·ḡ| of biased_loss_tracked reduced as under use_l2: Σ |W|·|W·ḡ|. */
  biased_loss_tracked_l2: (a, i) => {
    const g = need(a.g, 'ḡ', a);
    return rowSum(a, i, (j) => Math.abs(a.w[j]) * Math.abs(a.w[j] * g[j]));
  },
  /** use_l2 with θ₀ (use_init): Σ |W − W0|·|W·ḡ|. */
  biased_loss_tracked_l2_init: (a, i) => {
    const [g, w0] = [need(a.g, 'ḡ', a), need(a.w0, 'θ₀', a)];
    return rowSum(a, i, (j) => Math.abs(a.w[j] - w0[j]) * Math.abs(a.w[j] * g[j]));
  },
  /** Signed: the most negative values are pruned first. */
  grasp: (a, i) => {
    const hg = need(a.hg, 'Hg', a);
    return rowSum(a, i, (j) => a.w[j] * hg[j]);
  },
  grad_preserve: (a, i) => {
    const hg = need(a.hg, 'Hg', a);
    return Math.abs(rowSum(a, i, (j) => a.w[j] * hg[j]));
  },
} satisfies Record<string, FilterFormula>;

export type FormulaName = keyof typeof FORMULAS;

/** One vector per layer: formula(layer, i) for every output channel i. */
export function perFilter(layers: readonly LayerArrays[], formula: FilterFormula): number[][] {
  return layers.map((a) => Array.from({ length: a.layer.outChannels }, (_, i) => formula(a, i)));
}

/** biased_loss_tracked's per-weight matrix |W_ij·ḡ_ij|, flattened [outChannels, fanIn]. */
export function perWeightBiasedLossTracked(w: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: w.length }, (_, j) => Math.abs(w[j] * g[j]));
}
