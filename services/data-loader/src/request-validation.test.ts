// Unit tests of the data-loader's request checks: each bad field is named, good requests pass through.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RpcError } from '@flowprune/grpc';
import { Split, type StreamBatchesRequest } from '@flowprune/proto';
import { checkPerClass, validateSampleBalanced, validateStreamBatches } from './request-validation.js';

const stream = (over: Partial<StreamBatchesRequest> = {}): StreamBatchesRequest => ({
  dataset: { name: 'syn' },
  split: Split.SPLIT_TRAIN,
  batchSize: 32,
  seed: 7,
  epoch: 2,
  shuffle: true,
  augment: true,
  shardIndex: 0,
  shardCount: 0,
  maxSamples: 0,
  ...over,
});

function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.message, re);
    return true;
  });
}

test('a good StreamBatches request resolves shard 0 of 1 and folds the seed to 32 bits', () => {
  const p = validateStreamBatches(stream({ seed: 2 ** 32 + 5 }), ['syn']);
  assert.deepEqual(p.shard, { index: 0, count: 1 });
  assert.equal(p.seed, 5);
  assert.equal(p.batchSize, 32);
});

test('StreamBatches: every bad field is named', () => {
  rejects(() => validateStreamBatches(stream({ dataset: undefined }), ['syn']), /^dataset\.name: is required; this data-loader serves syn/);
  rejects(() => validateStreamBatches(stream({ dataset: { name: 'x'.repeat(300) } }), ['syn']), /^dataset\.name: is 300 characters/);
  rejects(() => validateStreamBatches(stream({ dataset: { name: 'a\u0000b' } }), ['syn']), /^dataset\.name: must not contain control/);
  rejects(() => validateStreamBatches(stream({ split: 99 as Split }), ['syn']), /^split: must be one of SPLIT_TRAIN \(1\), SPLIT_TEST \(2\), got 99/);
  rejects(() => validateStreamBatches(stream({ split: Split.SPLIT_UNSPECIFIED }), ['syn']), /^split:/);
  rejects(() => validateStreamBatches(stream({ batchSize: 0 }), ['syn']), /^batch_size: must be a whole number in 1\.\.4096, got 0/);
  rejects(() => validateStreamBatches(stream({ batchSize: 2 ** 32 - 1 }), ['syn']), /^batch_size:/);
  rejects(() => validateStreamBatches(stream({ shardCount: 5000 }), ['syn']), /^shard_count: must be a whole number in 0\.\.1024/);
  rejects(() => validateStreamBatches(stream({ shardIndex: 2, shardCount: 2 }), ['syn']), /^shard_index: must be below shard_count \(2\), got 2/);
  rejects(() => validateStreamBatches(stream({ shardIndex: 1, shardCount: 0 }), ['syn']), /^shard_index: must be below shard_count \(1\)/);
  rejects(() => validateStreamBatches(stream({ split: Split.SPLIT_TEST }), ['syn']), /^augment: the test split is never augmented/);
  rejects(() => validateStreamBatches(stream({ seed: -1 }), ['syn']), /^seed:/);
});

test('SampleBalanced: per_class at least 1 and at most the smallest class', () => {
  const base = { dataset: { name: 'syn' }, split: Split.SPLIT_TEST, perClass: 2, seed: 0, epoch: 0, shuffle: false, augment: false };
  assert.equal(validateSampleBalanced(base, ['syn']).perClass, 2);
  rejects(() => validateSampleBalanced({ ...base, perClass: 0 }, ['syn']), /^per_class: must be ≥ 1/);
  rejects(() => validateSampleBalanced({ ...base, split: 7 as Split }, ['syn']), /^split:/);
  assert.equal(checkPerClass(3, [5, 3, 4], Split.SPLIT_TRAIN), 3);
  rejects(() => checkPerClass(4, [5, 3, 4], Split.SPLIT_TRAIN), /^per_class: is 4 but the smallest class of the SPLIT_TRAIN split has 3 samples; ask for at most 3/);
});
