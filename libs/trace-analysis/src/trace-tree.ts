// The parent/child structure of a run's spans, and which spans run beside their parent instead of
// blocking it (server-streaming RPCs: the data-loader's batch stream feeds training concurrently).
import { ATTR_RPC_SERVICE, ATTR_RPC_STREAMING, SPAN_RUN } from '@flowprune/telemetry';
import type { SpanRecord } from './trace-file.js';

export class TraceTree {
  readonly byId = new Map<string, SpanRecord>();
  private readonly kids = new Map<string, SpanRecord[]>();

  constructor(readonly spans: SpanRecord[]) {
    // Span ids are unique within a trace; key by both to be safe across a run's traces.
    for (const s of spans) this.byId.set(key(s.traceId, s.spanId), s);
    for (const s of spans) {
      if (!s.parentSpanId) continue;
      const k = key(s.traceId, s.parentSpanId);
      this.kids.set(k, [...(this.kids.get(k) ?? []), s]);
    }
  }

  children(span: SpanRecord): SpanRecord[] {
    return this.kids.get(key(span.traceId, span.spanId)) ?? [];
  }

  parent(span: SpanRecord): SpanRecord | undefined {
    return span.parentSpanId ? this.byId.get(key(span.traceId, span.parentSpanId)) : undefined;
  }

  /** The run loop's `run` spans (one per trainer session of the run), by start time. */
  runSpans(): SpanRecord[] {
    return this.spans.filter((s) => s.name === SPAN_RUN && s.kind === 'INTERNAL').sort((a, b) => a.startMs - b.startMs);
  }

  /** `root` and every span below it. */
  subtree(root: SpanRecord): SpanRecord[] {
    const out: SpanRecord[] = [];
    const stack = [root];
    while (stack.length) {
      const s = stack.pop()!;
      out.push(s);
      stack.push(...this.children(s));
    }
    return out;
  }

  /** A server-streaming call, on either side: it runs beside its caller. */
  isStreaming(span: SpanRecord): boolean {
    if (span.attributes[ATTR_RPC_STREAMING] === true) return true;
    return span.kind === 'CLIENT' && this.children(span).some((c) => c.kind === 'SERVER' && c.attributes[ATTR_RPC_STREAMING] === true);
  }

  /** The service that answered a client span: its server child's, else the RPC service name. */
  calleeOf(client: SpanRecord): string {
    const server = this.children(client).find((c) => c.kind === 'SERVER');
    if (server) return server.service;
    const rpc = client.attributes[ATTR_RPC_SERVICE];
    return typeof rpc === 'string' ? rpc : 'unknown';
  }
}

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;
