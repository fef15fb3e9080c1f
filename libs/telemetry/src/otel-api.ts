// The OpenTelemetry API, loaded as CommonJS: the SDK packages (CommonJS) load that build anyway, so
// flowprune's code shares the one copy instead of also evaluating the ESM build — which, through
// tsx's loader, costs about 0.1 s of CPU at every process start. (Two copies would still work:
// the API keeps its registrations on a global.)
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('@opentelemetry/api') as typeof import('@opentelemetry/api');

export const { context, metrics, propagation, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT } = api;
export type { Attributes, Context, Counter, Gauge, Histogram, Span } from '@opentelemetry/api';
/** The enums' types, beside their values above. */
export type SpanKind = import('@opentelemetry/api').SpanKind;
export type SpanStatusCode = import('@opentelemetry/api').SpanStatusCode;
