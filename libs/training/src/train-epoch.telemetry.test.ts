// The training loop's telemetry with a real (small) model: per-batch metrics of waiting for data vs
// computing, and spans for the sampled batches only.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { buildNetwork, Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import type { PixelBatch } from './batch.js';
import { Sgd } from './sgd.js';
import { trainEpoch } from './train-epoch.js';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const reader = new CollectingReader();
const spans = new InMemorySpanExporter();

before(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  await initBackend({ log: () => undefined });
});

/** Batches that arrive after a delay, as from a slow data-loader. */
async function* slowBatches(n: number, delayMs: number): AsyncGenerator<PixelBatch> {
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, delayMs));
    yield { count: 2, height: 32, width: 32, channels: 3, pixels: new Uint8Array(2 * 3072).fill(i * 20), labels: [i % 10, (i + 1) % 10] };
  }
}

test('each batch records images, its wait for data and its compute time; sampled batches get a span', async () => {
  const model = Model.init(buildNetwork('vgg13', 10, [4, 'M', 8, 'M', 8, 'M', 8, 'M', 8, 'M']), 0);
  const opt = new Sgd({ lr: 0.01, momentum: 0.9, weightDecay: 0 });
  const r = await trainEpoch(model, opt, slowBatches(12, 30), 1);
  opt.dispose();
  model.dispose();
  assert.equal(r.samples, 24);
  assert.ok(r.dataSeconds >= 12 * 0.025, `waited ${r.dataSeconds} s for 12 batches 30 ms apart`);

  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  const get = (name: string) => all.find((m) => m.descriptor.name === name);
  const images = get('flowprune.training.images') as SumMetricData;
  assert.equal(images.dataPoints[0].value, 24);
  const histogram = (name: string) => {
    const v = (get(name) as HistogramMetricData).dataPoints[0].value;
    return { count: v.count, sum: v.sum ?? NaN };
  };
  const wait = histogram('flowprune.training.data_wait.duration');
  const compute = histogram('flowprune.training.compute.duration');
  const batch = histogram('flowprune.training.batch.duration');
  assert.equal(wait.count, 12);
  assert.equal(compute.count, 12);
  // The epoch also counts its last wait, for the end of the stream; the histogram counts batches.
  assert.ok(wait.sum <= r.dataSeconds && r.dataSeconds - wait.sum < 0.005, `histogram ${wait.sum} s vs epoch ${r.dataSeconds} s of waiting`);
  assert.ok(Math.abs(batch.sum - (wait.sum + compute.sum)) < 1e-6, 'batch = wait + compute');
  assert.equal(get('flowprune.training.batch.duration')?.descriptor.unit, 's');

  // FLOWPRUNE_TRACE_BATCH_EVERY defaults to 10: batches 0 and 10 of 12.
  const batchSpans = spans.getFinishedSpans().filter((s) => s.name === 'train batch');
  assert.deepEqual(batchSpans.map((s) => s.attributes['flowprune.batch.index']), [0, 10]);
  assert.ok((batchSpans[0].attributes['flowprune.data_wait.duration'] as number) >= 0.025);
});
