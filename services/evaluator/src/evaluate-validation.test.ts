// Unit tests of the evaluator's request checks.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RpcError } from '@flowprune/grpc';
import { serializeSafeTensors } from '@flowprune/models';
import { Split, type EvaluateRequest } from '@flowprune/proto';
import { validateEvaluateRequest } from './evaluate-validation.js';

const req = (over: Partial<EvaluateRequest> = {}): EvaluateRequest => ({ dataset: { name: 'syn' }, split: Split.SPLIT_UNSPECIFIED, batchSize: 0, temperature: 0, maxSamples: 0, ...over });

function rejects(over: Partial<EvaluateRequest>, re: RegExp): void {
  assert.throws(() => validateEvaluateRequest(req(over)), (e: unknown) => e instanceof RpcError && e.code === status.INVALID_ARGUMENT && re.test(e.message));
}

test('zeros take the defaults: batch 128, T 5, the test split', () => {
  assert.deepEqual(validateEvaluateRequest(req()), { dataset: 'syn', split: Split.SPLIT_TEST, batchSize: 128, temperature: 5, maxSamples: 0 });
  assert.equal(validateEvaluateRequest(req({ split: Split.SPLIT_TRAIN })).split, Split.SPLIT_TRAIN);
});

test('bad fields are named', () => {
  rejects({ dataset: undefined }, /^dataset\.name: is required/);
  rejects({ temperature: NaN }, /^temperature: must be a finite number, got NaN/);
  rejects({ temperature: Infinity }, /^temperature:/);
  rejects({ temperature: -1 }, /^temperature: must be in \[0\.001, 10000\], got -1/);
  rejects({ batchSize: 5000 }, /^batch_size: must be a whole number in 1\.\.4096/);
  rejects({ split: 99 as Split }, /^split: must be one of .*got 99/);
  const nan = serializeSafeTensors({ tensors: new Map([['w', { dtype: 'F32', shape: [2], data: Float32Array.of(0, NaN) }]]), metadata: {} });
  rejects({ model: { safetensors: Buffer.from(nan) } }, /^model: tensor w holds NaN at element 1/);
});

test('latency: batch sizes as given, runs default 10; bad values are named', () => {
  assert.deepEqual(validateEvaluateRequest(req({ latency: { batchSizes: [1, 128], runs: 0 } })).latency, { batches: [1, 128], runs: 10 });
  assert.equal(validateEvaluateRequest(req()).latency, undefined);
  rejects({ latency: { batchSizes: [], runs: 5 } }, /^latency\.batch_sizes: needs 1\.\.8 batch sizes, got 0/);
  rejects({ latency: { batchSizes: [1, 0], runs: 5 } }, /^latency\.batch_sizes\[1\]: must be a whole number in 1\.\.1024, got 0/);
  rejects({ latency: { batchSizes: [1], runs: 5000 } }, /^latency\.runs: must be a whole number in 1\.\.1000/);
});
