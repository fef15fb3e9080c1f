import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory removed at process exit (tests). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `flowprune-${prefix}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
