// Pure functions that build, validate, patch and filter run documents. Kept free of I/O so every
// RunStore implementation (FileRunStore, MongoRunStore) applies exactly the same rules.

import { StoreError } from './errors.js';
import { assertPlainJson } from './json-check.js';
import {
  RUN_STATUSES,
  TRAINING_PHASES,
  type EpochStat,
  type RoundRecord,
  type RunEvent,
  type RunEventInput,
  type RunFilter,
  type RunPatch,
  type RunRecord,
  type RunRecordInput,
  type RunStatus,
} from './types.js';

const invalid = (message: string): StoreError => new StoreError('invalid_argument', message);

function requireString(v: unknown, path: string): void {
  if (typeof v !== 'string' || v.length === 0) throw invalid(`${path} must be a non-empty string, got ${JSON.stringify(v)}`);
}

function requireNumber(v: unknown, path: string, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${path} must be a finite number, got ${String(v)}`);
}

function requireObject(v: unknown, path: string, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${path} must be a JSON object`);
}

function requireStatus(v: unknown, path: string): asserts v is RunStatus {
  if (!RUN_STATUSES.includes(v as RunStatus)) throw invalid(`${path} must be one of ${RUN_STATUSES.join(', ')}, got ${JSON.stringify(v)}`);
}

/** A new run document from caller input. */
export function buildRunRecord(input: RunRecordInput, id: string, nowIso: string): RunRecord {
  requireObject(input, 'run');
  requireObject(input.spec, 'spec');
  requireString(input.model, 'model');
  requireString(input.dataset, 'dataset');
  if (input.status !== undefined) requireStatus(input.status, 'status');
  requireNumber(input.pruneRatio, 'pruneRatio', true);
  requireNumber(input.seed, 'seed', true);
  requireObject(input.summary, 'summary', true);
  const doc: RunRecord = {
    ...input,
    id,
    createdAt: nowIso,
    updatedAt: nowIso,
    status: input.status ?? 'created',
    stats: [],
    rounds: [],
  };
  assertPlainJson(doc, 'run');
  return doc;
}

// The queue fields change only through the queue methods (enqueueRun, claimRun, …), never a patch.
const FIXED_FIELDS = new Set(['id', 'createdAt', 'updatedAt', 'stats', 'rounds', 'queuedAt', 'lease', 'fence']);

/** Shallow merge of `patch` into `doc`; `undefined` removes a field. Returns a new document. */
export function applyRunPatch(doc: RunRecord, patch: RunPatch, nowIso: string): RunRecord {
  requireObject(patch, 'patch');
  for (const key of Object.keys(patch)) {
    if (FIXED_FIELDS.has(key)) {
      const hint = key === 'stats' || key === 'rounds' ? ' (use the append methods)' : ['queuedAt', 'lease', 'fence'].includes(key) ? ' (use the queue methods)' : '';
      throw invalid(`patch may not set ${key}${hint}`);
    }
  }
  if (patch.status !== undefined) requireStatus(patch.status, 'patch.status');
  if ('model' in patch) requireString(patch.model, 'patch.model');
  if ('dataset' in patch) requireString(patch.dataset, 'patch.dataset');
  if ('spec' in patch) requireObject(patch.spec, 'patch.spec');
  assertPlainJson(patch, 'patch');
  const next: Record<string, unknown> = { ...doc, ...patch, updatedAt: nowIso };
  for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
  return next as unknown as RunRecord;
}

export function validateEpochStat(stat: EpochStat): void {
  requireObject(stat, 'stat');
  if (!TRAINING_PHASES.includes(stat.phase)) {
    throw invalid(`stat.phase must be one of ${TRAINING_PHASES.join(', ')}, got ${JSON.stringify(stat.phase)}`);
  }
  if (!Number.isInteger(stat.epoch) || stat.epoch < 0) throw invalid(`stat.epoch must be a non-negative integer, got ${stat.epoch}`);
  for (const k of ['lr', 'trainLoss', 'trainAcc', 'seconds'] as const) requireNumber(stat[k], `stat.${k}`);
  for (const k of ['testLoss', 'testAcc', 'round'] as const) requireNumber(stat[k], `stat.${k}`, true);
  assertPlainJson(stat, 'stat');
}

export function validateRound(round: RoundRecord): void {
  requireObject(round, 'round');
  if (!Number.isInteger(round.round) || round.round < 0) throw invalid(`round.round must be a non-negative integer, got ${round.round}`);
  requireNumber(round.prunedFraction, 'round.prunedFraction');
  if (!Array.isArray(round.remainingChannels)) throw invalid('round.remainingChannels must be an array of { layer, remaining }');
  round.remainingChannels.forEach((l, i) => {
    requireString(l?.layer, `round.remainingChannels[${i}].layer`);
    requireNumber(l?.remaining, `round.remainingChannels[${i}].remaining`);
  });
  assertPlainJson(round, 'round');
}

export function buildRunEvent(runId: string, event: RunEventInput, nowIso: string): RunEvent {
  requireObject(event, 'event');
  requireString(event.type, 'event.type');
  if (event.fence !== undefined && (!Number.isInteger(event.fence) || event.fence < 0)) throw invalid(`event.fence must be a non-negative integer, got ${event.fence}`);
  const out: RunEvent = { ...event, runId, at: event.at ?? nowIso };
  assertPlainJson(out, 'event');
  return out;
}

export function validateCheckpointMeta(meta: Record<string, unknown> | undefined): void {
  requireObject(meta, 'meta', true);
  if (meta !== undefined) assertPlainJson(meta, 'meta');
}

/** True when `doc` matches every field given in `filter`. */
export function matchesRunFilter(doc: RunRecord, filter: RunFilter = {}): boolean {
  const eq = <K extends keyof RunRecord>(k: K, v: RunRecord[K] | undefined): boolean => v === undefined || doc[k] === v;
  if (filter.status !== undefined) {
    const wanted = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!wanted.includes(doc.status)) return false;
  }
  return (
    eq('model', filter.model) &&
    eq('dataset', filter.dataset) &&
    eq('measure', filter.measure) &&
    eq('pruneRatio', filter.pruneRatio) &&
    eq('seed', filter.seed) &&
    eq('backend', filter.backend)
  );
}

/** Oldest first; ties (same second) broken by id for a stable order. */
export function compareRuns(a: RunRecord, b: RunRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
