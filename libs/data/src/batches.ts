// Epoch ordering, sharding and batch assembly. Everything is a pure function of
// (seed, epoch, shard, batchSize), so two workers — or a rerun — produce the same bytes.

import { augmentChwToHwc, augmentParams, IDENTITY_AUGMENT } from './augment.js';
import { CIFAR_IMAGE_BYTES } from './cifar-format.js';
import { hashSeed, mulberry32, randomInt } from '@flowprune/common';

/** Stream tag so shuffle draws never coincide with augmentation draws for the same seed. */
const SHUFFLE_STREAM = 0x53485546;

/** The parts of a split the batcher needs (a CifarSplit fits). */
export interface BatchSource {
  images: Uint8Array;
  labels: ArrayLike<number>;
  count: number;
}

export interface ShardSpec {
  /** This worker's shard, 0 <= index < count. */
  index: number;
  count: number;
}

export interface EpochOptions {
  seed: number;
  epoch: number;
  /** Shuffle the epoch order (default true); false keeps dataset order, as for the test split. */
  shuffle?: boolean;
  shard?: ShardSpec;
}

export interface BatchOptions extends EpochOptions {
  batchSize: number;
  /** Apply pad+crop+flip (default false: identity, as for the test split). */
  augment?: boolean;
  /** Skip (without assembling) the first batches: a re-opened stream continues where it stopped. */
  startBatch?: number;
}

export interface Batch {
  /** B*32*32*3 bytes, NHWC. Kept as uint8 for the wire; see normalizeToFloat32. */
  pixels: Uint8Array;
  labels: Int32Array;
  /** Dataset index of each sample. */
  indices: Uint32Array;
  /** Position of each sample in the full (unsharded) epoch order; keys its augmentation. */
  positions: Uint32Array;
  size: number;
}

/** Fisher–Yates permutation of 0..count-1, keyed by (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = mulberry32(hashSeed(SHUFFLE_STREAM, seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

export interface EpochPlan {
  /** Dataset indices this shard visits, in order. */
  indices: Uint32Array;
  /** Their positions in the full epoch order. */
  positions: Uint32Array;
}

function checkShard(shard: ShardSpec): void {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`invalid shard ${shard.index} of ${shard.count}: need integers with 0 <= index < count`);
  }
}

/**
 * The samples one shard visits in an epoch. Shards take every n-th position of the epoch order
 * (like PyTorch's DistributedSampler, without padding), so they are disjoint, their union is
 * the whole epoch, and their sizes differ by at most one.
 */
export function planEpoch(count: number, options: EpochOptions): EpochPlan {
  const full = options.shuffle === false ? identityOrder(count) : epochOrder(count, options.seed, options.epoch);
  const shard = options.shard ?? { index: 0, count: 1 };
  checkShard(shard);
  const n = shard.index < count ? Math.ceil((count - shard.index) / shard.count) : 0;
  const indices = new Uint32Array(n);
  const positions = new Uint32Array(n);
  for (let k = 0, p = shard.index; k < n; k++, p += shard.count) {
    indices[k] = full[p];
    positions[k] = p;
  }
  return { indices, positions };
}

function identityOrder(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/** Number of batches one shard yields in an epoch (the last one may be smaller). */
export function batchCount(count: number, batchSize: number, shard?: ShardSpec): number {
  const s = shard ?? { index: 0, count: 1 };
  checkShard(s);
  const n = s.index < count ? Math.ceil((count - s.index) / s.count) : 0;
  return Math.ceil(n / batchSize);
}

/** Assembles one batch from dataset indices; `augment` null means the identity transform. */
export function makeBatch(
  source: BatchSource,
  indices: Uint32Array,
  positions: Uint32Array,
  augment: { seed: number; epoch: number } | null,
): Batch {
  const size = indices.length;
  const pixels = new Uint8Array(size * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(size);
  for (let k = 0; k < size; k++) {
    const idx = indices[k];
    if (idx >= source.count) throw new RangeError(`index ${idx} out of range for ${source.count} samples`);
    const params = augment ? augmentParams(augment.seed, augment.epoch, positions[k]) : IDENTITY_AUGMENT;
    augmentChwToHwc(source.images, idx * CIFAR_IMAGE_BYTES, params, pixels, k * CIFAR_IMAGE_BYTES);
    labels[k] = source.labels[idx];
  }
  return { pixels, labels, indices, positions, size };
}

/** Yields the epoch's batches for one shard, in order. */
export function* iterateBatches(source: BatchSource, options: BatchOptions): Generator<Batch, void, undefined> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const plan = planEpoch(source.count, options);
  const augment = options.augment ? { seed: options.seed, epoch: options.epoch } : null;
  for (let start = (options.startBatch ?? 0) * options.batchSize; start < plan.indices.length; start += options.batchSize) {
    const end = Math.min(start + options.batchSize, plan.indices.length);
    // slice (not subarray) so each batch owns compact buffers that can go on the wire as-is.
    yield makeBatch(source, plan.indices.slice(start, end), plan.positions.slice(start, end), augment);
  }
}
