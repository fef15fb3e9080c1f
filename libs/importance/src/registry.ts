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
import { MeasureError, type ImportanceMeasure, type MeasureInfo } from './measure.js';
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
