// Run files (YAML or JSON) and run flags → a flowprune.v1.RunSpec, strictly: an unknown key is an
// error that names it, never silently ignored.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { importedCheckpoint, onnxToGraph } from '@flowprune/onnx';
import { AnalysisSpec, RunSpec, type ModelRef } from '@flowprune/proto';

export class RunFileError extends Error {}

/** Keys a run file may hold besides RunSpec's fields: where the local data-loader finds datasets. */
export interface RunFileExtras {
  /** name → directory, served by a local data-loader when no --trainer is given. */
  datasets: Record<string, string>;
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const SPEC_FIELDS = new Set(Object.keys(RunSpec.fromJSON({})));

const ANALYSIS_FIELDS = new Set(Object.keys(AnalysisSpec.fromJSON({})));

/** `analysis: {every_batches: k, samples: n}`, strictly like the rest of the file. */
function analysisFrom(value: unknown, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RunFileError(`${source}: analysis must be a mapping, e.g. {every_batches: 50}`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!ANALYSIS_FIELDS.has(camel(key)))
      throw new RunFileError(`${source}: unknown field "analysis.${key}"; analysis takes ${[...ANALYSIS_FIELDS].map(snake).sort().join(', ')}`);
    if (typeof v !== 'number') throw new RunFileError(`${source}: analysis.${key} must be a number, got ${JSON.stringify(v)}`);
    out[camel(key)] = v;
  }
  return out;
}

/**
 * `model:` instead of `arch:`: a model file (safetensors from `flowprune import`, or an .onnx file,
 * imported here), path relative to the working directory as `datasets` are, or a stored
 * checkpoint `{run: <id>, checkpoint: <name>}` in the trainer's store. It becomes the run's starting
 * weights (RunSpec.pretrained), whose metadata tells the trainer the architecture.
 */
function modelFrom(value: unknown, source: string): ModelRef {
  if (typeof value === 'string') {
    let bytes: Buffer;
    try {
      bytes = readFileSync(value);
    } catch (e) {
      throw new RunFileError(`${source}: model: cannot read ${value} (${(e as Error).message})`);
    }
    if (!value.toLowerCase().endsWith('.onnx')) return { safetensors: bytes };
    try {
      return { safetensors: Buffer.from(importedCheckpoint(onnxToGraph(bytes, value), value)) };
    } catch (e) {
      throw new RunFileError(`${source}: model: ${(e as Error).message}`);
    }
  }
  const ref = value as { run?: unknown; checkpoint?: unknown } | null;
  const keys = typeof ref === 'object' && ref !== null && !Array.isArray(ref) ? Object.keys(ref).sort().join(',') : '';
  if (keys !== 'checkpoint,run' || typeof ref!.run !== 'string' || typeof ref!.checkpoint !== 'string')
    throw new RunFileError(`${source}: model must be a file (model.safetensors from \`flowprune import\`, or model.onnx) or a stored checkpoint {run: <id>, checkpoint: <name>}, got ${JSON.stringify(value)}`);
  return { checkpoint: { runId: ref!.run, name: ref!.checkpoint } };
}

/** Builds a RunSpec from a plain object (snake_case or camelCase keys). */
export function specFromObject(obj: Record<string, unknown>, source: string): { spec: RunSpec; extras: RunFileExtras } {
  const extras: RunFileExtras = { datasets: {} };
  const clean: Record<string, unknown> = {};
  let model: ModelRef | undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'datasets') {
      if (typeof value !== 'object' || value === null) throw new RunFileError(`${source}: datasets must map names to directories, e.g. {cifar10: ./data/cifar-10-batches-bin}`);
      for (const [n, d] of Object.entries(value)) extras.datasets[n] = String(d);
      continue;
    }
    if (key === 'model') {
      if (obj.arch || obj.pretrained) throw new RunFileError(`${source}: model and ${obj.arch ? 'arch' : 'pretrained'} both given; a run trains either an imported/stored model or a built-in architecture`);
      model = modelFrom(value, source);
      continue;
    }
    const field = camel(key);
    if (!SPEC_FIELDS.has(field))
      throw new RunFileError(`${source}: unknown field "${key}"; run files take ${[...SPEC_FIELDS].map(snake).sort().join(', ')}, datasets and model`);
    // Conveniences: `dataset: cifar10`, `schedule: [[0.1, 80], ...]`.
    if (field === 'dataset' && typeof value === 'string') clean.dataset = { name: value };
    else if (field === 'analysis') clean.analysis = analysisFrom(value, source);
    else if (field === 'schedule' && Array.isArray(value)) clean.schedule = value.map((p) => (Array.isArray(p) ? { lr: p[0], epochs: p[1] } : p));
    else clean[field] = value;
  }
  for (const [field, value] of Object.entries(clean)) {
    const expected = typeof (RunSpec.fromJSON({}) as unknown as Record<string, unknown>)[field];
    if (expected === 'number' && typeof value !== 'number') throw new RunFileError(`${source}: ${snake(field)} must be a number, got ${JSON.stringify(value)}`);
    if (expected === 'boolean' && typeof value !== 'boolean') throw new RunFileError(`${source}: ${snake(field)} must be true or false, got ${JSON.stringify(value)}`);
  }
  const spec = RunSpec.fromJSON(clean);
  if (model) spec.pretrained = model;
  return { spec, extras };
}

export function readRunFile(path: string): { spec: RunSpec; extras: RunFileExtras } {
  let obj: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    obj = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RunFileError(`${path}: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new RunFileError(`${path}: a run file is a mapping of RunSpec fields`);
  return specFromObject(obj as Record<string, unknown>, path);
}
