// Class-balanced sample selection for the Hessian-based importance measures, which average over
// an equal number of examples of every class.

import { DataError } from './errors.js';

export interface ClassBalancedSelection {
  /** groups[c] lists the chosen sample indices of class c, in the order they appeared. */
  groups: number[][];
}

/**
 * For each class takes the first `perClass` indices (in the order of `labels`, e.g. an epoch
 * order) whose label is that class. Throws a DataError naming the short classes otherwise.
 */
export function selectClassBalanced(
  labels: ArrayLike<number>,
  perClass: number,
  numClasses: number,
  source = '<labels>',
): ClassBalancedSelection {
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new DataError(`perClass must be a positive integer, got ${perClass}`, { file: source, field: 'perClass' });
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new DataError(`numClasses must be a positive integer, got ${numClasses}`, { file: source, field: 'numClasses' });
  }
  const groups: number[][] = Array.from({ length: numClasses }, () => []);
  let filled = 0;
  for (let i = 0; i < labels.length && filled < numClasses; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new DataError(`${source}: label ${c} at index ${i} is outside 0..${numClasses - 1}`, {
        file: source,
        record: i,
        field: 'label',
      });
    }
    const g = groups[c];
    if (g.length < perClass) {
      g.push(i);
      if (g.length === perClass) filled++;
    }
  }
  if (filled < numClasses) {
    const short = groups
      .map((g, c) => ({ c, n: g.length }))
      .filter((x) => x.n < perClass)
      .map((x) => `class ${x.c} has ${x.n}`);
    throw new DataError(
      `${source}: cannot pick ${perClass} samples per class from ${labels.length} labels: ${short.join(', ')}. ` +
        `Lower perClass or use a larger split.`,
      { file: source, field: 'perClass' },
    );
  }
  return { groups };
}
