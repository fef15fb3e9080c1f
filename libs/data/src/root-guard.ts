// A dataset root is a boundary: every file read for a dataset must resolve (links followed) inside
// the root it was configured with, so a link planted in a dataset folder cannot make the
// data-loader serve, say, /etc/shadow as images.
import { existsSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DataError } from './errors.js';

/** A file or link that resolves outside its dataset root. `kind` maps to PERMISSION_DENIED. */
export class OutsideRootError extends DataError {
  readonly kind = 'permission-denied';
}

export class RootGuard {
  private readonly real: string;

  constructor(readonly root: string) {
    this.real = realpathSync(root);
  }

  /** The real path of `path`, or an OutsideRootError when it resolves outside the root. */
  check(path: string): string {
    const real = realpathSync(path);
    const rel = relative(this.real, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) {
      throw new OutsideRootError(`${path}: resolves to ${real}, outside the dataset root ${this.root}; links out of the root are refused`, {
        file: path,
        field: 'path',
      });
    }
    return real;
  }

}

/** Checks the named files of `root` that exist (a missing root or file is the format reader's to report). */
export function checkFilesInsideRoot(root: string, names: readonly string[]): void {
  if (!existsSync(root)) return;
  const guard = new RootGuard(root);
  for (const name of names) {
    const path = join(root, name);
    if (existsSync(path)) guard.check(path);
  }
}
