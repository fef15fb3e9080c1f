import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectClassBalanced } from './balanced.js';
import { DataError } from './errors.js';

describe('selectClassBalanced', () => {
  it('takes the first perClass indices of each class in the given order', () => {
    const labels = [2, 0, 1, 0, 2, 1, 0, 2, 1];
    assert.deepEqual(selectClassBalanced(labels, 2, 3).groups, [
      [1, 3],
      [2, 5],
      [0, 4],
    ]);
  });

  it('throws a DataError naming the short classes', () => {
    assert.throws(
      () => selectClassBalanced(Uint8Array.from([0, 0, 1, 2, 2]), 2, 4),
      (err: unknown) => err instanceof DataError && /class 1 has 1, class 3 has 0/.test(err.message) && err.field === 'perClass',
    );
  });

  it('rejects labels outside the class range', () => {
    assert.throws(() => selectClassBalanced([0, 5], 1, 3), (err: unknown) => err instanceof DataError && err.record === 1);
  });
});
