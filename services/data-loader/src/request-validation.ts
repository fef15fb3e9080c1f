// Every DataLoaderService request checked before any data is touched: each bad field becomes an
// INVALID_ARGUMENT naming it and the fix. Pure (no registry, no I/O), so it is unit-tested alone.
import { checkCount, checkEnum, checkText, invalidArgument } from '@flowprune/grpc';
import { Split, type DatasetRef, type SampleBalancedRequest, type StreamBatchesRequest } from '@flowprune/proto';

const MAX_BATCH = 4096;
/** More shards than this is a mistake, not a cluster: every shard would be (nearly) empty. */
const MAX_SHARDS = 1024;

export type DataSplit = Split.SPLIT_TRAIN | Split.SPLIT_TEST;

/** dataset.name: required, a short name (the registry then refuses paths and unknown names). */
export function checkDatasetRef(ref: DatasetRef | undefined, serves: readonly string[]): string {
  if (!ref?.name) throw invalidArgument('dataset.name', `is required; this data-loader serves ${serves.join(', ') || '(none)'}`);
  return checkText('dataset.name', ref.name);
}

function checkSplit(split: Split): DataSplit {
  checkEnum('split', split, Split, [Split.SPLIT_TRAIN, Split.SPLIT_TEST]);
  return split as DataSplit;
}

/** The paper augments only training data; a test split is always served as stored. */
function checkAugment(split: DataSplit, augment: boolean): boolean {
  if (augment && split === Split.SPLIT_TEST) throw invalidArgument('augment', 'the test split is never augmented; send augment=false');
  return augment;
}

/** The shuffle/augmentation seed, folded to the 32 bits the PRNGs use. */
function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument('seed', `must be a non-negative integer, got ${seed}`);
  return seed >>> 0;
}

export interface StreamPlanRequest {
  dataset: string;
  split: DataSplit;
  batchSize: number;
  shard: { index: number; count: number };
  seed: number;
  epoch: number;
  shuffle: boolean;
  augment: boolean;
  /** 0 = the whole split. */
  maxSamples: number;
}

export function validateStreamBatches(req: StreamBatchesRequest, serves: readonly string[]): StreamPlanRequest {
  const dataset = checkDatasetRef(req.dataset, serves);
  const split = checkSplit(req.split);
  const batchSize = checkCount('batch_size', req.batchSize, 1, MAX_BATCH, 'the paper trains with 128');
  const count = checkCount('shard_count', req.shardCount, 0, MAX_SHARDS, '0 or 1 stream the whole epoch') || 1;
  if (req.shardIndex >= count) throw invalidArgument('shard_index', `must be below shard_count (${count}), got ${req.shardIndex}`);
  return {
    dataset,
    split,
    batchSize,
    shard: { index: req.shardIndex, count },
    seed: checkSeed(req.seed),
    epoch: req.epoch,
    shuffle: req.shuffle,
    augment: checkAugment(split, req.augment),
    maxSamples: req.maxSamples,
  };
}

export interface BalancedPlanRequest {
  dataset: string;
  split: DataSplit;
  perClass: number;
  seed: number;
  epoch: number;
  shuffle: boolean;
  augment: boolean;
}

export function validateSampleBalanced(req: SampleBalancedRequest, serves: readonly string[]): BalancedPlanRequest {
  const dataset = checkDatasetRef(req.dataset, serves);
  const split = checkSplit(req.split);
  if (req.perClass < 1) throw invalidArgument('per_class', `must be ≥ 1, got ${req.perClass}`);
  return { dataset, split, perClass: req.perClass, seed: checkSeed(req.seed), epoch: req.epoch, shuffle: req.shuffle, augment: checkAugment(split, req.augment) };
}

/** per_class against the split: every class must have that many samples. */
export function checkPerClass(perClass: number, classCounts: readonly number[], split: DataSplit): number {
  const smallest = Math.min(...classCounts);
  if (perClass > smallest)
    throw invalidArgument('per_class', `is ${perClass} but the smallest class of the ${Split[split]} split has ${smallest} samples; ask for at most ${smallest}`);
  return perClass;
}
