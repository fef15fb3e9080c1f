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
}

export interface MeasureInfo {
  name: string;
  description: string;
  needsData: boolean;
  needsInitWeights: boolean;
  parameters: MeasureParameterInfo[];
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
