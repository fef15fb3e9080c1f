import {
  BiasedLossImportance,
  BiasedLossInitImportance,
  BiasedLossTrackedImportance,
  BiasedLossTrackedL2Importance,
  BiasedLossTrackedL2InitImportance,
  FisherImportance,
  LossBasedImportance,
  NvidiaImportance,
  TfoImportance,
} from './gradient-measures.js';
import { GradPreserveImportance, GraspImportance } from './hessian-measures.js';
import { MeasureError, type ImportanceMeasure, type MeasureInfo, type RunSetting } from './measure.js';
import { BnScaleImportance, L1Importance, MagnitudeImportance } from './weight-measures.js';

/** The measures this build implements, by name (the paper's, plus the fixtures' variants). */
export const BUILTIN_MEASURES: ReadonlyMap<string, ImportanceMeasure> = new Map(
  [
    MagnitudeImportance,
    L1Importance,
    BnScaleImportance,
    LossBasedImportance,
    BiasedLossImportance,
    BiasedLossInitImportance,
    TfoImportance,
    FisherImportance,
    NvidiaImportance,
    BiasedLossTrackedImportance,
    BiasedLossTrackedL2Importance,
    BiasedLossTrackedL2InitImportance,
    GraspImportance,
    GradPreserveImportance,
  ].map((m) => [m.info.name, m]),
);

export function getMeasure(name: string): ImportanceMeasure {
  const m = BUILTIN_MEASURES.get(name);
  if (!m) throw new MeasureError(`unknown measure "${name}"; available: ${[...BUILTIN_MEASURES.keys()].join(', ')}`, 'measure');
  return m;
}

/**
 * What this build knows about a measure (needs data, θ₀, Hessian groups, trackable, forced run
 * settings), or undefined for a measure only another estimator offers: then the run treats it as a
 * plain estimate and the estimator's ListMeasures says the rest.
 */
export function knownMeasure(name: string): MeasureInfo | undefined {
  return BUILTIN_MEASURES.get(name)?.info;
}

/** Measures the trainer can track over each round's last minibatches (docs/pruning-semantics.md §8). */
export const TRACKABLE_MEASURES: readonly string[] = [...BUILTIN_MEASURES.values()].filter((m) => m.info.trackable).map((m) => m.info.name);

export const isTrackable = (measure: string): boolean => knownMeasure(measure)?.trackable === true;

/** The estimate a run asks for: the measure itself, or its θ₀ variant when the run carries θ₀. */
export const measureToEstimate = (measure: string, withInit: boolean): string => (withInit && knownMeasure(measure)?.initVariant) || measure;

/**
 * Which run setting fills a measure parameter, by the parameter's name. Keyed by name because a
 * remote estimator's ListMeasures gives names: an estimator offering "T" gets the run's temperature.
 */
export const RUN_SETTING_OF_PARAMETER: ReadonlyMap<string, RunSetting> = new Map(
  [...BUILTIN_MEASURES.values()].flatMap((m) => m.info.parameters.flatMap((p) => (p.runSetting ? [[p.name, p.runSetting] as const] : []))),
);

/** Fills parameter defaults and rejects unknown or out-of-range ones, naming them. */
export function resolveParams(info: MeasureInfo, given: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of info.parameters) out[p.name] = p.defaultValue;
  for (const [k, v] of Object.entries(given)) {
    const p = info.parameters.find((q) => q.name === k);
    if (!p)
      throw new MeasureError(
        `measure ${info.name} has no parameter "${k}"${info.parameters.length ? `; it takes ${info.parameters.map((q) => q.name).join(', ')}` : ''}`,
        'params',
      );
    if (!Number.isFinite(v) || v < p.min || v > p.max) throw new MeasureError(`parameter ${k} of ${info.name} must be in [${p.min}, ${p.max}], got ${v}`, 'params');
    if (p.integer && !Number.isInteger(v)) throw new MeasureError(`parameter ${k} of ${info.name} must be a whole number, got ${v}`, 'params');
    out[k] = v;
  }
  return out;
}
