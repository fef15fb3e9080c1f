import type { ImportanceData } from './samples.js';
import { MeasureError, type MeasureInput } from './measure.js';
import { StatisticsCache } from './statistics-cache.js';

export function requireData(input: MeasureInput, measure: string): ImportanceData {
  if (!input.data) throw new MeasureError(`measure ${measure} reads data: give a dataset or inline batches`, 'dataset');
  return input.data;
}

export function requireInit(input: MeasureInput, measure: string): ReadonlyMap<string, Float32Array> {
  if (!input.initWeights) throw new MeasureError(`measure ${measure} needs the weights at initialisation (θ₀): give init_model`, 'init_model');
  return input.initWeights;
}

/** The caller's cache, or a private one for this single computation. */
export const cacheOf = (input: MeasureInput): StatisticsCache => input.cache ?? new StatisticsCache();
