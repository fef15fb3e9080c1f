// `flowprune bench --suites load`: concurrent calls against one service instance. Estimate
// (mag_based on an inline ResNet-56) with many callers in flight, and StreamBatches with many
// concurrent full-epoch streams. Prints calls, concurrency, throughput, p50/p99 latency, the
// service's peak RSS and requests lost (calls that got neither a result nor a status: must be 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, isServiceError, launchService, makeClient, processMemory, waitForReady, type LaunchedService } from '@flowprune/grpc';
import { buildNetwork, Model } from '@flowprune/models';
import { DataLoaderServiceClient, ImportanceEstimatorServiceClient, Split, type StreamBatchesResponse } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';
import { serviceEntry } from './paths.js';

export interface LoadBenchOptions {
  /** Estimate calls in all, and how many are in flight at once. */
  estimateCalls: number;
  estimateConcurrency: number;
  /** Concurrent StreamBatches epochs, each of `images` synthetic images. */
  streams: number;
  images: number;
}

interface LoadRow {
  rpc: string;
  calls: number;
  concurrency: number;
  perSecond: string;
  p50: number;
  p99: number;
  peakRssMiB: number;
  refused: number;
  lost: number;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const MiB = 1024 * 1024;

/** Runs `calls` tasks with at most `concurrency` in flight; latencies (ms) and outcomes. */
async function drive(calls: number, concurrency: number, task: () => Promise<void>): Promise<{ ms: number[]; ok: number; refused: number; seconds: number }> {
  const ms: number[] = [];
  let next = 0;
  let ok = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < calls) {
        const t = performance.now();
        try {
          await task();
          ok++;
        } catch (e) {
          if (!isServiceError(e)) throw e;
          refused++; // a status (e.g. RESOURCE_EXHAUSTED): answered, not lost
        }
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms: ms.sort((a, b) => a - b), ok, refused, seconds: (performance.now() - t0) / 1000 };
}

function row(rpc: string, calls: number, concurrency: number, r: Awaited<ReturnType<typeof drive>>, svc: LaunchedService, unit: (perSec: number) => string): LoadRow {
  return {
    rpc,
    calls,
    concurrency,
    perSecond: unit(r.ok / r.seconds),
    p50: quantile(r.ms, 0.5),
    p99: quantile(r.ms, 0.99),
    peakRssMiB: (processMemory(svc.pid)?.peakRss ?? NaN) / MiB,
    refused: r.refused,
    lost: calls - r.ok - r.refused,
  };
}

export async function loadFigures(o: LoadBenchOptions): Promise<LoadRow[]> {
  console.log(`\n== load: ${o.estimateCalls} Estimate calls (${o.estimateConcurrency} in flight) and ${o.streams} concurrent StreamBatches epochs of ${o.images} images ==`);
  const dir = mkdtempSync(join(tmpdir(), 'flowprune-bench-load-'));
  const procs: LaunchedService[] = [];
  const rows: LoadRow[] = [];
  try {
    generateSyntheticCifar10({ dir, trainPerClass: Math.ceil(o.images / 10), testPerClass: 1, seed: 0 });
    const loader = await launchService({ name: 'data-loader', entry: serviceEntry('data-loader'), args: ['--dataset', `bench=${dir}`], onOutput: () => undefined });
    procs.push(loader);
    const est = await launchService({
      name: 'importance-estimator',
      entry: serviceEntry('importance-estimator'),
      args: ['--store', join(dir, 'runs'), '--data-loader', loader.address],
      onOutput: () => undefined,
    });
    procs.push(est);

    await initBackend({ log: () => undefined });
    const m = Model.init(buildNetwork('resnet56', 10), 1);
    const weights = Buffer.from(m.toSafeTensors());
    m.dispose();
    const estimator = makeClient(ImportanceEstimatorServiceClient, est.address);
    await waitForReady(estimator);
    const estimate = async () => void (await call(estimator, estimator.estimate, { model: { safetensors: weights }, measure: 'mag_based', params: {}, batches: [], seed: 0, epoch: 0, layers: [] }));
    await estimate(); // warm-up
    const e = await drive(o.estimateCalls, o.estimateConcurrency, estimate);
    rows.push(row('Estimate', o.estimateCalls, o.estimateConcurrency, e, est, (x) => `${x.toFixed(1)} calls/s`));
    estimator.close();

    const loaderClient = makeClient(DataLoaderServiceClient, loader.address);
    let epoch = 0;
    const stream = async () => {
      const req = { dataset: { name: 'bench' }, split: Split.SPLIT_TRAIN, batchSize: 128, seed: 1, epoch: epoch++, shuffle: true, augment: true, shardIndex: 0, shardCount: 1, maxSamples: 0 };
      let images = 0;
      for await (const msg of loaderClient.streamBatches(req)) images += (msg as StreamBatchesResponse).batch?.count ?? 0;
      if (images < o.images - 10) throw new Error(`a stream delivered ${images} images`);
    };
    await stream(); // loads the dataset
    const s = await drive(o.streams, o.streams, stream);
    rows.push(row('StreamBatches', o.streams, o.streams, s, loader, (x) => `${Math.round(x * o.images).toLocaleString('en-US')} img/s`));
    loaderClient.close();
  } finally {
    await Promise.all(procs.reverse().map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  const head = ['rpc', 'calls', 'concurrency', 'throughput', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'refused', 'lost'];
  const cells = rows.map((r) => [r.rpc, String(r.calls), String(r.concurrency), r.perSecond, r.p50.toFixed(0), r.p99.toFixed(0), r.peakRssMiB.toFixed(0), String(r.refused), String(r.lost)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  for (const line of [head, ...cells]) console.log(line.map((c, i) => c.padStart(widths[i])).join('  '));
  return rows;
}
