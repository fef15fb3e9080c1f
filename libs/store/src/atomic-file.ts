// Crash- and reader-safe file replacement: readers see either the old or the new file, never a
// partial one, because rename() within one directory is atomic on POSIX file systems.

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files start with this, so directory scans can skip them. */
const TEMP_PREFIX = '.tmp-';

/** Writes `data` to a temp file in the same directory, fsyncs it, then renames it over `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable. Best effort: some platforms cannot fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Durability of the directory entry is a bonus; atomicity does not depend on it.
  }
}
