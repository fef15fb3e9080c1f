import type { DataLoaderServiceClient, ImageBatch, StreamBatchesRequest, StreamBatchesResponse } from '@flowprune/proto';

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
