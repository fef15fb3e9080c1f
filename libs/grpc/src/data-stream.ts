import { Split, type DataLoaderServiceClient, type ImageBatch, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';

/** The test split in file order, unaugmented, optionally only its first `maxSamples`. */
export function testSplitRequest(dataset: string, batchSize: number, maxSamples = 0): StreamBatchesRequest {
  return {
    dataset: { name: dataset },
    split: Split.SPLIT_TEST,
    batchSize,
    seed: 0,
    epoch: 0,
    shuffle: false,
    augment: false,
    shardIndex: 0,
    shardCount: 1,
    maxSamples,
  };
}

/** Batches from a data-loader stream as an async iterable (grpc-js applies flow control). */
export async function* streamImageBatches(client: DataLoaderServiceClient, req: StreamBatchesRequest): AsyncGenerator<ImageBatch> {
  const stream = client.streamBatches(req);
  try {
    for await (const msg of stream) {
      const batch = (msg as StreamBatchesResponse).batch;
      if (batch) yield batch;
    }
  } finally {
    stream.cancel();
  }
}
