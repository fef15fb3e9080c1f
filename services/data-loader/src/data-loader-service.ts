// DataLoaderService: request validation → libs/data → wire messages.
import { invalidArgument, serverStream, unary } from '@flowprune/grpc';
import {
  batchCount,
  CIFAR_CHANNELS,
  CIFAR_SIDE,
  classCounts,
  DatasetRegistry,
  iterateBatches,
  makeBatch,
  planEpoch,
  selectClassBalanced,
  type Batch,
  type LabelledImages,
  type LoadedDataset,
} from '@flowprune/data';
import {
  Split,
  type DataLoaderServiceServer,
  type DescribeRequest,
  type DescribeResponse,
  type ImageBatch,
  type SampleBalancedRequest,
  type SampleBalancedResponse,
  type StreamBatchesRequest,
  type StreamBatchesResponse,
} from '@flowprune/proto';

const MAX_BATCH = 4096;

function toImageBatch(b: Batch, index: number): ImageBatch {
  return {
    index,
    count: b.size,
    height: CIFAR_SIDE,
    width: CIFAR_SIDE,
    channels: CIFAR_CHANNELS,
    pixels: Buffer.from(b.pixels.buffer, b.pixels.byteOffset, b.pixels.byteLength),
    labels: Array.from(b.labels),
    sampleIndices: Array.from(b.indices),
  };
}

export function makeDataLoaderService(registry: DatasetRegistry): DataLoaderServiceServer {
  const datasetOf = (req: { dataset?: { name: string } }) => {
    if (!req.dataset?.name) throw invalidArgument('dataset.name', `is required; this data-loader serves ${registry.names().join(', ')}`);
    return { name: req.dataset.name, ds: registry.get(req.dataset.name) };
  };
  const splitOf = (split: Split, ds: LoadedDataset): LabelledImages => {
    if (split === Split.SPLIT_TRAIN) return ds.train;
    if (split === Split.SPLIT_TEST) return ds.test;
    throw invalidArgument('split', 'must be SPLIT_TRAIN or SPLIT_TEST');
  };
  // The paper augments only training data; a test split is always served as stored.
  const augmentOf = (split: Split, augment: boolean): boolean => {
    if (augment && split === Split.SPLIT_TEST) throw invalidArgument('augment', 'the test split is never augmented; send augment=false');
    return augment;
  };
  const seedOf = (seed: number) => {
    if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument('seed', `must be a non-negative integer, got ${seed}`);
    return seed >>> 0;
  };

  return {
    describe: unary<DescribeRequest, DescribeResponse>(async (req) => {
      const { name, ds } = datasetOf(req);
      const n = ds.classNames.length;
      return {
        name,
        format: ds.format,
        numClasses: n,
        classNames: ds.classNames,
        trainSize: ds.train.count,
        testSize: ds.test.count,
        height: CIFAR_SIDE,
        width: CIFAR_SIDE,
        channels: CIFAR_CHANNELS,
        trainClassCounts: classCounts(ds.train, n),
        testClassCounts: classCounts(ds.test, n),
      };
    }),

    streamBatches: serverStream<StreamBatchesRequest, StreamBatchesResponse>(async function* (req) {
      const { ds } = datasetOf(req);
      const split = splitOf(req.split, ds);
      if (!Number.isInteger(req.batchSize) || req.batchSize < 1 || req.batchSize > MAX_BATCH)
        throw invalidArgument('batch_size', `must be in 1..${MAX_BATCH}, got ${req.batchSize}`);
      const shardCount = req.shardCount || 1;
      if (req.shardIndex >= shardCount)
        throw invalidArgument('shard_index', `must be below shard_count (${shardCount}), got ${req.shardIndex}`);
      const shard = { index: req.shardIndex, count: shardCount };
      const seed = seedOf(req.seed);
      let total = batchCount(split.count, req.batchSize, shard);
      // max_samples: whole batches while fewer than max_samples were sent.
      if (req.maxSamples > 0) total = Math.min(total, Math.ceil(req.maxSamples / req.batchSize));
      let index = 0;
      const augment = augmentOf(req.split, req.augment);
      for (const b of iterateBatches(split, { seed, epoch: req.epoch, shuffle: req.shuffle, shard, batchSize: req.batchSize, augment })) {
        if (index >= total) break;
        yield { batch: toImageBatch(b, index), totalBatches: total };
        index++;
      }
    }),

    sampleBalanced: unary<SampleBalancedRequest, SampleBalancedResponse>(async (req) => {
      const { name, ds } = datasetOf(req);
      const split = splitOf(req.split, ds);
      if (!Number.isInteger(req.perClass) || req.perClass < 1) throw invalidArgument('per_class', `must be ≥ 1, got ${req.perClass}`);
      const seed = seedOf(req.seed);
      const plan = planEpoch(split.count, { seed, epoch: req.epoch, shuffle: req.shuffle });
      const orderedLabels = Array.from(plan.indices, (i) => split.labels[i]);
      const sel = selectClassBalanced(orderedLabels, req.perClass, ds.classNames.length, `dataset ${name} (${Split[req.split]})`);
      const augment = augmentOf(req.split, req.augment) ? { seed, epoch: req.epoch } : null;
      return {
        groups: sel.groups.map((g, c) => {
          const idx = Uint32Array.from(g, (p) => plan.indices[p]);
          const pos = Uint32Array.from(g, (p) => plan.positions[p]);
          return toImageBatch(makeBatch(split, idx, pos, augment), c);
        }),
      };
    }),
  };
}
