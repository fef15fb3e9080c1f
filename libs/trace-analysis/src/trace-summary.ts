// Where a run's time went, from its spans: the run loop's stages (with the time training waited for
// data split out), each service's share, the critical path, and the training/estimator figures the
// metrics also carry — so a user sees it without running a collector.
import { ATTR_DATA_WAIT, ATTR_IMAGES, ATTR_MEASURE, ATTR_STAGE, ATTR_STREAM_PRODUCE, SPAN_TRAIN_BATCH, STAGES } from '@flowprune/telemetry';
import { criticalPath } from './critical-path.js';
import type { SpanRecord } from './trace-file.js';
import { TraceTree } from './trace-tree.js';

export interface StageRow {
  stage: string;
  seconds: number;
}

export interface ServiceRow {
  service: string;
  spans: number;
  /** Time the service spent working for the run (self time of its spans; stream producing time). */
  busySeconds: number;
  /** Time the run loop was blocked waiting on this service (its calls; for the data-loader, data wait). */
  blockingSeconds: number;
}

export interface PathRow {
  service: string;
  name: string;
  seconds: number;
}

export interface TraceSummary {
  traceIds: string[];
  spans: number;
  services: string[];
  wallSeconds: number;
  wallSource: 'run record' | 'run span' | 'first to last span';
  /** train/test are compute only; their waiting for batches is the `data wait` row. */
  stages: StageRow[];
  stagesTotal: number;
  dataWaitSeconds: number;
  byService: ServiceRow[];
  /** Client time not spent in the server: network, (de)serialisation, queueing. */
  grpcTransportSeconds: number;
  criticalPath: { seconds: number; rows: PathRow[] };
  training: { images: number; seconds: number; imagesPerSecond: number; sampledBatches: number; batchP50: number; batchP95: number };
  estimates: { measure: string; calls: number; seconds: number }[];
}

const secs = (s: SpanRecord) => (s.endMs - s.startMs) / 1000;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** The label for time spent waiting on batches (charged to the data-loader). */
export const DATA_WAIT = 'data wait';
const DATA_LOADER = 'flowprune-data-loader';

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** Length of the union of intervals [a, b), clipped to [lo, hi). */
function covered(intervals: [number, number][], lo: number, hi: number): number {
  const clipped = intervals.map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)] as [number, number]).filter(([a, b]) => b > a);
  clipped.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [curA, curB] = [-Infinity, -Infinity];
  for (const [a, b] of clipped) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      [curA, curB] = [a, b];
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

export function summariseTrace(spans: SpanRecord[], opts: { wallSeconds?: number } = {}): TraceSummary {
  const tree = new TraceTree(spans);
  const runs = tree.runSpans();
  const inRun = runs.length ? runs.flatMap((r) => tree.subtree(r)) : spans;

  // Stages: the run loop's timed spans, which follow one another.
  const stageSpans = inRun.filter((s) => typeof s.attributes[ATTR_STAGE] === 'string');
  const stageSeconds = new Map<string, number>();
  let dataWait = 0;
  for (const s of stageSpans) {
    const stage = s.attributes[ATTR_STAGE] as string;
    const wait = Math.min(num(s.attributes[ATTR_DATA_WAIT]), secs(s));
    dataWait += wait;
    stageSeconds.set(stage, (stageSeconds.get(stage) ?? 0) + secs(s) - wait);
  }
  const order = [...STAGES, ...[...stageSeconds.keys()].filter((k) => !(STAGES as readonly string[]).includes(k))];
  const stages: StageRow[] = [];
  for (const stage of order) {
    if (stageSeconds.has(stage)) stages.push({ stage, seconds: stageSeconds.get(stage)! });
    if (stage === 'train' && dataWait > 0) stages.push({ stage: DATA_WAIT, seconds: dataWait });
  }
  const stagesTotal = stages.reduce((a, r) => a + r.seconds, 0);

  // Services: self time of their spans in the run; the run loop's waits on each callee.
  const rows = new Map<string, ServiceRow>();
  const row = (service: string) => {
    let r = rows.get(service);
    if (!r) rows.set(service, (r = { service, spans: 0, busySeconds: 0, blockingSeconds: 0 }));
    return r;
  };
  let transport = 0;
  // Only the run loop's own calls block the run; a callee's nested calls are inside its time.
  const loopService = runs[0]?.service;
  for (const s of inRun) {
    const r = row(s.service);
    r.spans++;
    const blocking = tree.children(s).filter((k) => !tree.isStreaming(k));
    const self = (s.endMs - s.startMs - covered(blocking.map((k) => [k.startMs, k.endMs]), s.startMs, s.endMs)) / 1000;
    if (tree.isStreaming(s)) {
      if (s.kind === 'SERVER') r.busySeconds += num(s.attributes[ATTR_STREAM_PRODUCE]);
    } else if (s.kind === 'CLIENT') {
      transport += self;
      if (s.service === loopService) row(tree.calleeOf(s)).blockingSeconds += secs(s);
    } else r.busySeconds += self;
  }
  for (const s of stageSpans) row(s.service).busySeconds -= Math.min(num(s.attributes[ATTR_DATA_WAIT]), secs(s));
  if (dataWait > 0) row(DATA_LOADER).blockingSeconds += dataWait;

  // Critical path of each run session; waiting for batches is charged to the data-loader.
  const path = new Map<string, PathRow>();
  let pathSeconds = 0;
  for (const r of runs)
    for (const seg of criticalPath(tree, r)) {
      const t = (seg.toMs - seg.fromMs) / 1000;
      pathSeconds += t;
      // A stage or sampled batch that waited for data spent that share of its own time waiting.
      const waitShare = Math.min(1, num(seg.span.attributes[ATTR_DATA_WAIT]) / Math.max(secs(seg.span), 1e-9));
      const add = (service: string, name: string, x: number) => {
        const k = `${service}\u0000${name}`;
        const p = path.get(k) ?? { service, name, seconds: 0 };
        p.seconds += x;
        path.set(k, p);
      };
      // A sampled batch is part of its stage: count it under the stage's name.
      const name = seg.span.name === SPAN_TRAIN_BATCH ? (tree.parent(seg.span)?.name ?? seg.span.name) : seg.span.name;
      add(seg.span.service, name, t * (1 - waitShare));
      if (waitShare > 0) add(DATA_LOADER, DATA_WAIT, t * waitShare);
    }

  // Training throughput and sampled batch latency; estimator latency per measure.
  const train = stageSpans.filter((s) => s.attributes[ATTR_STAGE] === 'train');
  const images = train.reduce((a, s) => a + num(s.attributes[ATTR_IMAGES]), 0);
  const trainSeconds = train.reduce((a, s) => a + secs(s), 0);
  const batches = inRun.filter((s) => s.name === SPAN_TRAIN_BATCH).map(secs).sort((a, b) => a - b);
  const estimates = new Map<string, { measure: string; calls: number; seconds: number }>();
  for (const s of stageSpans.filter((x) => x.attributes[ATTR_STAGE] === 'estimate')) {
    const measure = String(s.attributes[ATTR_MEASURE] ?? 'unknown');
    const e = estimates.get(measure) ?? { measure, calls: 0, seconds: 0 };
    e.calls++;
    e.seconds += secs(s);
    estimates.set(measure, e);
  }

  const first = Math.min(...spans.map((s) => s.startMs));
  const last = Math.max(...spans.map((s) => s.endMs));
  const [wallSeconds, wallSource]: [number, TraceSummary['wallSource']] =
    opts.wallSeconds !== undefined && opts.wallSeconds > 0
      ? [opts.wallSeconds, 'run record']
      : runs.length
        ? [runs.reduce((a, r) => a + secs(r), 0), 'run span']
        : [spans.length ? (last - first) / 1000 : 0, 'first to last span'];

  return {
    traceIds: [...new Set(spans.map((s) => s.traceId))],
    spans: spans.length,
    services: [...new Set(spans.map((s) => s.service))].sort(),
    wallSeconds,
    wallSource,
    stages,
    stagesTotal,
    dataWaitSeconds: dataWait,
    byService: [...rows.values()].sort((a, b) => b.busySeconds - a.busySeconds),
    grpcTransportSeconds: transport,
    criticalPath: { seconds: pathSeconds, rows: [...path.values()].filter((p) => p.seconds > 0).sort((a, b) => b.seconds - a.seconds) },
    training: {
      images,
      seconds: trainSeconds,
      imagesPerSecond: trainSeconds > 0 ? images / trainSeconds : 0,
      sampledBatches: batches.length,
      batchP50: quantile(batches, 0.5),
      batchP95: quantile(batches, 0.95),
    },
    estimates: [...estimates.values()],
  };
}
