// Unpacks a dataset archive into a temporary folder beside the target and renames the verified
// result into place: the target either does not exist or is complete, never half-written.

import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { extract, type ReadEntry } from 'tar';
import { DataError } from './errors.js';

export interface InstallArchiveOptions {
  /** The .tar.gz (or .tar) file. */
  archive: string;
  /** Folder that receives `folder`. */
  dir: string;
  /** The archive's top-level folder, e.g. cifar-10-batches-py; it becomes dir/folder. */
  folder: string;
  /** Checks the extracted folder (e.g. reads the whole dataset); throws to reject it. */
  verify?: (extracted: string) => void;
}

const TMP_PREFIX = (folder: string): string => `.${folder}.tmp-`;

/** Removes temporary folders a killed earlier run left behind (only ever our own prefix). */
export function removeStaleTemps(dir: string, folder: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (name.startsWith(TMP_PREFIX(folder))) rmSync(join(dir, name), { recursive: true, force: true });
}

export async function installArchive(o: InstallArchiveOptions): Promise<string> {
  const target = join(o.dir, o.folder);
  const tmp = mkdtempSync(join(o.dir, TMP_PREFIX(o.folder)));
  try {
    const skipped: string[] = [];
    // Not `strict`: a strict extract rejects at the first problem while writes of other entries are
    // still running (and would race our clean-up). Instead every problem is collected as a warning,
    // the extract runs to its end, and then any problem rejects the whole archive.
    const problems: string[] = [];
    try {
      await extract({
        file: o.archive,
        cwd: tmp,
        onwarn: (code: string, message: string) => {
          problems.push(`${code}: ${message}`);
        },
        // Only plain files and folders under the expected top folder; node-tar already refuses
        // absolute paths and `..`. Links and devices are never created.
        filter: (path: string, entry) => {
          const type = (entry as ReadEntry).type;
          const ok = (path === o.folder || path.startsWith(`${o.folder}/`)) && (type === 'File' || type === 'Directory' || type === 'OldFile');
          if (!ok) skipped.push(path);
          return ok;
        },
      });
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (problems.length > 0) {
      throw new DataError(`${o.archive}: cannot extract (${problems.slice(0, 3).join('; ')}); the archive is corrupt or unsafe`, {
        file: o.archive,
        field: 'archive',
      });
    }
    const extracted = join(tmp, o.folder);
    if (!existsSync(extracted)) {
      const others = skipped.length ? ` (it holds ${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''})` : '';
      throw new DataError(`${o.archive}: archive has no ${o.folder}/ folder${others}; is it the right archive?`, {
        file: o.archive,
        field: 'archive',
      });
    }
    o.verify?.(extracted);
    renameSync(extracted, target);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}
