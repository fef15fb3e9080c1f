// DataLoaderService: request validation → libs/data → wire messages.
import { serverStream, unary } from '@flowprune/grpc';
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
import { checkDatasetRef, checkPerClass, validateSampleBalanced, validateStreamBatches, type DataSplit } from './request-validation.js';

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
  const serves = () => registry.names();
  const splitOf = (split: DataSplit, ds: LoadedDataset): LabelledImages => (split === Split.SPLIT_TRAIN ? ds.train : ds.test);

  return {
    describe: unary<DescribeRequest, DescribeResponse>(async (req) => {
      const name = checkDatasetRef(req.dataset, serves());
      const ds = registry.get(name);
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
        conversion: ds.conversion ?? '',
      };
    }),

    streamBatches: serverStream<StreamBatchesRequest, StreamBatchesResponse>(async function* (req) {
      const plan = validateStreamBatches(req, serves());
      const split = splitOf(plan.split, registry.get(plan.dataset));
      const { batchSize, shard, seed, augment } = plan;
      let total = batchCount(split.count, batchSize, shard);
      // max_samples: whole batches while fewer than max_samples were sent.
      if (plan.maxSamples > 0) total = Math.min(total, Math.ceil(plan.maxSamples / batchSize));
      // start_batch: a client re-opening a broken stream; indices stay those of the whole epoch.
      let index = req.startBatch ?? 0;
      for (const b of iterateBatches(split, { seed, epoch: plan.epoch, shuffle: plan.shuffle, shard, batchSize, augment, startBatch: index })) {
        if (index >= total) break;
        yield { batch: toImageBatch(b, index), totalBatches: total };
        index++;
      }
    }),

    sampleBalanced: unary<SampleBalancedRequest, SampleBalancedResponse>(async (req) => {
      const plan = validateSampleBalanced(req, serves());
      const ds = registry.get(plan.dataset);
      const split = splitOf(plan.split, ds);
      const { seed, epoch } = plan;
      checkPerClass(plan.perClass, classCounts(split, ds.classNames.length), plan.split);
      const order = planEpoch(split.count, { seed, epoch, shuffle: plan.shuffle });
      const orderedLabels = Array.from(order.indices, (i) => split.labels[i]);
      const sel = selectClassBalanced(orderedLabels, plan.perClass, ds.classNames.length, `dataset ${plan.dataset} (${Split[plan.split]})`);
      const augment = plan.augment ? { seed, epoch } : null;
      return {
        groups: sel.groups.map((g, c) => {
          const idx = Uint32Array.from(g, (p) => order.indices[p]);
          const pos = Uint32Array.from(g, (p) => order.positions[p]);
          return toImageBatch(makeBatch(split, idx, pos, augment), c);
        }),
      };
    }),
  };
}
