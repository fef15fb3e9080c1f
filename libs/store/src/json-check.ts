// Run documents must survive JSON (and later BSON) unchanged. JSON.stringify silently turns NaN
// into null and drops functions, so we reject such values up front with the path to the culprit.

import { StoreError } from './errors.js';

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Throws StoreError `invalid_argument` if `value` is not plain JSON; `undefined` object fields are allowed (dropped). */
export function assertPlainJson(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new StoreError('invalid_argument', `${path} is ${value}; run documents are JSON, which has no NaN/Infinity — record such values as null or in an event`);
      }
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v === undefined) throw new StoreError('invalid_argument', `${path}[${i}] is undefined; arrays in run documents must hold JSON values`);
          assertPlainJson(v, `${path}[${i}]`);
        });
        return;
      }
      if (!isPlainObject(value)) {
        const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        throw new StoreError('invalid_argument', `${path} is a ${kind}; run documents hold only plain JSON objects (use ISO strings for dates, checkpoints for bytes)`);
      }
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined) assertPlainJson(v, `${path}.${k}`);
      }
      return;
    case 'undefined':
      throw new StoreError('invalid_argument', `${path} is undefined`);
    default:
      throw new StoreError('invalid_argument', `${path} is a ${typeof value}, which is not JSON`);
  }
}
