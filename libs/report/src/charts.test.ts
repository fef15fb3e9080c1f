import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { RunRecord } from '@flowprune/store';
import { accuracyLatencyChart } from './charts.js';

const run = (id: string, measure: string, summary?: Record<string, unknown>): RunRecord => ({
  id,
  createdAt: '',
  updatedAt: '',
  status: 'completed',
  spec: {},
  model: 'resnet56',
  dataset: 'syn',
  measure,
  pruneRatio: 0.75,
  stats: [],
  rounds: [],
  ...(summary ? { summary } : {}),
});

const m = (engine: string, batchSize: number, p50Ms: number) => ({ engine, batchSize, p50Ms, p95Ms: p50Ms, imagesPerSecond: 1, runs: 10 });

test('accuracy against latency: the smallest batch of each engine, unpruned and pruned points; runs without latency left out', () => {
  const latency = { before: [m('onnxruntime', 1, 4), m('onnxruntime', 128, 90), m('flowprune', 1, 6)], after: [m('onnxruntime', 1, 2), m('flowprune', 1, 3)] };
  const spec = accuracyLatencyChart([
    run('a', 'l1', { accuracyBeforePruning: 0.9, bestTestAccuracy: 0.8, latency }),
    run('b', 'bn', { accuracyBeforePruning: 0.9, bestTestAccuracy: 0.7 }),
    run('c', 'bn'),
  ]);
  const values = (spec.data as { values: Record<string, unknown>[] }).values;
  assert.deepEqual(
    values.map((v) => [v.measure, v.engine, v.batch, v.latency, v.accuracy]),
    [
      ['unpruned', 'onnxruntime', 1, 4, 0.9],
      ['unpruned', 'flowprune', 1, 6, 0.9],
      ['l1', 'onnxruntime', 1, 2, 0.8],
      ['l1', 'flowprune', 1, 3, 0.8],
    ],
  );
});
