// A run as the run store keeps it, written and read here and nowhere else: `spec` is the resolved
// RunConfig tagged with the document version, `summary` the RunSummaryData, `resume` the committed
// snapshot slot with its RunProgress, and events are RunEventBody with `type` = kind. The store
// holds them as plain JSON; every read is checked field by field (tables over the TypeScript
// shapes) and names what is wrong. Documents written before the tag (version 0) have the same
// fields and read the same way.
import type { AnalysisRecord } from './flow-analysis.js';
import { PHASES, type LatencyMeasurementData, type RunEventBody, type RunSummaryData } from './events.js';
import { arrayOf, num, objectOf, oneOf, optional, plainObject, recordOf, RunDocumentError, str, toJsonDocument, type Check, type FieldChecks } from './json-fields.js';
import { resolveRunConfig, RunConfigError, type RunConfig } from './run-config.js';
import type { RunProgress } from './snapshot.js';

export { RunDocumentError } from './json-fields.js';

/** Version of the stored run document; 0 (no tag) is the shape before the tag, with the same fields. */
export const RUN_DOCUMENT_VERSION = 1;

/** The field of `spec` that holds the version (RunConfig has no field of that name). */
const VERSION_FIELD = 'documentVersion';

/** Where a stopped run continues: the snapshot slot its files are stored under, and its progress. */
export interface ResumePoint {
  slot: 'a' | 'b';
  progress: RunProgress;
}

export const RESUME_SLOTS = ['a', 'b'] as const;

// ---- writing ----

export function specDocument(cfg: RunConfig): Record<string, unknown> {
  return { [VERSION_FIELD]: RUN_DOCUMENT_VERSION, ...toJsonDocument(cfg) };
}

export function summaryDocument(summary: RunSummaryData): Record<string, unknown> {
  return toJsonDocument(summary);
}

export function resumeDocument(point: ResumePoint): Record<string, unknown> {
  return toJsonDocument(point);
}

/** An event as the store's event input (`type` is the kind, `data` the whole body). */
export function eventDocument(body: RunEventBody): { type: RunEventBody['kind']; data: Record<string, unknown> } {
  return { type: body.kind, data: toJsonDocument(body) };
}

// ---- reading ----

/** The RunConfig a stored spec holds, resolved and checked again (a bad one names its field). */
export function readSpec(doc: unknown): RunConfig {
  const o = plainObject(doc, 'spec');
  const version = o[VERSION_FIELD] === undefined ? 0 : num(o[VERSION_FIELD], `spec.${VERSION_FIELD}`);
  if (!(Number.isInteger(version) && version >= 0 && version <= RUN_DOCUMENT_VERSION))
    throw new RunDocumentError(`spec.${VERSION_FIELD}`, `is ${version}, but this flowprune reads versions 0..${RUN_DOCUMENT_VERSION}; upgrade flowprune to read this run`);
  try {
    return resolveRunConfig(o as Parameters<typeof resolveRunConfig>[0]);
  } catch (e) {
    if (e instanceof RunConfigError) throw new RunDocumentError(`spec.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
}

const latencyList: Check<LatencyMeasurementData[]> = arrayOf(
  objectOf<LatencyMeasurementData>({ engine: str, batchSize: num, p50Ms: num, p95Ms: num, imagesPerSecond: num, runs: num }),
);
const numbers = arrayOf(num);

const SUMMARY_FIELDS: FieldChecks<RunSummaryData> = {
  backend: str,
  parametersBefore: num,
  parametersAfter: num,
  flopsBefore: num,
  flopsAfter: num,
  accuracyBeforePruning: num,
  accuracyAfterPruning: num,
  accuracyAfterFinetune: num,
  bestTestAccuracy: num,
  compressionRatio: num,
  channelsBefore: numbers,
  channelsAfter: numbers,
  stageSeconds: recordOf(num),
  wallSeconds: num,
  finalCheckpoint: str,
  latency: optional(objectOf({ before: latencyList, after: latencyList })),
};

export function readSummary(doc: unknown, path = 'summary'): RunSummaryData {
  return objectOf(SUMMARY_FIELDS)(doc, path);
}

const PROGRESS_FIELDS: FieldChecks<RunProgress> = {
  nextEpoch: num,
  pCumulative: num,
  bestAccuracy: num,
  bestCheckpoint: str,
  accuracyBeforePruning: num,
  accuracyAfterPruning: num,
  latencyBefore: optional(latencyList),
  stageSeconds: recordOf(num),
  elapsedSeconds: num,
};

export function readResume(doc: unknown, path = 'resume'): ResumePoint {
  const point = objectOf<ResumePoint>({ slot: oneOf(RESUME_SLOTS), progress: objectOf(PROGRESS_FIELDS) })(doc, path);
  const next = point.progress.nextEpoch;
  if (!(Number.isInteger(next) && next >= 0)) throw new RunDocumentError(`${path}.progress.nextEpoch`, `must be a whole number ≥ 0, got ${next}`);
  return point;
}

/** The epoch the run continues with: its resume point's, or 0 without one. */
export const nextEpochOf = (resume: unknown): number => (resume === undefined ? 0 : readResume(resume).progress.nextEpoch);

type EventKind = RunEventBody['kind'];
type Payload<K extends EventKind> = Omit<Extract<RunEventBody, { kind: K }>, 'kind'>;

/** Analysis records are read by `flowprune analyze`; here only their type is checked. */
const analysisRecord: Check<AnalysisRecord> = (v, path) => {
  const o = plainObject(v, path);
  oneOf(['flow', 'prune'] as const)(o.type, `${path}.type`);
  return o as unknown as AnalysisRecord;
};

const phase = oneOf(PHASES);

const EVENT_FIELDS: { [K in EventKind]: FieldChecks<Payload<K>> } = {
  started: { arch: str, backend: str, totalEpochs: num, trainBatches: num, parameters: num, flops: num },
  progress: { phase, epoch: num, batch: num, batches: num, loss: num },
  epoch: { phase, epoch: num, lr: num, trainLoss: num, trainAccuracy: num, testLoss: num, testAccuracy: num, seconds: num },
  round: { round: num, prunedFraction: num, channels: numbers, accuracyBeforeFinetune: num, parameters: num, flops: num, measure: str, estimator: str },
  stage: { stage: str, seconds: num, detail: str },
  analysis: { analysis: analysisRecord },
  finished: { summary: readSummary },
  failed: { message: str },
};

export const EVENT_KINDS = Object.keys(EVENT_FIELDS) as EventKind[];

export const isEventKind = (type: string): type is EventKind => Object.hasOwn(EVENT_FIELDS, type);

/**
 * A stored event as the run loop emitted it; undefined for a type that is no run event (a newer
 * trainer's kind, or another writer's note), which readers skip.
 */
export function readEvent(type: string, data: unknown, path = 'event'): RunEventBody | undefined {
  if (!isEventKind(type)) return undefined;
  const payload = objectOf(EVENT_FIELDS[type] as FieldChecks<Record<string, unknown>>)(data ?? {}, `${path}.data`);
  return { kind: type, ...payload } as RunEventBody;
}
