// Named dataset roots configured at start-up: requests name a dataset, never a path, so nothing
// outside the configured roots can be read. Each root's format is recognised by its files; data is
// read (and, for image folders, decoded) on first use and then kept in memory.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cifarLayout, readCifarDirectory } from './cifar-dir.js';
import { cifarPythonLayout, readCifarPythonDirectory } from './cifar-python.js';
import type { DatasetFormat, LoadedDataset } from './dataset.js';
import { DataError } from './errors.js';
import { readImageFolder } from './image-folder.js';
import { hasIdxFiles, IDX_CLASS_FILE, IDX_FILES, readIdxDirectory } from './idx.js';
import { checkFilesInsideRoot } from './root-guard.js';

export type { DatasetFormat } from './dataset.js';

export interface DatasetEntry {
  name: string;
  root: string;
  format: DatasetFormat;
}

export class UnknownDatasetError extends Error {
  readonly kind = 'not-found';
}

export class InvalidDatasetNameError extends Error {
  readonly kind = 'invalid-argument';
}

/** Dataset names are identifiers, never paths: no separators, no dots-only names. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidDatasetName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Folders the official archives unpack to, for the hint when a parent folder is given. */
const ARCHIVE_FOLDERS = ['cifar-10-batches-bin', 'cifar-100-binary', 'cifar-10-batches-py', 'cifar-100-python'];

/** Recognises a dataset folder by the files in it. */
export function detectFormat(root: string): DatasetFormat {
  if (isFile(join(root, 'data_batch_1.bin')) || isFile(join(root, 'test_batch.bin'))) return 'cifar10-binary';
  if (isFile(join(root, 'train.bin')) || isFile(join(root, 'test.bin'))) return 'cifar100-binary';
  if (isFile(join(root, 'data_batch_1')) || isFile(join(root, 'batches.meta'))) return 'cifar10-python';
  if (isFile(join(root, 'train')) || isFile(join(root, 'meta'))) return 'cifar100-python';
  if (hasIdxFiles(root)) return 'idx';
  if (isDir(join(root, 'train'))) return 'image-folder';
  const nested = ARCHIVE_FOLDERS.filter((f) => isDir(join(root, f)));
  const hint = nested.length ? ` It contains ${nested.map((f) => `${f}/`).join(', ')}: point at ${join(root, nested[0])} instead.` : '';
  throw new DataError(
    `${root}: no dataset recognised (expected CIFAR-10 binary data_batch_*.bin/test_batch.bin, CIFAR-100 binary train.bin/test.bin, ` +
      `CIFAR-10 python data_batch_*/batches.meta, CIFAR-100 python train/test/meta, MNIST-family idx train-images-idx3-ubyte[.gz]/t10k-images-idx3-ubyte[.gz], or an image folder train/<class>/*.png).${hint}`,
    { file: root, field: 'format' },
  );
}

/** The files a layout reads, relative to its root. */
function layoutFiles(format: DatasetFormat): string[] {
  switch (format) {
    case 'cifar10-binary':
    case 'cifar100-binary': {
      const l = cifarLayout(format === 'cifar10-binary' ? 'cifar10' : 'cifar100');
      return [...l.train, ...l.test, l.classNames, ...(l.coarseClassNames ? [l.coarseClassNames] : [])];
    }
    case 'cifar10-python':
    case 'cifar100-python': {
      const l = cifarPythonLayout(format === 'cifar10-python' ? 'cifar10' : 'cifar100');
      return [...l.train, ...l.test, l.meta];
    }
    case 'image-folder':
      return []; // readImageFolder guards every file it visits
    case 'idx':
      return [...IDX_FILES, ...IDX_FILES.map((f) => `${f}.gz`), IDX_CLASS_FILE];
  }
}

/** Reads a dataset root in the given format; files that resolve outside the root are refused. */
export function loadDataset(root: string, format: DatasetFormat): LoadedDataset {
  checkFilesInsideRoot(root, layoutFiles(format));
  switch (format) {
    case 'cifar10-binary':
    case 'cifar100-binary': {
      const ds = readCifarDirectory(root, { variant: format === 'cifar10-binary' ? 'cifar10' : 'cifar100' });
      return { format, root, classNames: ds.classNames, coarseClassNames: ds.coarseClassNames, train: ds.train, test: ds.test };
    }
    case 'cifar10-python':
    case 'cifar100-python': {
      const ds = readCifarPythonDirectory(root, { variant: format === 'cifar10-python' ? 'cifar10' : 'cifar100' });
      return { format, root, classNames: ds.classNames, coarseClassNames: ds.coarseClassNames, train: ds.train, test: ds.test };
    }
    case 'image-folder':
      return readImageFolder(root);
    case 'idx':
      return readIdxDirectory(root);
  }
}

/** Parses "name=dir" specs (the services' --dataset flags). */
export function parseDatasetSpecs(specs: string[]): DatasetEntry[] {
  const seen = new Set<string>();
  return specs.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new DataError(`--dataset "${s}" must look like name=/path/to/dir`, { file: s, field: 'dataset' });
    const name = s.slice(0, eq);
    if (!isValidDatasetName(name)) {
      throw new DataError(`--dataset "${s}": name "${name}" must be letters, digits, '.', '_' or '-' (a name, not a path)`, { file: s, field: 'dataset' });
    }
    if (seen.has(name)) throw new DataError(`--dataset "${s}": name "${name}" is given twice`, { file: s, field: 'dataset' });
    seen.add(name);
    const root = resolve(s.slice(eq + 1));
    return { name, root, format: detectFormat(root) };
  });
}

export class DatasetRegistry {
  private readonly entries = new Map<string, DatasetEntry>();
  private readonly loaded = new Map<string, LoadedDataset>();

  constructor(entries: DatasetEntry[]) {
    for (const e of entries) this.entries.set(e.name, e);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The configured entry; a name that is not configured (whatever it looks like) is never resolved as a path. */
  entry(name: string): DatasetEntry {
    const e = isValidDatasetName(name) ? this.entries.get(name) : undefined;
    if (e) return e;
    const serves = this.names().join(', ') || '(none; start it with --dataset name=dir)';
    if (!isValidDatasetName(name)) {
      throw new InvalidDatasetNameError(`dataset.name: "${name}" is not a dataset name (names, not paths, select datasets); this data-loader serves: ${serves}`);
    }
    throw new UnknownDatasetError(`unknown dataset "${name}"; this data-loader serves: ${serves}`);
  }

  /** Reads (once) and caches the dataset. A failed read is not cached, so a fixed file is picked up. */
  get(name: string): LoadedDataset {
    const e = this.entry(name);
    let ds = this.loaded.get(name);
    if (!ds) {
      ds = loadDataset(e.root, e.format);
      this.loaded.set(name, ds);
    }
    return ds;
  }
}
