// The little of OpenTelemetry the gRPC helper needs, through the API only (no SDK, no telemetry lib:
// this lib depends on the contracts alone). The gRPC instrumentation itself is started by each
// process (libs/telemetry); here we annotate streaming handlers and flush before a process exits.
import { createRequire } from 'node:module';
import type { Span } from '@opentelemetry/api';

// CommonJS, the copy the SDK loads too (see libs/telemetry/src/otel-api.ts).
const { metrics, trace } = createRequire(import.meta.url)('@opentelemetry/api') as typeof import('@opentelemetry/api');

/** Attribute names shared with libs/telemetry/src/attributes.ts, which reads them back. */
export const STREAM_ATTRIBUTES = {
  streaming: 'flowprune.rpc.streaming',
  produce: 'flowprune.stream.produce.duration',
  backpressure: 'flowprune.stream.backpressure.duration',
  messages: 'flowprune.stream.messages',
} as const;

/** The span of the RPC being handled: the instrumentation makes it active while a handler runs. */
export function activeRpcSpan(): Span | undefined {
  return trace.getActiveSpan();
}

interface Flushable {
  forceFlush?: () => Promise<unknown>;
}

/**
 * Flushes the registered tracer and meter providers, if any, so that spans still buffered (OTLP
 * batches) are not lost when the process exits. Gives up after `timeoutMs`.
 */
export async function flushTelemetry(timeoutMs = 3000): Promise<void> {
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const providers = [(proxy.getDelegate?.() ?? proxy) as Flushable, metrics.getMeterProvider() as Flushable];
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(providers.map((p) => p.forceFlush?.().catch(() => undefined))),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}
