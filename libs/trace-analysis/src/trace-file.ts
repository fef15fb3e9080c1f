// Reads a run's trace file (OTLP/JSON requests, one per line) into flat span records.
import { readFileSync } from 'node:fs';
import { ATTR_SERVICE_NAME } from '@flowprune/telemetry';

export type AttrValue = string | number | boolean | AttrValue[] | null;
export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  /** Unix epoch milliseconds (fractional). */
  startMs: number;
  endMs: number;
  /** The resource's `service.name`. */
  service: string;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  status: 'UNSET' | 'OK' | 'ERROR';
}

export interface TraceFile {
  spans: SpanRecord[];
  /** Lines that were not OTLP/JSON (e.g. a line cut short by a crash). */
  skippedLines: number;
}

// The parts of OTLP/JSON (opentelemetry-proto, JSON mapping) that we read.
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const KINDS: SpanKindName[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

function anyValue(v: OtlpAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return null;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Nanoseconds since the epoch (a decimal string: beyond 2^53) as fractional milliseconds. */
function nanosToMs(n: string | number): number {
  const big = BigInt(typeof n === 'number' ? Math.round(n) : n);
  return Number(big / 1000n) / 1000;
}

export function parseTraceLines(text: string): TraceFile {
  const spans: SpanRecord[] = [];
  let skippedLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let req: OtlpRequest;
    try {
      req = JSON.parse(line) as OtlpRequest;
      if (!Array.isArray(req.resourceSpans)) throw new Error('no resourceSpans');
    } catch {
      skippedLines++;
      continue;
    }
    for (const rs of req.resourceSpans) {
      const resource = attributes(rs.resource?.attributes);
      const service = typeof resource[ATTR_SERVICE_NAME] === 'string' ? resource[ATTR_SERVICE_NAME] : 'unknown';
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
            startMs: nanosToMs(s.startTimeUnixNano),
            endMs: nanosToMs(s.endTimeUnixNano),
            service,
            attributes: attributes(s.attributes),
            resource,
            status: STATUS[s.status?.code ?? 0] ?? 'UNSET',
          });
    }
  }
  return { spans, skippedLines };
}

export function readTraceFile(path: string): TraceFile {
  return parseTraceLines(readFileSync(path, 'utf8'));
}
