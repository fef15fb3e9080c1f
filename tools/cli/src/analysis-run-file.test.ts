// `analysis: {every_batches: k}` in a run file: parsed into RunSpec.analysis, strictly.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RunFileError, specFromObject } from './run-file.js';

test('analysis in a run file becomes RunSpec.analysis', () => {
  const { spec } = specFromObject({ arch: 'resnet56', analysis: { every_batches: 50, samples: 64 } }, 'run.yaml');
  assert.deepEqual(spec.analysis, { everyBatches: 50, samples: 64, hessianEveryBatches: 0 });
  const withHessian = specFromObject({ arch: 'resnet56', analysis: { every_batches: 50, hessian_every_batches: 200 } }, 'run.yaml').spec;
  assert.equal(withHessian.analysis?.hessianEveryBatches, 200);
  assert.equal(specFromObject({ arch: 'resnet56' }, 'run.yaml').spec.analysis, undefined, 'absent: off');
});

test('an unknown or mistyped analysis key is refused naming it', () => {
  assert.throws(() => specFromObject({ analysis: { every_batch: 50 } }, 'run.yaml'), (e: Error) => e instanceof RunFileError && /unknown field "analysis.every_batch"; analysis takes every_batches, hessian_every_batches, samples/.test(e.message));
  assert.throws(() => specFromObject({ analysis: { every_batches: 'often' } }, 'run.yaml'), /analysis.every_batches must be a number/);
  assert.throws(() => specFromObject({ analysis: 50 }, 'run.yaml'), /analysis must be a mapping/);
});
