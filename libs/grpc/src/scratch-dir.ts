import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh directory under the OS temp dir, removed when the process exits: the throwaway run store
 * of a service launched on demand (and the tests' temp dir, as `tempDir` of the testing entry).
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `flowprune-${prefix}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
