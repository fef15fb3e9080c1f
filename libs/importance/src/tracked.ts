// Tracked importance (docs/pruning-semantics.md §8): during each round's training epoch, after the optimizer
// step of each of the last `track_batches` minibatches, the measure is evaluated on the gradient
// of that minibatch and the post-step weights, and folded into a running average
// M ← α·new + (1 − α)·M that starts at zeros and is reset after every pruning step.
import type { FilterLayer } from '@flowprune/models';
import { FORMULAS, perFilter, type FilterFormula, type LayerArrays } from './formulas.js';
import { MeasureError } from './measure.js';

/** Measures that can be tracked: the per-weight biased_loss_tracked and the per-filter first-order ones. */
export type TrackedMeasureName = 'biased_loss_tracked' | 'loss_based' | 'biased_loss' | 'tfo' | 'fisher' | 'nvidia';

export interface TrackedImportanceOptions {
  measure?: TrackedMeasureName;
  /** Weight of the newest value (paper default 0.8). */
  alpha?: number;
  /** How many final minibatches of each epoch are tracked (paper default 20). */
  trackBatches?: number;
  /** Reduce the per-weight measure m_ij per filter with the weight magnitude: Σ_j |W_ij|·m_ij. */
  useL2?: boolean;
  /** Use the distance from initialisation |W − W0| (use_l2) or biased_loss's θ₀ variant. */
  useInit?: boolean;
}

/** One filter layer after an optimizer step, PyTorch layout ([outChannels, fanIn] for the conv). */
export interface TrackedLayerState {
  /** Post-step conv weight. */
  weight: Float32Array;
  /** The conv weight's gradient of this minibatch (the loss gradient, without weight decay). */
  grad: Float32Array;
  /** θ₀ of the conv weight (use_init). */
  init?: Float32Array;
  /** BatchNorm weight, bias and their gradients (nvidia only). */
  gamma?: Float32Array;
  beta?: Float32Array;
  gradGamma?: Float32Array;
  gradBeta?: Float32Array;
}

const square = (a: Float32Array | undefined): Float64Array | undefined => (a ? Float64Array.from(a, (v) => v * v) : undefined);

export class TrackedImportance {
  readonly measure: TrackedMeasureName;
  readonly alpha: number;
  readonly trackBatches: number;
  readonly useL2: boolean;
  readonly useInit: boolean;
  private readonly formula: FilterFormula;
  private layers: readonly FilterLayer[];
  private m: number[][] = [];

  constructor(layers: readonly FilterLayer[], opts: TrackedImportanceOptions = {}) {
    this.measure = opts.measure ?? 'biased_loss_tracked';
    this.alpha = opts.alpha ?? 0.8;
    this.trackBatches = opts.trackBatches ?? 20;
    this.useL2 = opts.useL2 ?? false;
    this.useInit = opts.useInit ?? false;
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new MeasureError(`alpha must be in (0, 1], got ${this.alpha}`, 'alpha');
    if (!Number.isInteger(this.trackBatches) || this.trackBatches < 1)
      throw new MeasureError(`track_batches must be a positive integer, got ${this.trackBatches}`, 'track_batches');
    this.formula = this.pickFormula();
    this.layers = layers;
    this.reset();
  }

  private pickFormula(): FilterFormula {
    if (this.measure === 'biased_loss_tracked') {
      // A per-weight matrix cannot be averaged into per-filter vectors without the use_l2 reduction
      // (the original fails there with a shape error).
      if (!this.useL2) throw new MeasureError('biased_loss_tracked is a per-weight measure: tracking it needs use_l2', 'use_l2');
      return this.useInit ? FORMULAS.biased_loss_tracked_l2_init : FORMULAS.biased_loss_tracked_l2;
    }
    if (this.useL2) throw new MeasureError(`use_l2 reduces per-weight measures only; ${this.measure} is already one value per filter`, 'use_l2');
    return this.measure === 'biased_loss' && this.useInit ? FORMULAS.biased_loss_init : FORMULAS[this.measure];
  }

  /** Zeros shaped like the BN weights; pass the new filter layers after a pruning step. */
  reset(layers: readonly FilterLayer[] = this.layers): void {
    this.layers = layers;
    this.m = layers.map((l) => new Array<number>(l.outChannels).fill(0));
  }

  /** True for the last `trackBatches` minibatches of an epoch (0-based index). */
  tracks(batchIndex: number, batchesPerEpoch: number): boolean {
    return batchIndex >= batchesPerEpoch - this.trackBatches;
  }

  /** Evaluates the measure on this minibatch's gradients and post-step weights, and folds it in. */
  update(states: readonly TrackedLayerState[]): void {
    if (states.length !== this.layers.length)
      throw new MeasureError(`update needs one state per filter layer: ${this.layers.length}, got ${states.length}`);
    const arrays: LayerArrays[] = states.map((s, l) => {
      const layer = this.layers[l];
      const n = layer.outChannels * layer.fanIn;
      if (s.weight.length !== n || s.grad.length !== n)
        throw new MeasureError(`layer ${l} (${layer.conv}): weight and grad need ${n} values, got ${s.weight.length} and ${s.grad.length}`);
      if (this.useInit && !s.init) throw new MeasureError(`layer ${l} (${layer.conv}): use_init needs θ₀ (init)`, 'init');
      return {
        layer,
        w: s.weight,
        w0: s.init,
        g: Float64Array.from(s.grad),
        s: square(s.grad),
        gamma: s.gamma,
        beta: s.beta,
        sGamma: square(s.gradGamma),
        sBeta: square(s.gradBeta),
      };
    });
    const fresh = perFilter(arrays, this.formula);
    const a = this.alpha;
    this.m = this.m.map((row, l) => row.map((old, i) => a * fresh[l][i] + (1 - a) * old));
  }

  /** The current running average, one vector per filter layer (a copy). */
  values(): number[][] {
    return this.m.map((row) => [...row]);
  }
}
