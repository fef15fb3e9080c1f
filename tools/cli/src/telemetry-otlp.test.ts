// OTLP export: a process that starts telemetry with OTEL_EXPORTER_OTLP_ENDPOINT set sends its spans
// (gRPC client and server spans included, with their parent links) and metrics to the collector —
// here a loopback HTTP server speaking OTLP/JSON — and flushes them when it exits on its own.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseTraceLines, type SpanRecord } from '@flowprune/trace-analysis';

const bodies: { path: string; body: string }[] = [];
const collector = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    bodies.push({ path: req.url ?? '', body });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
after(() => collector.close());

let spans: SpanRecord[] = [];
let metricsJson = '';

before(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const addr = collector.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OTEL_SDK_DISABLED: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
    TSX_TSCONFIG_PATH: join(import.meta.dirname, '../../../tsconfig.json'),
  };
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'testdata/otlp-probe.ts')], { env, timeout: 60_000 });
  spans = bodies.filter((b) => b.path === '/v1/traces').flatMap((b) => parseTraceLines(b.body).spans);
  metricsJson = bodies
    .filter((b) => b.path === '/v1/metrics')
    .map((b) => b.body)
    .join('\n');
});

test('spans reach the collector at exit, with gRPC client and server spans linked in one trace', () => {
  const names = spans.map((s) => `${s.kind} ${s.name}`).sort();
  assert.deepEqual(names, [
    'CLIENT grpc.flowprune.v1.DataLoaderService/Describe',
    'CLIENT grpc.flowprune.v1.DataLoaderService/StreamBatches',
    'INTERNAL otlp probe',
    'SERVER grpc.flowprune.v1.DataLoaderService/Describe',
    'SERVER grpc.flowprune.v1.DataLoaderService/StreamBatches',
  ]);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const server of spans.filter((s) => s.kind === 'SERVER')) {
    const client = byId.get(server.parentSpanId!)!;
    assert.equal(client.kind, 'CLIENT');
    assert.equal(client.name, server.name);
    assert.equal(byId.get(client.parentSpanId!)!.name, 'otlp probe');
    assert.equal(server.attributes['flowprune.run.id'], '20261124-000000-0a0b0c', 'baggage crossed the call');
  }
  const stream = spans.find((s) => s.kind === 'SERVER' && s.name.endsWith('StreamBatches'))!;
  assert.equal(stream.attributes['flowprune.rpc.streaming'], true);
  assert.equal(stream.attributes['flowprune.stream.messages'], 3);
  const r = spans[0].resource;
  assert.equal(r['service.name'], 'flowprune-otlp-probe');
  assert.equal(r['service.namespace'], 'flowprune');
  assert.equal(r['flowprune.compute.backend'], 'none');
  assert.equal(typeof r['service.instance.id'], 'string');
});

test('metrics reach the collector at exit', () => {
  assert.match(metricsJson, /"name":"flowprune\.training\.images"/);
  assert.match(metricsJson, /"as(Double|Int)":"?7"?/);
});
