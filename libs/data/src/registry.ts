// Named dataset roots, fixed at start-up: requests name a dataset, never a path, so nothing
// outside the configured roots can be read.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCifarDirectory, type CifarDataset } from './cifar-dir.js';
import { DataError } from './errors.js';

export type DatasetFormat = 'cifar10-binary' | 'cifar100-binary';

export interface DatasetEntry {
  name: string;
  root: string;
  format: DatasetFormat;
}

export class UnknownDatasetError extends Error {
  readonly kind = 'not-found';
}

/** Recognises a dataset folder by the files in it. */
export function detectFormat(root: string): DatasetFormat {
  if (existsSync(join(root, 'data_batch_1.bin')) || existsSync(join(root, 'test_batch.bin'))) return 'cifar10-binary';
  if (existsSync(join(root, 'train.bin')) || existsSync(join(root, 'test.bin'))) return 'cifar100-binary';
  throw new DataError(
    `${root}: no dataset recognised (expected CIFAR-10 binary data_batch_*.bin/test_batch.bin or CIFAR-100 binary train.bin/test.bin)`,
    { file: root, field: 'format' },
  );
}

/** Parses "name=dir" specs (the services' --dataset flags). */
export function parseDatasetSpecs(specs: string[]): DatasetEntry[] {
  return specs.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new DataError(`--dataset "${s}" must look like name=/path/to/dir`, { file: s, field: 'dataset' });
    const root = resolve(s.slice(eq + 1));
    return { name: s.slice(0, eq), root, format: detectFormat(root) };
  });
}

export class DatasetRegistry {
  private readonly entries = new Map<string, DatasetEntry>();
  private readonly loaded = new Map<string, CifarDataset>();

  constructor(entries: DatasetEntry[]) {
    for (const e of entries) this.entries.set(e.name, e);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): DatasetEntry {
    const e = this.entries.get(name);
    if (!e)
      throw new UnknownDatasetError(
        `unknown dataset "${name}"; this data-loader serves: ${this.names().join(', ') || '(none; start it with --dataset name=dir)'}`,
      );
    return e;
  }

  /** Reads (once) and caches the dataset. */
  get(name: string): CifarDataset {
    const e = this.entry(name);
    let ds = this.loaded.get(name);
    if (!ds) {
      ds = readCifarDirectory(e.root, { variant: e.format === 'cifar10-binary' ? 'cifar10' : 'cifar100' });
      this.loaded.set(name, ds);
    }
    return ds;
  }
}
