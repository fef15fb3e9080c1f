import { Split, type DataLoaderServiceClient, type ImageBatch, type StreamBatchesRequest, type StreamBatchesResponse } from '@flowprune/proto';
import { dependencyOf, logRetry } from './resilient-call.js';
import { resilientStream } from './resilient-stream.js';
import type { Clock, RetryPolicy } from './retry.js';
import { rpcDefaults } from './rpc-defaults.js';

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

export interface BatchStreamOptions {
  /** Longest wait for one batch (default FLOWPRUNE_STREAM_IDLE_S, 120 s). */
  idleMs?: number;
  policy?: RetryPolicy;
  clock?: Clock;
  /** Stop re-opening once this is true (the consumer is being stopped). */
  shouldStop?: () => boolean;
}

/**
 * Batches from a data-loader stream as an async iterable (grpc-js applies flow control). A stream
 * that breaks (the data-loader restarted) or stalls is re-opened at the next batch (`start_batch`):
 * an epoch is a pure function of (seed, epoch), so the consumer sees every batch exactly once.
 */
export async function* streamImageBatches(client: DataLoaderServiceClient, req: StreamBatchesRequest, o: BatchStreamOptions = {}): AsyncGenerator<ImageBatch> {
  const d = rpcDefaults();
  let next = req.startBatch ?? 0;
  const open = () => client.streamBatches({ ...req, startBatch: next || undefined });
  const messages = resilientStream<StreamBatchesResponse>(open, {
    dependency: dependencyOf(client, 'data-loader'),
    idleMs: o.idleMs ?? d.streamIdleMs,
    policy: o.policy ?? d.retry,
    clock: o.clock,
    onRetry: logRetry,
    shouldStop: o.shouldStop,
  });
  for await (const msg of messages) {
    const batch = msg.batch;
    // A data-loader that predates start_batch sends the epoch from its start: skip what we had.
    if (!batch || batch.index < next) continue;
    next = batch.index + 1;
    yield batch;
  }
}
