// Small checks for request fields as they arrive off the wire (proto3: every scalar has a value,
// enums may hold numbers the contract does not name, floats may be NaN or ±Inf). Each throws an
// INVALID_ARGUMENT status naming the field and what a valid value looks like.
import { invalidArgument } from './errors.js';

/** Longest free-text string (names, measures) a request may carry. */
const MAX_TEXT_LENGTH = 256;

/** An integer count in [min, max] (proto uint32 arrives as any number in 0..2^32-1). */
export function checkCount(field: string, value: number, min: number, max: number, hint = ''): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalidArgument(field, `must be a whole number in ${min}..${max}, got ${value}${hint ? `; ${hint}` : ''}`);
  return value;
}

/** A finite float (NaN and ±Inf never mean anything in our contracts). */
export function checkFinite(field: string, value: number): number {
  if (!Number.isFinite(value)) throw invalidArgument(field, `must be a finite number, got ${value}`);
  return value;
}

/** A finite float in [min, max]; `zeroMeansDefault` lets proto3's 0 (= "use the default") through. */
export function checkRange(field: string, value: number, min: number, max: number, zeroMeansDefault = false): number {
  if (zeroMeansDefault && value === 0) return value;
  checkFinite(field, value);
  if (value < min || value > max) throw invalidArgument(field, `must be in [${min}, ${max}], got ${value}`);
  return value;
}

/** One of an enum's named values (an unknown number such as Split 99 is rejected). */
export function checkEnum<E extends Record<string, string | number>>(field: string, value: number, values: E, allowed?: readonly number[]): number {
  const names = Object.entries(values).filter(([, v]) => typeof v === 'number' && (!allowed || allowed.includes(v)));
  if (!names.some(([, v]) => v === value))
    throw invalidArgument(field, `must be one of ${names.map(([k, v]) => `${k} (${v})`).join(', ')}, got ${value}`);
  return value;
}

/** A string of at most `max` characters without control characters; `required` rejects ''. */
export function checkText(field: string, value: string, opts: { required?: boolean; max?: number } = {}): string {
  const max = opts.max ?? MAX_TEXT_LENGTH;
  if (opts.required && value.length === 0) throw invalidArgument(field, 'is required');
  if (value.length > max) throw invalidArgument(field, `is ${value.length} characters long; the limit is ${max}`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidArgument(field, 'must not contain control characters');
  return value;
}

/** Every value of a `map<string, double>` finite, every key a short name. */
export function checkFiniteMap(field: string, map: Record<string, number>, maxEntries = 64): Record<string, number> {
  const entries = Object.entries(map);
  if (entries.length > maxEntries) throw invalidArgument(field, `has ${entries.length} entries; the limit is ${maxEntries}`);
  for (const [k, v] of entries) {
    checkText(`${field} key`, k, { required: true, max: 64 });
    checkFinite(`${field}.${k}`, v);
  }
  return map;
}

/**
 * A check from a logic lib (which throws plain Errors) as a field check: its failure becomes an
 * INVALID_ARGUMENT naming `field`, without the `field: ` prefix the lib's message may repeat.
 */
export function checkWith<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    const message = (e as Error).message;
    throw invalidArgument(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
  }
}
