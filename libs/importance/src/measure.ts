import type { Model } from '@flowprune/models';
import type { ImportanceData } from './samples.js';
import type { StatisticsCache } from './statistics-cache.js';

export interface MeasureParameterInfo {
  name: string;
  description: string;
  defaultValue: number;
  min: number;
  max: number;
  /** Whole numbers only (sample counts, batch sizes). */
  integer?: boolean;
  /** The run setting a trainer fills this parameter from (a RunConfig field of libs/training). */
  runSetting?: RunSetting;
}

/** Run settings that measure parameters take their values from. */
export type RunSetting = 'temperature' | 'impSamples' | 'graspTemperature';

/** Run settings the paper's main.py forces when a run uses a measure (docs/pruning-semantics.md §1). */
export interface ForcedRunSettings {
  graspTemperature?: number;
  useInit?: boolean;
  useL2?: boolean;
  preserveMomentum?: boolean;
  trackImportance?: boolean;
}

export interface MeasureInfo {
  name: string;
  description: string;
  needsData: boolean;
  needsInitWeights: boolean;
  parameters: MeasureParameterInfo[];
  /** Reads int(imp_samples / classes) images of every class (the Hessian-gradient groups), not whole leading batches. */
  hessianGroups?: boolean;
  /** The trainer can track it over each round's last minibatches instead of asking an estimator (docs/pruning-semantics.md §8). */
  trackable?: boolean;
  /** The measure a run biased towards θ₀ (use_init) asks the estimator for instead. */
  initVariant?: string;
  /** Run settings forced when a run prunes with this measure. */
  forcesRunSettings?: ForcedRunSettings;
}

/** What a measure may read: the model and, for data-driven measures, samples and θ₀. */
export interface MeasureInput {
  model: Model;
  /** Resolved parameters (see resolveParams): every parameter of the measure is present. */
  params: Record<string, number>;
  /** Samples for the gradient-based measures. */
  data?: ImportanceData;
  /** θ₀: each filter layer's conv weight at initialisation, PyTorch layout, by state_dict name. */
  initWeights?: ReadonlyMap<string, Float32Array>;
  /** Shares gradient statistics between measures computed on the same model, data and θ₀. */
  cache?: StatisticsCache;
}

export interface MeasureResult {
  /** One value per output channel of every filter layer, in the paper's layer order. */
  scores: number[][];
  /** Images the estimate read (0 for weight-only measures). */
  samplesUsed: number;
}

/** A filter-importance measure: one value per output channel of every filter layer, in layer order. */
export interface ImportanceMeasure {
  info: MeasureInfo;
  compute(input: MeasureInput): Promise<MeasureResult>;
}

export class MeasureError extends Error {
  readonly kind = 'invalid-argument';
  constructor(
    message: string,
    /** The request field at fault, when there is one (e.g. "init_model", "batches"). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MeasureError';
  }
}
