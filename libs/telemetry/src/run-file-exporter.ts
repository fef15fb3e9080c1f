// Spans to `<dir>/<run-id>/trace.jsonl`, one OTLP/JSON ExportTraceServiceRequest per line (the
// format the collector's otlpjsonfile receiver reads). Every process of a run appends to the same
// file; each export is one append of whole lines, which the kernel keeps contiguous (O_APPEND).
//
// A span is routed by its trace: once any span of a trace names its run (attribute or baggage), all
// of that trace's spans in this process go to that run's file. Spans that end before their trace's
// run is known (e.g. the Describe call that precedes the run's creation) wait in a bounded buffer.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_RUN_ID } from './attributes.js';
import { TRACE_FILE, traceFilePath } from './trace-path.js';

// @opentelemetry/core's ExportResultCode values, inlined: this module loads in every process, traced
// or not, and core is not needed until telemetry starts.
const SUCCESS = 0 as ExportResult['code'];
const FAILED = 1 as ExportResult['code'];

/** Run ids become a directory name: the run store's own rule (no separators, no dots). */
const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface RunFileExporterOptions {
  /** Root of the run directories. */
  dir: string;
  /** One span as one OTLP/JSON request (no newline). */
  serialize: (span: ReadableSpan) => string;
  /** Traces whose run is not known yet, and spans kept per trace, before the oldest are dropped. */
  maxPendingTraces?: number;
  maxPendingSpans?: number;
  /** Pending spans older than this are dropped (their trace never named a run). */
  pendingTtlMs?: number;
  /** Traces whose run is remembered. */
  maxRoutes?: number;
}

interface Pending {
  since: number;
  spans: ReadableSpan[];
}

export class RunFileSpanExporter implements SpanExporter {
  private readonly routes = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(private readonly opts: RunFileExporterOptions) {}

  /** The file a run's spans go to. */
  fileOf(runId: string): string {
    return traceFilePath(this.opts.dir, runId);
  }

  /** Records that `traceId` belongs to `runId`, and writes the trace's waiting spans. */
  learn = (traceId: string, runId: string): void => {
    if (!SAFE_RUN_ID.test(runId) || this.routes.get(traceId) === runId) return;
    this.routes.delete(traceId); // re-insert: Map order is our LRU order
    this.routes.set(traceId, runId);
    if (this.routes.size > (this.opts.maxRoutes ?? 10_000)) this.routes.delete(this.routes.keys().next().value as string);
    const waiting = this.pending.get(traceId);
    if (waiting) {
      this.pending.delete(traceId);
      if (!this.stopped) this.write(runId, waiting.spans);
    }
  };

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.stopped) return done({ code: FAILED, error: new Error('exporter is shut down') });
    try {
      const byRun = new Map<string, ReadableSpan[]>();
      for (const span of spans) {
        const traceId = span.spanContext().traceId;
        const own = span.attributes[ATTR_RUN_ID];
        if (typeof own === 'string') this.learn(traceId, own);
        const runId = this.routes.get(traceId);
        if (runId) byRun.set(runId, [...(byRun.get(runId) ?? []), span]);
        else this.hold(traceId, span);
      }
      for (const [runId, list] of byRun) this.write(runId, list);
      done({ code: SUCCESS });
    } catch (e) {
      done({ code: FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  /** Spans waiting for their trace's run to be known (for tests and diagnostics). */
  pendingSpans(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.spans.length;
    return n;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    return Promise.resolve();
  }

  private hold(traceId: string, span: ReadableSpan): void {
    const now = Date.now();
    const ttl = this.opts.pendingTtlMs ?? 15 * 60_000;
    for (const [id, p] of this.pending) if (now - p.since > ttl) this.pending.delete(id);
    let entry = this.pending.get(traceId);
    if (!entry) {
      if (this.pending.size >= (this.opts.maxPendingTraces ?? 256)) this.pending.delete(this.pending.keys().next().value as string);
      entry = { since: now, spans: [] };
      this.pending.set(traceId, entry);
    }
    if (entry.spans.length < (this.opts.maxPendingSpans ?? 512)) entry.spans.push(span);
  }

  private write(runId: string, spans: ReadableSpan[]): void {
    const dir = join(this.opts.dir, runId);
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, TRACE_FILE), spans.map((s) => `${this.opts.serialize(s)}\n`).join(''));
  }
}
