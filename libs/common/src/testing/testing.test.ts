// The shared test helpers: the fixture metric on hand-computed numbers, and where fixtures are found.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fixtureRoot, fixtureTolerance, layerRel } from './index.js';

test("layerRel: each layer's worst error over its own scale, worst layer wins", () => {
  // Layer 0: max |a − e| = 0.1 over scale max |e| = 2 → 0.05; layer 1: 0.5 over 1 → 0.5 (signs do not matter).
  assert.ok(Math.abs(layerRel([[2.1, 1], [0, -0.7]], [[2, 1], [0.5, -1]]) - 0.5) < 1e-12);
  assert.ok(Math.abs(layerRel([[2.1, 1]], [[2, 1]]) - 0.05) < 1e-12);
  assert.equal(layerRel([[0, 0]], [[0, 0]]), 0);
});

test('layerRel refuses mismatched layer counts and lengths', () => {
  assert.throws(() => layerRel([[1]], [[1], [2]]), /number of layers/);
  assert.throws(() => layerRel([[1, 2]], [[1]]), /layer 0 length/);
});

test('fixtureTolerance: 1e-2 for the Hessian measures, 1e-3 for the rest', () => {
  assert.equal(fixtureTolerance('grasp'), 1e-2);
  assert.equal(fixtureTolerance('grad_preserve'), 1e-2);
  assert.equal(fixtureTolerance('mag_based'), 1e-3);
});

test('fixtureRoot: FLOWPRUNE_FIXTURES when set, else ../shared/fixtures/importance beside the checkout', () => {
  const saved = process.env.FLOWPRUNE_FIXTURES;
  try {
    process.env.FLOWPRUNE_FIXTURES = '/tmp/hidden-fixtures';
    assert.equal(fixtureRoot(), '/tmp/hidden-fixtures');
    delete process.env.FLOWPRUNE_FIXTURES;
    assert.match(fixtureRoot(), /\/shared\/fixtures\/importance$/);
    assert.ok(!fixtureRoot().includes('/libs/'), fixtureRoot());
  } finally {
    if (saved === undefined) delete process.env.FLOWPRUNE_FIXTURES;
    else process.env.FLOWPRUNE_FIXTURES = saved;
  }
});
