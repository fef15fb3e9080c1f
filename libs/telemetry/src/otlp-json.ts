// One finished span as an OTLP/JSON ExportTraceServiceRequest (the protobuf JSON mapping: hex ids,
// nanosecond strings, span kinds offset by one) — what @opentelemetry/otlp-transformer's
// JsonTraceSerializer writes (run-file tests compare the two), without loading protobufjs, which
// that package brings in for its other serializers and which would slow every process's start.
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

type AnyValue =
  | { stringValue: string }
  | { intValue: number }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } }
  | Record<string, never>;

// W3C flags in the low byte, plus "has is-remote" (0x100) and "is remote" (0x200), as the OTLP spec says.
const flags = (traceFlags: number, isRemote: boolean | undefined) => (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
const nanos = (t: HrTime) => (BigInt(Math.trunc(t[0])) * 1_000_000_000n + BigInt(Math.trunc(t[1]))).toString();

function anyValue(v: AttributeValue | null | undefined): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: (v as (string | number | boolean | null | undefined)[]).map(anyValue) } };
  return {};
}

const attributes = (a: Attributes) => Object.keys(a).map((key) => ({ key, value: anyValue(a[key]) }));

export function spanToOtlpJson(span: ReadableSpan): string {
  const ctx = span.spanContext();
  const scope = span.instrumentationScope;
  const request = {
    resourceSpans: [
      {
        resource: { attributes: attributes(span.resource.attributes), droppedAttributesCount: 0 },
        scopeSpans: [
          {
            scope: { name: scope.name, version: scope.version },
            spans: [
              {
                traceId: ctx.traceId,
                spanId: ctx.spanId,
                parentSpanId: span.parentSpanContext?.spanId || undefined,
                traceState: ctx.traceState?.serialize(),
                name: span.name,
                kind: span.kind + 1,
                startTimeUnixNano: nanos(span.startTime),
                endTimeUnixNano: nanos(span.endTime),
                attributes: attributes(span.attributes),
                droppedAttributesCount: span.droppedAttributesCount,
                events: span.events.map((e) => ({
                  attributes: e.attributes ? attributes(e.attributes) : [],
                  name: e.name,
                  timeUnixNano: nanos(e.time),
                  droppedAttributesCount: e.droppedAttributesCount || 0,
                })),
                droppedEventsCount: span.droppedEventsCount,
                status: { code: span.status.code, message: span.status.message },
                links: span.links.map((l) => ({
                  attributes: l.attributes ? attributes(l.attributes) : [],
                  spanId: l.context.spanId,
                  traceId: l.context.traceId,
                  traceState: l.context.traceState?.serialize(),
                  droppedAttributesCount: l.droppedAttributesCount || 0,
                  flags: flags(l.context.traceFlags, l.context.isRemote),
                })),
                droppedLinksCount: span.droppedLinksCount,
                flags: flags(ctx.traceFlags, span.parentSpanContext?.isRemote),
              },
            ],
            schemaUrl: scope.schemaUrl,
          },
        ],
        schemaUrl: span.resource.schemaUrl || undefined,
      },
    ],
  };
  return JSON.stringify(request);
}
