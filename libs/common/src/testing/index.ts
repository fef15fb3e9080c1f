// @flowprune/common/testing: helpers for tests only (the lint forbids them in production code).
import { strict as assert } from 'node:assert';
import { join, resolve } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '../../../..');

/**
 * The reference fixtures' folder (docs/reference-fixtures.md): FLOWPRUNE_FIXTURES when set (a
 * hidden set in the same format), else ../shared/fixtures/importance beside the checkout.
 */
export function fixtureRoot(): string {
  return resolve(process.env.FLOWPRUNE_FIXTURES ?? join(REPO_ROOT, '../shared/fixtures/importance'));
}

/**
 * The error of docs/reference-fixtures.md §6: max over layers of max_i |a − e| / max_i |e| (each
 * layer's error relative to its own scale).
 */
export function layerRel(a: number[][], e: number[][]): number {
  assert.equal(a.length, e.length, 'number of layers');
  let worst = 0;
  e.forEach((ev, l) => {
    assert.equal(a[l].length, ev.length, `layer ${l} length`);
    const scale = Math.max(...ev.map(Math.abs));
    const diff = Math.max(...ev.map((x, i) => Math.abs(a[l][i] - x)));
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  });
  return worst;
}

/** The acceptance of docs/reference-fixtures.md §6: rel ≤ 1e-2 for grasp and grad_preserve, ≤ 1e-3 for every other measure. */
export const fixtureTolerance = (measure: string): number => (measure === 'grasp' || measure === 'grad_preserve' ? 1e-2 : 1e-3);
