// One traced pipeline end to end: the real CLI starts the four services with tracing on (to per-run
// files), runs the tiny prune+train run of the trainer's contract test, and `flowprune trace`
// summarises it. The spans must form one trace across all five processes with correct parent links.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { traceFilePath } from '@flowprune/telemetry';
import { readTraceFile, type SpanRecord } from '@flowprune/trace-analysis';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const root = mkdtempSync(join(tmpdir(), 'flowprune-tracing-'));
after(() => rmSync(root, { recursive: true, force: true }));
const runs = join(root, 'runs');

// Tracing on, to files: whatever the caller's environment says about OTLP.
const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: 'false' };
for (const k of Object.keys(env)) if (k.startsWith('OTEL_EXPORTER_OTLP') || k === 'FLOWPRUNE_TRACE_DIR' || k === 'OTEL_SERVICE_NAME') delete env[k];

const SERVICES = ['flowprune-cli', 'flowprune-trainer', 'flowprune-data-loader', 'flowprune-importance-estimator', 'flowprune-evaluator'];
let runId: string;
let spans: SpanRecord[];

before(async () => {
  const data = join(root, 'syn');
  generateSyntheticCifar10({ dir: data, trainPerClass: 4, testPerClass: 2, seed: 9 });
  const spec = join(root, 'tiny.yaml');
  writeFileSync(
    spec,
    [
      'name: traced',
      'arch: resnet56',
      'dataset: syn',
      `datasets: {syn: ${JSON.stringify(data)}}`,
      'seed: 1',
      'measure: mag_based',
      'prune_percent: 50',
      'n_rounds: 1',
      'temperature: 5',
      'lr_prune: 0.05',
      'momentum: 0.9',
      'weight_decay: 0.0001',
      'schedule: [[0.05, 2]]',
      'batch_size: 20',
      'eval_batch_size: 20',
      'augment: true',
      'preserve_momentum: true',
    ].join('\n'),
  );
  await run(process.execPath, [CLI, 'run', spec, '--store', runs], { env, maxBuffer: 1 << 24, timeout: 240_000 });
  [runId] = readdirSync(runs);
  spans = readTraceFile(traceFilePath(runs, runId)).spans;
});

const named = (service: string, name: string) => spans.filter((s) => s.service === service && s.name === name);

test('the run is one trace with spans from the CLI and all four services', () => {
  const record = JSON.parse(readFileSync(join(runs, runId, 'run.json'), 'utf8')) as { status: string };
  assert.equal(record.status, 'completed');
  assert.deepEqual([...new Set(spans.map((s) => s.traceId))].length, 1, 'one trace id');
  assert.deepEqual([...new Set(spans.map((s) => s.service))].sort(), [...SERVICES].sort());
  // The run id travels as baggage: every span under the run span, in every process, carries it.
  const [runSpan] = named('flowprune-trainer', 'run');
  const under = (s: SpanRecord): boolean => s === runSpan || (s.parentSpanId !== undefined && under(spans.find((p) => p.spanId === s.parentSpanId) ?? runSpan));
  const inRun = spans.filter((s) => s.parentSpanId !== undefined && under(s));
  assert.ok(new Set(inRun.map((s) => s.service)).size === 4, 'the run reaches all four services');
  for (const s of inRun) assert.equal(s.attributes['flowprune.run.id'], runId, `${s.service} ${s.name} names the run`);
  const backend = (svc: string) => spans.find((s) => s.service === svc)!.resource['flowprune.compute.backend'];
  assert.equal(backend('flowprune-data-loader'), 'none');
  assert.ok(typeof backend('flowprune-trainer') === 'string' && backend('flowprune-trainer') !== 'none', 'the trainer names its backend');
  for (const stage of ['train', 'test', 'estimate', 'prune', 'evaluate', 'checkpoint'])
    assert.ok(spans.some((s) => s.attributes['flowprune.stage'] === stage), `a ${stage} stage span`);
  assert.ok(named('flowprune-trainer', 'train batch').length > 0, 'sampled batch spans');
});

test('parent links: one root (the CLI), every other parent in the trace, calls nest client → server', () => {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => !s.parentSpanId);
  assert.deepEqual(roots.map((s) => `${s.service} ${s.name}`), ['flowprune-cli flowprune run']);
  for (const s of spans) if (s.parentSpanId) assert.ok(byId.has(s.parentSpanId), `parent of ${s.service} ${s.name} is in the trace`);

  // CLI run → CLI StartRun client → trainer StartRun server → the run loop's run span.
  const [runSpan] = named('flowprune-trainer', 'run');
  const startServer = byId.get(runSpan.parentSpanId!)!;
  assert.equal(`${startServer.service} ${startServer.kind} ${startServer.name}`, 'flowprune-trainer SERVER grpc.flowprune.v1.TrainerService/StartRun');
  const startClient = byId.get(startServer.parentSpanId!)!;
  assert.equal(`${startClient.service} ${startClient.kind}`, 'flowprune-cli CLIENT');
  assert.equal(byId.get(startClient.parentSpanId!)!.name, 'flowprune run');

  // Every server span of the three callees hangs under a client span of the same method, from the
  // trainer — or, for the data-loader, from the trainer or the evaluator (which streams test batches).
  for (const svc of ['flowprune-importance-estimator', 'flowprune-evaluator', 'flowprune-data-loader']) {
    const servers = spans.filter((s) => s.service === svc && s.kind === 'SERVER');
    assert.ok(servers.length > 0, `${svc} served calls`);
    for (const s of servers) {
      const parent = byId.get(s.parentSpanId!)!;
      assert.equal(parent.kind, 'CLIENT', `${svc} ${s.name} has a client parent`);
      assert.equal(parent.name, s.name, 'same RPC method on both sides');
      const callers = svc === 'flowprune-data-loader' ? ['flowprune-trainer', 'flowprune-evaluator'] : ['flowprune-trainer'];
      assert.ok(callers.includes(parent.service), `${svc} ${s.name} called by ${parent.service}`);
    }
  }
  const trainerStreams = spans.filter((s) => s.service === 'flowprune-data-loader' && s.name.endsWith('/StreamBatches') && byId.get(s.parentSpanId!)!.service === 'flowprune-trainer');
  assert.ok(trainerStreams.length >= 2, 'the trainer streamed train and test batches');
  assert.ok(trainerStreams.every((s) => s.attributes['flowprune.rpc.streaming'] === true), 'server streams are marked');
  // The trainer's calls are made from its stage spans: an Estimate client span sits under the estimate stage.
  const estimateCall = spans.find((s) => s.service === 'flowprune-trainer' && s.kind === 'CLIENT' && s.name.endsWith('/Estimate'))!;
  assert.equal(byId.get(estimateCall.parentSpanId!)!.attributes['flowprune.stage'], 'estimate');
});

test('`flowprune trace` prints a stage breakdown whose total is within 10 % of the run wall time', async () => {
  const json = JSON.parse((await run(process.execPath, [CLI, 'trace', runId, '--store', runs, '--json'], { env })).stdout) as {
    wallSeconds: number;
    wallSource: string;
    stagesTotal: number;
    stages: { stage: string; seconds: number }[];
    byService: { service: string }[];
    criticalPath: { seconds: number };
  };
  assert.equal(json.wallSource, 'run record');
  assert.ok(Math.abs(json.stagesTotal - json.wallSeconds) / json.wallSeconds < 0.1, `stages ${json.stagesTotal} s vs wall ${json.wallSeconds} s`);
  assert.deepEqual(
    json.stages.map((r) => r.stage),
    ['train', 'data wait', 'test', 'estimate', 'prune', 'evaluate', 'checkpoint'],
  );
  for (const svc of SERVICES.slice(1)) assert.ok(json.byService.some((r) => r.service === svc), `${svc} in the by-service table`);
  assert.ok(Math.abs(json.criticalPath.seconds - json.wallSeconds) / json.wallSeconds < 0.1, 'the critical path spans the run');

  const text = (await run(process.execPath, [CLI, 'trace', runId, '--store', runs], { env })).stdout;
  const total = Number(/^total\s+([\d.]+)/m.exec(text)?.[1]);
  const wall = Number(/^wall time ([\d.]+) s \(run record\)/m.exec(text)?.[1]);
  assert.ok(total > 0 && wall > 0, text);
  assert.ok(Math.abs(total - wall) / wall < 0.1, `printed total ${total} s vs wall ${wall} s`);
  for (const part of ['train (compute)', 'data wait', 'critical path', 'flowprune-importance-estimator', 'img/s']) assert.ok(text.includes(part), `prints ${part}`);
});
