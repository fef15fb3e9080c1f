import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseTraceLines, type SpanRecord } from './trace-file.js';
import { summariseTrace } from './trace-summary.js';

let n = 0;
const mk = (name: string, service: string, kind: SpanRecord['kind'], startMs: number, endMs: number, parent?: SpanRecord, attributes: SpanRecord['attributes'] = {}): SpanRecord => ({
  traceId: 'trace1',
  spanId: `s${++n}`,
  parentSpanId: parent?.spanId,
  name,
  kind,
  startMs,
  endMs,
  service,
  attributes,
  resource: { 'service.name': service },
  status: 'UNSET',
});

const T = 'flowprune-trainer';
function sampleRun(): SpanRecord[] {
  // Times in ms. A run of 10 s: train 6 s (1 s of it waiting for data), test 1 s, a round with an
  // estimate (0.8 s, 0.6 s in the estimator) and an evaluate (1 s), a checkpoint, 0.2 s outside stages.
  const cli = mk('flowprune run', 'flowprune-cli', 'INTERNAL', -100, 10_100);
  const startC = mk('StartRun', 'flowprune-cli', 'CLIENT', -90, -40, cli);
  const startS = mk('StartRun', T, 'SERVER', -85, -45, startC);
  const run = mk('run', T, 'INTERNAL', 0, 10_000, startS);
  const epoch = mk('epoch', T, 'INTERNAL', 0, 9_900, run);
  const train = mk('train', T, 'INTERNAL', 100, 6_100, epoch, { 'flowprune.stage': 'train', 'flowprune.data_wait.duration': 1, 'flowprune.images': 600 });
  const streamC = mk('StreamBatches', T, 'CLIENT', 100, 6_100, train);
  const streamS = mk('StreamBatches', 'flowprune-data-loader', 'SERVER', 110, 6_050, streamC, {
    'flowprune.rpc.streaming': true,
    'flowprune.stream.produce.duration': 0.3,
  });
  const batch = mk('train batch', T, 'INTERNAL', 100, 700, train, { 'flowprune.data_wait.duration': 0.1 });
  const test_ = mk('test', T, 'INTERNAL', 6_100, 7_100, epoch, { 'flowprune.stage': 'test', 'flowprune.data_wait.duration': 0 });
  const round = mk('round', T, 'INTERNAL', 7_100, 9_900, epoch);
  const est = mk('estimate', T, 'INTERNAL', 7_100, 7_900, round, { 'flowprune.stage': 'estimate', 'flowprune.measure': 'mag_based' });
  const estC = mk('Estimate', T, 'CLIENT', 7_110, 7_890, est);
  const estS = mk('Estimate', 'flowprune-importance-estimator', 'SERVER', 7_150, 7_750, estC);
  const prune = mk('prune', T, 'INTERNAL', 7_900, 8_400, round, { 'flowprune.stage': 'prune' });
  const evalSt = mk('evaluate', T, 'INTERNAL', 8_400, 9_400, round, { 'flowprune.stage': 'evaluate' });
  const evalC = mk('Evaluate', T, 'CLIENT', 8_400, 9_400, evalSt);
  const evalS = mk('Evaluate', 'flowprune-evaluator', 'SERVER', 8_420, 9_380, evalC);
  const ck = mk('checkpoint', T, 'INTERNAL', 9_400, 9_900, round, { 'flowprune.stage': 'checkpoint' });
  return [cli, startC, startS, run, epoch, train, streamC, streamS, batch, test_, round, est, estC, estS, prune, evalSt, evalC, evalS, ck];
}

const close = (a: number, b: number, msg: string) => assert.ok(Math.abs(a - b) < 1e-6, `${msg}: ${a} vs ${b}`);

test('stages split training into compute and data wait and add up to the time inside stages', () => {
  const s = summariseTrace(sampleRun(), { wallSeconds: 10 });
  assert.deepEqual(
    s.stages.map((r) => r.stage),
    ['train', 'data wait', 'test', 'estimate', 'prune', 'evaluate', 'checkpoint'],
  );
  const by = Object.fromEntries(s.stages.map((r) => [r.stage, r.seconds]));
  close(by.train, 5, 'train compute');
  close(by['data wait'], 1, 'data wait');
  close(s.stagesTotal, 9.8, 'stages total');
  assert.equal(s.wallSource, 'run record');
  close(s.training.imagesPerSecond, 100, 'images/s');
  assert.deepEqual(s.estimates, [{ measure: 'mag_based', calls: 1, seconds: 0.8 }]);
  assert.deepEqual(s.traceIds, ['trace1']);
});

test('services: busy time, what the run waited on, gRPC transport; the critical path skips the stream', () => {
  const s = summariseTrace(sampleRun());
  assert.equal(s.wallSource, 'run span');
  close(s.wallSeconds, 10, 'wall from the run span');
  const row = Object.fromEntries(s.byService.map((r) => [r.service, r]));
  close(row['flowprune-importance-estimator'].busySeconds, 0.6, 'estimator busy');
  close(row['flowprune-importance-estimator'].blockingSeconds, 0.78, 'run waited on the estimator');
  close(row['flowprune-evaluator'].blockingSeconds, 1, 'run waited on the evaluator');
  close(row['flowprune-data-loader'].busySeconds, 0.3, 'data-loader producing');
  close(row['flowprune-data-loader'].blockingSeconds, 1, 'run waited for data');
  assert.equal(row['flowprune-cli'], undefined, 'only the run subtree is attributed');
  close(s.grpcTransportSeconds, 0.18 + 0.04, 'client minus server time');
  close(s.criticalPath.seconds, 10, 'the path covers the run');
  const path = Object.fromEntries(s.criticalPath.rows.map((r) => [`${r.service} ${r.name}`, r.seconds]));
  assert.equal(path['flowprune-data-loader StreamBatches'], undefined, 'streams are not on the path');
  close(path['flowprune-data-loader data wait'], 1, 'waiting for data is charged to the data-loader');
  close(path['flowprune-importance-estimator Estimate'], 0.6, 'estimator on the path');
});

test('trace files: OTLP/JSON lines parse back; unreadable lines are counted, not fatal', () => {
  const line = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'flowprune-trainer' } }] },
        scopeSpans: [
          {
            scope: { name: 'flowprune' },
            spans: [
              {
                traceId: 'ab'.repeat(16),
                spanId: 'cd'.repeat(8),
                parentSpanId: 'ef'.repeat(8),
                name: 'train',
                kind: 1,
                startTimeUnixNano: '1795000000123456789',
                endTimeUnixNano: '1795000001123456789',
                attributes: [
                  { key: 'flowprune.stage', value: { stringValue: 'train' } },
                  { key: 'flowprune.images', value: { intValue: '40' } },
                  { key: 'flowprune.data_wait.duration', value: { doubleValue: 0.25 } },
                ],
                status: { code: 2 },
              },
            ],
          },
        ],
      },
    ],
  });
  const { spans, skippedLines } = parseTraceLines(`${line}\n{"cut short\n\n`);
  assert.equal(skippedLines, 1);
  assert.equal(spans.length, 1);
  const [s] = spans;
  assert.equal(s.service, 'flowprune-trainer');
  assert.equal(s.kind, 'INTERNAL');
  assert.equal(s.status, 'ERROR');
  assert.equal(s.parentSpanId, 'ef'.repeat(8));
  close(s.endMs - s.startMs, 1000, 'duration from nanosecond strings');
  assert.equal(s.startMs, 1795000000123.456);
  assert.deepEqual(s.attributes, { 'flowprune.stage': 'train', 'flowprune.images': 40, 'flowprune.data_wait.duration': 0.25 });
});
