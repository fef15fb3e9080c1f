// Trace files never carry the command line: a process started with a password-bearing store URI and
// a key path writes its run's trace.jsonl, which must keep the process resource but not those flags.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { processDetector } from '@opentelemetry/resources';
import { withoutCommandLine } from './process-resource.js';
import { traceFilePath } from './trace-path.js';

const dir = mkdtempSync(join(tmpdir(), 'flowprune-secret-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the process detector keeps pid and runtime but drops the command line', () => {
  const attributes = withoutCommandLine(processDetector).detect().attributes ?? {};
  assert.equal(attributes['process.pid'], process.pid);
  assert.equal(attributes['process.command_args'], undefined);
  assert.ok(processDetector.detect().attributes?.['process.command_args'], 'the plain detector does record it (what is being removed)');
});

test("a traced process's run file has no password from its flags", () => {
  const password = 'Tr4ce-S3cret-PW';
  const runId = '20261124-000000-5ec7e7';
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'testdata/secret-args-probe.ts'), '--store', `mongodb://alice:${password}@127.0.0.1:9/flowprune`, '--tls-key', '/etc/flowprune/tls/key.pem'],
    { env: { ...process.env, OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: '', FLOWPRUNE_TRACE_DIR: dir, PROBE_RUN_ID: runId }, encoding: 'utf8' },
  );
  const trace = readFileSync(traceFilePath(dir, runId), 'utf8');
  assert.match(trace, /probe work/, 'the span was written');
  assert.match(trace, /"process\.pid"/, 'with the process resource');
  for (const text of [trace, stdout]) {
    assert.ok(!text.includes(password), 'no password');
    assert.ok(!text.includes('key.pem'), 'no key path');
  }
});
