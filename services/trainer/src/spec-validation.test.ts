// Unit tests of the trainer's StartRun and run-id checks.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RpcError, runSpec } from '@flowprune/grpc';
import type { RunSpec } from '@flowprune/proto';
import { checkRunId, validateRunSpec } from './spec-validation.js';

const good = runSpec({ arch: 'resnet56', dataset: { name: 'syn' }, schedule: [{ lr: 0.1, epochs: 3 }] });

function rejects(over: Partial<RunSpec>, re: RegExp): void {
  assert.throws(() => validateRunSpec({ ...good, ...over }), (e: unknown) => e instanceof RpcError && e.code === status.INVALID_ARGUMENT && re.test(e.message), JSON.stringify(over));
}

test('a good spec passes unchanged; zeros (defaults) pass', () => {
  assert.equal(validateRunSpec(good), good);
  assert.throws(() => validateRunSpec(undefined), /spec: is required/);
});

test('NaN, Inf, absurd counts and long strings are named', () => {
  rejects({ temperature: NaN }, /^spec\.temperature: must be a finite number, got NaN/);
  rejects({ graspTemperature: Infinity }, /^spec\.grasp_temperature:/);
  rejects({ lrPrune: -Infinity }, /^spec\.lr_prune:/);
  rejects({ momentum: NaN }, /^spec\.momentum:/);
  rejects({ prunePercent: NaN }, /^spec\.prune_percent:/);
  rejects({ measureParams: { T: NaN } }, /^spec\.measure_params\.T: must be a finite number/);
  rejects({ thresholds: [10, Infinity] }, /^spec\.thresholds\[1\]:/);
  rejects({ schedule: [{ lr: NaN, epochs: 1 }] }, /^spec\.schedule\[0\]\.lr:/);
  rejects({ schedule: [{ lr: 0.1, epochs: 4_000_000_000 }] }, /^spec\.schedule\[0\]\.epochs: must be a whole number in 0\.\.10000/);
  rejects({ schedule: [{ lr: 0.1, epochs: 6000 }, { lr: 0.01, epochs: 6000 }] }, /^spec\.schedule: adds up to 12000 epochs; the limit is 10000/);
  rejects({ warmupEpochs: 2 ** 32 - 1 }, /^spec\.warmup_epochs:/);
  rejects({ impSamples: 2 ** 31 }, /^spec\.imp_samples:/);
  rejects({ evalBatchSize: 100_000 }, /^spec\.eval_batch_size:/);
  rejects({ name: 'n'.repeat(1000) }, /^spec\.name: is 1000 characters long/);
  rejects({ dataset: { name: 'a\u0000' } }, /^spec\.dataset\.name: must not contain control characters/);
  rejects({ seed: -1 }, /^spec\.seed:/);
});

test('run ids: required, and never a path', () => {
  assert.equal(checkRunId('20260101-000000-abcdef'), '20260101-000000-abcdef');
  for (const [id, re] of [['', /^run_id: is required/], ['../../etc', /^run_id: invalid run id/], ['a'.repeat(200), /^run_id: invalid run id/]] as const)
    assert.throws(() => checkRunId(id), (e: unknown) => e instanceof RpcError && e.code === status.INVALID_ARGUMENT && re.test(e.message));
});
