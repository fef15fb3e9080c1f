// Reading typed values back from stored JSON: one check per field, tables of checks per object
// (a mapped type over the TypeScript shape, so a field added to the shape without its check does
// not compile), and errors that name the offending field.

export class RunDocumentError extends Error {
  readonly kind = 'failed-precondition';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RunDocumentError';
  }
}

/** Checks one value read from JSON and returns it typed; `path` names it in the error. */
export type Check<T> = (value: unknown, path: string) => T;

/** A check for every field of T (optional fields included: their check is `optional(...)`). */
export type FieldChecks<T> = { [K in keyof Required<T>]: Check<T[K]> };

const fail = (path: string, want: string, got: unknown): never => {
  throw new RunDocumentError(path, `must be ${want}, got ${JSON.stringify(got) ?? String(got)}`);
};

/** A number; JSON has no NaN/Infinity, so a stored null reads back as NaN (see toJsonDocument). */
export const num: Check<number> = (v, path) => (v === null ? NaN : typeof v === 'number' ? v : fail(path, 'a number', v));
export const str: Check<string> = (v, path) => (typeof v === 'string' ? v : fail(path, 'a string', v));

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (v, path) => (values.includes(v as T) ? (v as T) : fail(path, `one of ${values.join(', ')}`, v));
}

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, path) => (Array.isArray(v) ? v.map((x, i) => item(x, `${path}[${i}]`)) : fail(path, 'an array', v));
}

export function recordOf<T>(item: Check<T>): Check<Record<string, T>> {
  return (v, path) => Object.fromEntries(Object.entries(plainObject(v, path)).map(([k, x]) => [k, item(x, `${path}.${k}`)]));
}

/** Absent (undefined or, as JSON writes nothing else, missing) is allowed. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

export function plainObject(v: unknown, path: string): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, 'an object', v);
}

/** An object with exactly the table's fields (unknown ones are dropped, absent optional ones stay absent). */
export function objectOf<T>(fields: FieldChecks<T>): Check<T> {
  return (v, path) => {
    const o = plainObject(v, path);
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(fields) as [string, Check<unknown>][]) {
      const x = check(o[k], path ? `${path}.${k}` : k);
      if (x !== undefined) out[k] = x;
    }
    return out as T;
  };
}

/** A value as a JSON document: non-finite numbers become null (read back as NaN by `num`), undefined fields vanish. */
export function toJsonDocument(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))) as Record<string, unknown>;
}
