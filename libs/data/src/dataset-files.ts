// Up-front check that a dataset folder has every file its layout needs, so one error lists all
// that is missing and says how to get them.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';

export interface ExpectedFiles {
  /** e.g. "CIFAR-10". */
  name: string;
  /** e.g. "binary" or "python": which download the files come from. */
  version: string;
  files: readonly string[];
  /** Folder the official archive extracts to; used for a hint when its parent is given. */
  archiveFolder: string;
  /** How to get the files, when not by extracting an archive. */
  howToGet?: string;
}

export function checkFilesPresent(dir: string, expected: ExpectedFiles): void {
  const dirOk = existsSync(dir) && statSync(dir).isDirectory();
  const missing = dirOk ? expected.files.filter((f) => !existsSync(join(dir, f))) : expected.files;
  if (missing.length === 0) return;
  const nested = join(dir, expected.archiveFolder);
  const hint = existsSync(nested)
    ? ` It contains ${expected.archiveFolder}/ — point at ${nested} instead.`
    : (expected.howToGet ??
      ` Download the ${expected.version} version of ${expected.name} (flowprune data fetch) and extract it ` +
        `(it unpacks to ${expected.archiveFolder}/), or generate synthetic data into this folder.`);
  const what = dirOk ? `is missing ${missing.join(', ')}` : 'does not exist or is not a directory';
  throw new DataError(`${expected.name} directory ${dir} ${what}; expected files: ${expected.files.join(', ')}.${hint}`, {
    file: dirOk ? join(dir, missing[0]) : dir,
    field: 'missing',
  });
}
