// The file exporter with the real SDK pieces it runs with: spans land in their run's file as
// OTLP/JSON lines, spans that end before their run is known wait for it, and nothing else is written.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_RUN_ID } from './attributes.js';
import { spanToOtlpJson } from './otlp-json.js';
import { RunFileSpanExporter } from './run-file-exporter.js';
import { RunSpanProcessor } from './run-span-processor.js';
import { withRunId } from './spans.js';
import { traceFilePath } from './trace-path.js';

const dir = mkdtempSync(join(tmpdir(), 'flowprune-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const exporter = new RunFileSpanExporter({ dir, serialize: spanToOtlpJson });
// Every ended span, to compare the file with (reading trace files is @flowprune/trace-analysis's job).
const ended = new Map<string, ReadableSpan>();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'flowprune-test' }),
  spanProcessors: [
    new RunSpanProcessor(exporter.learn),
    new SimpleSpanProcessor(exporter),
    { onStart: () => undefined, onEnd: (s) => void ended.set(s.name, s), forceFlush: async () => undefined, shutdown: async () => undefined },
  ],
});
const tracer = provider.getTracer('test');

test('spans join their run file once any span of the trace names the run; earlier ones wait for it', async () => {
  const root = tracer.startSpan('flowprune run', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  // Before the run exists: a call whose span ends with no run known yet.
  tracer.startSpan('Describe', { kind: SpanKind.CLIENT }, rootCtx).end();
  assert.equal(exporter.pendingSpans(), 1, 'held until its trace names a run');
  // The run is created; its work carries the id as baggage.
  const runCtx = withRunId('20261124-000000-aaaaaa', rootCtx);
  const stage = tracer.startSpan('train', {}, runCtx);
  assert.equal(exporter.pendingSpans(), 0, 'the trace is routed as soon as a span starts with the baggage');
  stage.end();
  root.setAttribute(ATTR_RUN_ID, '20261124-000000-aaaaaa');
  root.end();
  await provider.forceFlush();

  const lines = readFileSync(traceFilePath(dir, '20261124-000000-aaaaaa'), 'utf8').split('\n').filter(Boolean);
  const expected = ['Describe', 'flowprune run', 'train'].map((name) => spanToOtlpJson(ended.get(name)!));
  assert.deepEqual(lines.sort(), expected.sort(), "the run's three spans, one OTLP/JSON line each (the held one included)");
  assert.equal(ended.get('train')!.attributes[ATTR_RUN_ID], '20261124-000000-aaaaaa', 'baggage copied into the span');
});

test('traces that never name a run, and unsafe run ids, write nothing', async () => {
  tracer.startSpan('health probe', {}, ROOT_CONTEXT).end();
  tracer.startSpan('evil', {}, withRunId('../../etc', ROOT_CONTEXT)).end();
  tracer.startSpan('dots', { attributes: { [ATTR_RUN_ID]: 'a/b' } }, ROOT_CONTEXT).end();
  await provider.forceFlush();
  assert.deepEqual(readdirSync(dir), ['20261124-000000-aaaaaa']);
  assert.equal(existsSync(join(dir, '..', 'etc')), false);
  assert.equal(exporter.pendingSpans(), 3);
});

test('pending spans are bounded', () => {
  const small = new RunFileSpanExporter({ dir, serialize: spanToOtlpJson, maxPendingTraces: 2, maxPendingSpans: 2 });
  const p = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(small)] });
  for (let t = 0; t < 4; t++) {
    const root = p.getTracer('t').startSpan('root', {}, ROOT_CONTEXT);
    for (let i = 0; i < 3; i++) p.getTracer('t').startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
  }
  assert.equal(small.pendingSpans(), 4, '2 traces × 2 spans');
});

test('lines are the OTLP/JSON that the SDK JSON serializer writes', () => {
  const memory: ReadableSpan[] = [];
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'x', 'flowprune.compute.backend': 'wasm' }),
    spanProcessors: [{ onStart: () => undefined, onEnd: (s) => memory.push(s), forceFlush: async () => undefined, shutdown: async () => undefined }],
  });
  const t = p.getTracer('scope', '1.2.3');
  const parent = t.startSpan('parent', {}, ROOT_CONTEXT);
  const child = t.startSpan(
    'child',
    { kind: SpanKind.SERVER, attributes: { s: 'v', i: 3, d: 0.5, b: true, arr: [1, 2], strs: ['a'] }, links: [{ context: parent.spanContext(), attributes: { why: 'x' } }] },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('ev', { n: 1 });
  child.setStatus({ code: 2, message: 'bad' });
  child.end();
  parent.end();
  for (const s of memory) {
    const ours: unknown = JSON.parse(spanToOtlpJson(s));
    const sdk: unknown = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest([s])!).toString('utf8'));
    assert.deepEqual(ours, sdk);
  }
});
