import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { criticalPath } from './critical-path.js';
import type { SpanRecord } from './trace-file.js';
import { TraceTree } from './trace-tree.js';

const span = (spanId: string, parent: string | undefined, startMs: number, endMs: number, extra: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: 't',
  spanId,
  parentSpanId: parent,
  name: spanId,
  kind: 'INTERNAL',
  startMs,
  endMs,
  service: 'svc',
  attributes: {},
  resource: {},
  status: 'UNSET',
  ...extra,
});

const byName = (segs: ReturnType<typeof criticalPath>) => {
  const m = new Map<string, number>();
  for (const s of segs) m.set(s.span.name, (m.get(s.span.name) ?? 0) + (s.toMs - s.fromMs));
  return Object.fromEntries([...m].sort());
};

test('the critical path follows the last-finishing child back to the start and covers the root exactly', () => {
  // root [0,10]: a [1,4] overlaps b [3,9]; b holds c [5,8].
  const spans = [span('root', undefined, 0, 10), span('a', 'root', 1, 4), span('b', 'root', 3, 9), span('c', 'b', 5, 8)];
  const tree = new TraceTree(spans);
  const path = criticalPath(tree, spans[0]);
  assert.deepEqual(byName(path), { a: 2, b: 3, c: 3, root: 2 });
  assert.equal(path.reduce((x, s) => x + s.toMs - s.fromMs, 0), 10);
});

test('server streams run beside their caller and are not on the path', () => {
  const stream = { attributes: { 'flowprune.rpc.streaming': true }, kind: 'SERVER' as const };
  const spans = [
    span('train', undefined, 0, 10),
    span('StreamBatches client', 'train', 0, 10, { kind: 'CLIENT' }),
    span('StreamBatches server', 'StreamBatches client', 0.5, 9.5, stream),
    span('batch', 'train', 2, 3),
  ];
  const tree = new TraceTree(spans);
  assert.equal(tree.isStreaming(spans[1]), true, 'a client span is streaming when its server is');
  assert.deepEqual(byName(criticalPath(tree, spans[0])), { batch: 1, train: 9 });
});
