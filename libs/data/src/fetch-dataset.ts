// `flowprune data fetch`: download an official CIFAR archive (resumable, MD5-checked), unpack it
// beside the target, read it through once, and rename it into place. A complete dataset folder
// that is already there is left alone; an incomplete one is reported, never overwritten.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installArchive, removeStaleTemps } from './archive.js';
import type { CifarVariant } from './cifar-format.js';
import { CIFAR_ARCHIVES, type CifarArchiveFormat } from './cifar-sources.js';
import type { DatasetFormat, LoadedDataset } from './dataset.js';
import { download, DownloadError, type DownloadProgress } from './download.js';
import { loadDataset } from './registry.js';

export interface FetchCifarOptions {
  dataset: CifarVariant;
  format?: CifarArchiveFormat;
  /** Parent folder: the dataset lands in dir/<archive folder>. */
  dir: string;
  /** A mirror of the official archive (default: the official URL). */
  url?: string;
  /** Expected MD5 (default: the official archive's). */
  md5?: string;
  retries?: number;
  keepArchive?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  /** One line per stage (download, verify, extract). */
  onStatus?: (line: string) => void;
}

export interface FetchCifarResult {
  /** The dataset folder to serve. */
  path: string;
  format: DatasetFormat;
  /** present: it was already there and complete; fetched: downloaded and installed now. */
  status: 'present' | 'fetched';
  trainSize?: number;
  testSize?: number;
  numClasses?: number;
  downloadedBytes: number;
  resumedFrom: number;
}

/** Files of the layout that a folder lacks (all of them when it is no folder). */
function missingFiles(path: string, files: readonly string[]): string[] {
  return files.filter((f) => !existsSync(join(path, f)));
}

/** An exclusive lock file holding our pid; a lock whose process is gone is taken over. */
function lock(path: string): () => void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DownloadError(`another fetch (pid ${pid}) is working in this folder (${path}); wait for it to finish`, false);
      }
      unlinkSync(path);
    }
  }
  throw new DownloadError(`cannot take the lock ${path}`, false);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function fetchCifar(o: FetchCifarOptions): Promise<FetchCifarResult> {
  const spec = CIFAR_ARCHIVES[o.dataset][o.format ?? 'binary'];
  const dir = resolve(o.dir);
  const target = join(dir, spec.folder);
  const status = o.onStatus ?? (() => undefined);
  const none = { downloadedBytes: 0, resumedFrom: 0 };
  if (existsSync(target)) {
    const missing = missingFiles(target, spec.files);
    if (missing.length === 0) {
      status(`${target} is already complete; left alone`);
      return { path: target, format: spec.format, status: 'present', ...none };
    }
    throw new DownloadError(`${target} exists but is incomplete (missing ${missing.join(', ')}); move or remove it, then fetch again`, false);
  }
  mkdirSync(dir, { recursive: true });
  const unlock = lock(join(dir, `.${spec.folder}.lock`));
  try {
    removeStaleTemps(dir, spec.folder);
    const url = o.url ?? spec.url;
    const archive = join(dir, spec.file);
    status(`downloading ${url} -> ${archive}`);
    const dl = await download({
      url,
      dest: archive,
      md5: o.md5 ?? spec.md5,
      retries: o.retries,
      onProgress: o.onProgress,
      onRetry: (err, attempt) => status(`${err.message}; retrying (attempt ${attempt + 1})`),
    });
    status(`${dl.cached ? 'found' : 'downloaded'} ${archive} (${dl.bytes} bytes), MD5 ${o.md5 ?? spec.md5} verified`);
    let loaded: LoadedDataset | undefined;
    const path = await installArchive({
      archive,
      dir,
      folder: spec.folder,
      // Read the whole dataset once before it becomes visible: a bad record fails here, not in training.
      verify: (extracted) => {
        const missing = missingFiles(extracted, spec.files);
        if (missing.length) throw new DownloadError(`${archive}: the archive lacks ${missing.join(', ')} under ${spec.folder}/`, false);
        loaded = loadDataset(extracted, spec.format);
      },
    });
    if (!o.keepArchive) rmSync(archive, { force: true });
    status(`installed ${path}`);
    return {
      path,
      format: spec.format,
      status: 'fetched',
      trainSize: loaded?.train.count,
      testSize: loaded?.test.count,
      numClasses: loaded?.classNames.length,
      downloadedBytes: dl.cached ? 0 : dl.bytes - dl.resumedFrom,
      resumedFrom: dl.resumedFrom,
    };
  } finally {
    unlock();
  }
}
