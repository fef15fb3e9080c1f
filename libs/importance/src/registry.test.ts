// The registry is where the trainer, CLI and services learn a measure's properties.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BUILTIN_MEASURES, isTrackable, knownMeasure, measureToEstimate, RUN_SETTING_OF_PARAMETER, TRACKABLE_MEASURES } from './registry.js';

test('trackable measures: the per-weight biased_loss_tracked and the per-filter first-order ones (docs/pruning-semantics.md §8)', () => {
  assert.deepEqual([...TRACKABLE_MEASURES].sort(), ['biased_loss', 'biased_loss_tracked', 'fisher', 'loss_based', 'nvidia', 'tfo']);
  assert.equal(isTrackable('grasp'), false);
  assert.equal(isTrackable('someone_elses_measure'), false);
});

test('the Hessian-gradient measures read per-class groups; the others do not', () => {
  const hessian = [...BUILTIN_MEASURES.values()].filter((m) => m.info.hessianGroups).map((m) => m.info.name);
  assert.deepEqual(hessian.sort(), ['grad_preserve', 'grasp']);
});

test('a run with θ₀ asks for biased_loss_init instead of biased_loss; other measures unchanged', () => {
  assert.equal(measureToEstimate('biased_loss', true), 'biased_loss_init');
  assert.equal(measureToEstimate('biased_loss', false), 'biased_loss');
  assert.equal(measureToEstimate('loss_based', true), 'loss_based');
  assert.equal(measureToEstimate('fpgm', true), 'fpgm');
});

test('run settings fill parameters by name: T, imp_samples and the Hessian temperatures', () => {
  assert.deepEqual(Object.fromEntries(RUN_SETTING_OF_PARAMETER), {
    T: 'temperature',
    imp_samples: 'impSamples',
    grasp_T: 'graspTemperature',
    grad_preserve_T: 'graspTemperature',
  });
});

test('forced run settings: biased_loss_tracked tracks with use_l2 and momentum; grad_preserve has temperature 1', () => {
  assert.deepEqual(knownMeasure('biased_loss_tracked')?.forcesRunSettings, { useInit: false, useL2: true, preserveMomentum: true, trackImportance: true });
  assert.deepEqual(knownMeasure('grad_preserve')?.forcesRunSettings, { graspTemperature: 1 });
  assert.equal(knownMeasure('fpgm'), undefined);
});
