import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { telemetryConfig, traceDirectory } from './config.js';

test('trace files follow FLOWPRUNE_TRACE_DIR, then --store/--runs-dir, then the store variables; never a URI', () => {
  const argv = ['node', 'main.ts', '--store', 'mystore'];
  assert.equal(traceDirectory({ FLOWPRUNE_TRACE_DIR: '/t' }, argv, '/cwd'), '/t');
  assert.equal(traceDirectory({}, argv, '/cwd'), '/cwd/mystore');
  assert.equal(traceDirectory({}, ['node', 'x', '--store=other'], '/cwd'), '/cwd/other');
  assert.equal(traceDirectory({}, ['node', 'x', '--runs-dir', '/abs/runs'], '/cwd'), '/abs/runs');
  assert.equal(traceDirectory({ FLOWPRUNE_STORE: 'mongodb://db:27017/fp' }, ['node', 'x', '--store', 'mongodb://db/fp'], '/cwd'), '/cwd/runs');
  assert.equal(traceDirectory({ FLOWPRUNE_STORE: 'mongodb://db:27017/fp', FLOWPRUNE_RUNS_DIR: 'r2' }, [], '/cwd'), '/cwd/r2');
  assert.equal(traceDirectory({}, [], '/cwd', '/ws/runs'), '/ws/runs');
});

test('OTEL_SDK_DISABLED, OTEL_SERVICE_NAME and the OTLP endpoint are honoured', () => {
  assert.equal(telemetryConfig('svc', {}, [], '/').enabled, true);
  assert.equal(telemetryConfig('svc', { OTEL_SDK_DISABLED: 'TRUE' }, [], '/').enabled, false);
  assert.equal(telemetryConfig('svc', { OTEL_SDK_DISABLED: 'false' }, [], '/').enabled, true);
  assert.equal(telemetryConfig('svc', {}, [], '/').serviceName, 'svc');
  assert.equal(telemetryConfig('svc', { OTEL_SERVICE_NAME: 'renamed' }, [], '/').serviceName, 'renamed');
  assert.equal(telemetryConfig('svc', {}, [], '/').otlpEndpoint, undefined);
  assert.equal(telemetryConfig('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, [], '/').otlpEndpoint, 'http://c:4317');
  assert.equal(telemetryConfig('svc', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, [], '/').otlpEndpoint, 'http://c:4318/v1/traces');
});
