// Tags every span with the run it belongs to: the run id travels as W3C baggage, and this processor
// copies it into the span's attributes when the span starts (so it is searchable in Jaeger and the
// file exporter knows the span's run). It also settles the compute-backend resource attribute.
import type { Context } from './otel-api.js';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_RUN_ID } from './attributes.js';
import { settleComputeBackend } from './compute-backend.js';
import { runIdOf } from './spans.js';

export class RunSpanProcessor implements SpanProcessor {
  /** `learn` is told (trace id → run id) as soon as a span reveals it. */
  constructor(private readonly learn: (traceId: string, runId: string) => void = () => undefined) {}

  onStart(span: Span, parentContext: Context): void {
    settleComputeBackend();
    const runId = runIdOf(parentContext);
    if (!runId) return;
    span.setAttribute(ATTR_RUN_ID, runId);
    this.learn(span.spanContext().traceId, runId);
  }

  onEnd(span: ReadableSpan): void {
    const runId = span.attributes[ATTR_RUN_ID];
    if (typeof runId === 'string') this.learn(span.spanContext().traceId, runId);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
