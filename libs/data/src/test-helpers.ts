// Shared fixtures for this lib's tests (not exported from the index).

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { CIFAR_IMAGE_BYTES } from './cifar-format.js';
import { DataError } from './errors.js';
import { mulberry32 } from '@flowprune/common';

/** A fresh temp directory removed when the test file finishes. */
export function tempDir(prefix = 'flowprune-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `count` random CHW images with labels cycling through `numClasses`. */
export function randomImages(count: number, numClasses: number, seed = 1): { images: Uint8Array; labels: Uint8Array } {
  const rng = mulberry32(seed);
  const images = Uint8Array.from({ length: count * CIFAR_IMAGE_BYTES }, () => Math.floor(rng() * 256));
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % numClasses);
  return { images, labels };
}

/** Pixels of pickle fixture file `f` with `n` images: the formula in testdata/make_cifar_pickles.py. */
export function fixturePixels(f: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n * CIFAR_IMAGE_BYTES }, (_, i) => (i * 7 + f * 13) % 256);
}

/** Runs `fn`, asserts it throws a DataError, and returns it for further checks. */
export function catchDataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a DataError');
}
