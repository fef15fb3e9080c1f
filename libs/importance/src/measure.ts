import type { Model } from '@flowprune/models';

export interface MeasureParameterInfo {
  name: string;
  description: string;
  defaultValue: number;
  min: number;
  max: number;
}

export interface MeasureInfo {
  name: string;
  description: string;
  needsData: boolean;
  needsInitWeights: boolean;
  parameters: MeasureParameterInfo[];
}

/** What a measure may read: the model and, for data-driven measures, batches and θ₀. */
export interface MeasureInput {
  model: Model;
  params: Record<string, number>;
}

/** A filter-importance measure: one value per output channel of every filter layer, in layer order. */
export interface ImportanceMeasure {
  info: MeasureInfo;
  compute(input: MeasureInput): Promise<number[][]>;
}

export class MeasureError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'MeasureError';
  }
}
