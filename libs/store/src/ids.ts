// Run ids and checkpoint names become path components, so they are validated strictly: nothing
// a caller passes may escape the store root.

import { randomBytes } from 'node:crypto';
import { StoreError } from './errors.js';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const CHECKPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * `YYYYMMDD-HHMMSS-xxxxxx`: UTC creation time (so ids sort by creation time to the second) plus
 * 24 random bits (so two creators in the same second do not collide; creation retries on clash).
 */
export function generateRunId(now: Date = new Date()): string {
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(3).toString('hex')}`;
}

/** Throws StoreError `invalid_id` unless `id` is a safe single path component. */
export function validateRunId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !RUN_ID.test(id)) {
    throw new StoreError(
      'invalid_id',
      `invalid run id ${JSON.stringify(id)}: use 1-128 letters, digits, '-' or '_' starting with a letter or digit ` +
        `(no path separators, '.' or '..'), e.g. 20261124-153012-ab12cd`,
    );
  }
}

/** Throws StoreError `invalid_argument` unless `name` is a safe checkpoint file stem. */
export function validateCheckpointName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CHECKPOINT_NAME.test(name) || name.includes('..')) {
    throw new StoreError(
      'invalid_argument',
      `invalid checkpoint name ${JSON.stringify(name)}: use 1-128 letters, digits, '.', '-' or '_' starting with a ` +
        `letter or digit, without '..' or path separators, e.g. round-3`,
    );
  }
}
