// Errors the libs throw with kind 'permission-denied' (a dataset file outside its root) reach the
// caller as PERMISSION_DENIED with the lib's message, not as FAILED_PRECONDITION or INTERNAL.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { toServiceError } from './errors.js';

test("kind 'permission-denied' maps to PERMISSION_DENIED, even on a DataError", () => {
  class OutsideRoot extends Error {
    override readonly name = 'DataError';
    readonly kind = 'permission-denied';
  }
  const mapped = toServiceError(new OutsideRoot('/data/x/test_batch.bin: resolves to /etc/passwd, outside the dataset root /data/x'));
  assert.equal(mapped.code, status.PERMISSION_DENIED);
  assert.match(mapped.details ?? '', /outside the dataset root/);
  // Other data errors stay FAILED_PRECONDITION.
  assert.equal(toServiceError(Object.assign(new Error('bad file'), { name: 'DataError' })).code, status.FAILED_PRECONDITION);
});
