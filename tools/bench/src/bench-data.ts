// `flowprune bench --suites data`: images/s that the data-loader streams over gRPC to a localhost
// consumer versus the same batches made in-process, and how far the stream is ahead of the fastest
// model's training step on this machine (the goal: ≥ 20x, so data never holds training back). The
// idx format (MNIST family: the real Fashion-MNIST files when Debian's package is installed, else
// generated idx files) is streamed too, as many images per epoch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSyntheticCifar10,
  hasIdxFiles,
  IDX_IMAGE_BYTES,
  IDX_SYSTEM_DIRS,
  iterateBatches,
  loadDataset,
  writeIdxDirectory,
  type BatchOptions,
} from '@flowprune/data';
import { launchService, makeClient, waitForReady } from '@flowprune/grpc';
import { DataLoaderServiceClient, Split, type StreamBatchesResponse } from '@flowprune/proto';
import { serviceEntry } from './paths.js';

export interface DataBenchOptions {
  /** Batch size of the stream (the paper trains at 128). */
  batchSize: number;
  /** Synthetic training images served. */
  images: number;
  /** Timed epochs, after the warm-up epochs. */
  epochs: number;
}

export interface TrainingRate {
  arch: string;
  imagesPerSecond: number;
  batchSize: number;
  backend: string;
}

export const GOAL_RATIO = 20;
/** Untimed epochs first: the first ones run before V8 has optimised the hot loops on either side. */
const WARMUP_EPOCHS = 2;

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Images/s over `epochs` epochs of StreamBatches (augment on), as a client consuming every batch. */
async function streamRate(client: DataLoaderServiceClient, o: DataBenchOptions, firstEpoch: number, dataset = 'bench'): Promise<number> {
  let images = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (let e = firstEpoch; e < firstEpoch + o.epochs; e++) {
    const call = client.streamBatches({
      dataset: { name: dataset },
      split: Split.SPLIT_TRAIN,
      batchSize: o.batchSize,
      seed: 1,
      epoch: e,
      shuffle: true,
      augment: true,
      shardIndex: 0,
      shardCount: 1,
      maxSamples: o.images,
    });
    for await (const m of call) {
      const b = (m as StreamBatchesResponse).batch!;
      images += b.count;
      bytes += b.pixels.length;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (bytes !== images * 3072) throw new Error(`stream delivered ${bytes} pixel bytes for ${images} images`);
  return images / seconds;
}

/** The same batches (same seed, epochs, augmentation) built in this process. */
function inProcessRate(dir: string, o: DataBenchOptions, firstEpoch: number): number {
  const ds = loadDataset(dir, 'cifar10-binary');
  let images = 0;
  const t0 = performance.now();
  for (let e = firstEpoch; e < firstEpoch + o.epochs; e++) {
    const opts: BatchOptions = { seed: 1, epoch: e, batchSize: o.batchSize, augment: true };
    for (const b of iterateBatches(ds.train, opts)) images += b.size;
  }
  return images / ((performance.now() - t0) / 1000);
}

/** The real Fashion-MNIST files when installed, else `images` generated ones in a fashion-mnist/ folder of `tmp`. */
function idxDataset(tmp: string, images: number): { root: string; what: string } {
  const installed = IDX_SYSTEM_DIRS['fashion-mnist'];
  if (installed && hasIdxFiles(installed)) return { root: installed, what: `Fashion-MNIST (${installed})` };
  const root = join(tmp, 'fashion-mnist');
  const grey = (n: number) => ({ images: Uint8Array.from({ length: n * IDX_IMAGE_BYTES }, (_, i) => (i * 31) % 256), labels: Uint8Array.from({ length: n }, (_, i) => i % 10) });
  writeIdxDirectory(root, { train: grey(images), test: grey(10) });
  return { root, what: `${images} generated idx images (dataset-fashion-mnist not installed)` };
}

export async function dataThroughput(o: DataBenchOptions, fastestTraining: () => Promise<TrainingRate>): Promise<void> {
  const perClass = Math.ceil(o.images / 10);
  console.log(`\n== data-loader throughput: ${perClass * 10} synthetic CIFAR-10 train images, batch ${o.batchSize}, augment on, ${o.epochs} timed epoch(s) ==`);
  const dir = mkdtempSync(join(tmpdir(), 'flowprune-bench-data-'));
  try {
    generateSyntheticCifar10({ dir: join(dir, 'cifar'), trainPerClass: perClass, testPerClass: 1, seed: 0 });
    const idx = idxDataset(dir, perClass * 10);
    const args = ['--dataset', `bench=${join(dir, 'cifar')}`, '--dataset', `idx=${idx.root}`];
    const svc = await launchService({ name: 'data-loader', entry: serviceEntry('data-loader'), args, onOutput: () => undefined });
    let stream: number;
    let idxStream: number;
    try {
      const client = makeClient(DataLoaderServiceClient, svc.address);
      await waitForReady(client);
      await streamRate(client, { ...o, epochs: WARMUP_EPOCHS }, 0); // loads the dataset, JITs both ends
      stream = await streamRate(client, o, WARMUP_EPOCHS);
      await streamRate(client, { ...o, epochs: WARMUP_EPOCHS }, 0, 'idx');
      idxStream = await streamRate(client, o, WARMUP_EPOCHS, 'idx');
      client.close();
    } finally {
      await svc.stop();
    }
    inProcessRate(join(dir, 'cifar'), { ...o, epochs: WARMUP_EPOCHS }, 0);
    const local = inProcessRate(join(dir, 'cifar'), o, WARMUP_EPOCHS);
    const train = await fastestTraining();
    const ahead = stream / train.imagesPerSecond;
    console.log(
      `stream ${fmt(stream)} img/s | in-process ${fmt(local)} img/s | stream/in-process ${(stream / local).toFixed(2)}x | ` +
        `stream/fastest-training ${fmt(ahead)}x`,
    );
    console.log(
      `fastest training: ${train.arch} at ${train.imagesPerSecond.toFixed(1)} img/s (batch ${train.batchSize}, ${train.backend}); ` +
        `goal stream >= ${GOAL_RATIO}x training: ${ahead >= GOAL_RATIO ? 'met' : 'NOT met'}`,
    );
    console.log(
      `idx: ${idx.what}, ${fmt(perClass * 10)} train images per epoch (28x28 grey padded to 32x32x3): stream ${fmt(idxStream)} img/s | ` +
        `idx/CIFAR stream ${(idxStream / stream).toFixed(2)}x | stream/fastest-training ${fmt(idxStream / train.imagesPerSecond)}x`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
