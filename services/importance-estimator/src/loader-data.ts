// Dataset mode: the estimator pulls its own samples from the data-loader, as the paper's
// estimator reads the training loader (shuffled and augmented per (seed, epoch), docs/pruning-semantics.md, quirk Q7).
import { idempotentCall, invalidArgument, streamImageBatches } from '@flowprune/grpc';
import type { ImportanceData } from '@flowprune/importance';
import { Split, type DataLoaderServiceClient } from '@flowprune/proto';

export interface LoaderDataOptions {
  dataset: string;
  seed: number;
  epoch: number;
  batchSize: number;
  /** imp_samples: the stream stops after the batches that reach it. */
  maxSamples: number;
}

export function loaderData(client: DataLoaderServiceClient, o: LoaderDataOptions): ImportanceData {
  const common = { dataset: { name: o.dataset }, split: Split.SPLIT_TRAIN, seed: o.seed, epoch: o.epoch, shuffle: true, augment: true };
  return {
    batches: () =>
      streamImageBatches(client, { ...common, batchSize: o.batchSize, shardIndex: 0, shardCount: 1, maxSamples: o.maxSamples }),
    async classGroups(perClass, numClasses) {
      const res = await idempotentCall(client, client.sampleBalanced, { ...common, perClass }, { name: 'data-loader' });
      if (res.groups.length !== numClasses)
        throw invalidArgument('dataset', `${o.dataset} has ${res.groups.length} classes but the model has ${numClasses}`);
      return res.groups;
    },
  };
}
