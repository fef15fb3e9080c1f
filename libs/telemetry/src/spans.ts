// Span helpers over the OpenTelemetry API only: without a started SDK they cost next to nothing
// (the API hands out non-recording spans), so libraries may call them unconditionally.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from './otel-api.js';
import { BAGGAGE_RUN_ID, SCOPE } from './attributes.js';

export { SpanKind };
export type { Attributes, Context, Span };

export const tracer = () => trace.getTracer(SCOPE);

export interface SpanOptions {
  kind?: SpanKind;
  /** Start a new trace instead of continuing the active one. */
  root?: boolean;
  /** Parent context (default: the active one). */
  parent?: Context;
}

/** Runs `fn` inside a new active span; a throw is recorded on the span (ERROR) and rethrown. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, opts: SpanOptions = {}): Promise<T> {
  const parent = opts.parent ?? context.active();
  return tracer().startActiveSpan(name, { attributes, kind: opts.kind ?? SpanKind.INTERNAL, root: opts.root }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** A finished span from recorded times (performance.now() milliseconds), e.g. one sampled batch. */
export function recordSpan(name: string, startMs: number, endMs: number, attributes: Attributes): void {
  const origin = performance.timeOrigin;
  tracer().startSpan(name, { attributes, startTime: origin + startMs }).end(origin + endMs);
}

/** Adds attributes to the active span (no-op without one). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** `parent` with the run id in its W3C baggage: every process the run's calls reach learns it. */
export function withRunId(runId: string, parent: Context = context.active()): Context {
  const baggage = (propagation.getBaggage(parent) ?? propagation.createBaggage()).setEntry(BAGGAGE_RUN_ID, { value: runId });
  return propagation.setBaggage(parent, baggage);
}

/** The run id in a context's baggage, if any. */
export function runIdOf(ctx: Context): string | undefined {
  return propagation.getBaggage(ctx)?.getEntry(BAGGAGE_RUN_ID)?.value;
}

/** The active context, to keep with long-lived work that outlives the call that started it. */
export function activeContext(): Context {
  return context.active();
}

/**
 * The active trace context as W3C headers (traceparent, baggage), to store with work that another
 * process picks up later (a queued run); empty without an SDK.
 */
export function contextCarrier(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier from contextCarrier describes (the root context when it is empty). */
export function contextFromCarrier(carrier: Record<string, string> | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, carrier ?? {});
}

/** Runs `fn` with `ctx` active. */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

let batchEvery: number | undefined;
/**
 * Whether batch `index` of an epoch gets its own span: the first, then every Nth
 * (FLOWPRUNE_TRACE_BATCH_EVERY, default 10; 0 = none), so traces stay small on long epochs.
 */
export function isSampledBatch(index: number): boolean {
  batchEvery ??= Math.max(0, Math.floor(Number(process.env.FLOWPRUNE_TRACE_BATCH_EVERY ?? 10)) || 0);
  return batchEvery > 0 && index % batchEvery === 0;
}
