// `flowprune data fetch`: download an official CIFAR archive (resumable, MD5-checked), unpack it
// beside the target, read it through once, and rename it into place; or the four idx files of an
// MNIST-family dataset into a staging folder, read through once, renamed into place; or link an
// installed copy (Debian's) into place without copying it. A complete dataset folder that is
// already there is left alone; an incomplete one is reported, never overwritten.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installArchive, removeStaleTemps } from './archive.js';
import type { CifarVariant } from './cifar-format.js';
import { CIFAR_ARCHIVES, type CifarArchiveFormat } from './cifar-sources.js';
import type { DatasetFormat, LoadedDataset } from './dataset.js';
import { download, DownloadError, type DownloadProgress, type DownloadResult } from './download.js';
import { IDX_FILES, IDX_VARIANTS, type IdxVariant } from './idx.js';
import { IDX_SOURCES } from './idx-sources.js';
import { detectFormat, loadDataset } from './registry.js';

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

export interface FetchResult {
  /** The dataset folder to serve. */
  path: string;
  format: DatasetFormat;
  /** present: it was already there and complete; fetched: downloaded and installed now; linked: an installed copy linked into place. */
  status: 'present' | 'fetched' | 'linked';
  trainSize?: number;
  testSize?: number;
  numClasses?: number;
  downloadedBytes: number;
  resumedFrom: number;
}

/** Files of the layout that a folder lacks (all of them when it is no folder); `alternatives` are other names a file may have (an idx file's .gz). */
function missingFiles(path: string, files: readonly string[], alternatives: (f: string) => string[] = () => []): string[] {
  return files.filter((f) => ![f, ...alternatives(f)].some((name) => existsSync(join(path, name))));
}

/** A target that exists is left alone when complete and reported when not; true when it is there. */
function alreadyThere(target: string, missing: string[], status: (line: string) => void): boolean {
  if (!existsSync(target)) return false;
  if (missing.length === 0) {
    status(`${target} is already complete; left alone`);
    return true;
  }
  throw new DownloadError(`${target} exists but is incomplete (missing ${missing.join(', ')}); move or remove it, then fetch again`, false);
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

export async function fetchCifar(o: FetchCifarOptions): Promise<FetchResult> {
  const spec = CIFAR_ARCHIVES[o.dataset][o.format ?? 'binary'];
  const dir = resolve(o.dir);
  const target = join(dir, spec.folder);
  const status = o.onStatus ?? (() => undefined);
  if (alreadyThere(target, missingFiles(target, spec.files), status)) return { path: target, format: spec.format, status: 'present', downloadedBytes: 0, resumedFrom: 0 };
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

export interface FetchIdxOptions {
  dataset: IdxVariant;
  /** Parent folder: the dataset lands in dir/<dataset folder> (mnist, fashion-mnist, kmnist). */
  dir: string;
  /** Base URLs tried in order, each file fetched from `<base><file>.gz` (default: the official locations). */
  mirrors?: readonly string[];
  /** Expected MD5 per file name without .gz (default: the published ones). */
  md5?: Readonly<Record<string, string>>;
  /**
   * An installed copy (e.g. Debian's /usr/share/datasets/fashion-mnist): read through once, then
   * dir/<dataset folder> becomes a link to it; nothing is downloaded or copied.
   */
  from?: string;
  retries?: number;
  onProgress?: (p: DownloadProgress) => void;
  onStatus?: (line: string) => void;
}

const gzName = (f: string): string[] => [`${f}.gz`];

/** Reads a dataset folder through once and reports its sizes. */
function readThrough(path: string): Pick<FetchResult, 'trainSize' | 'testSize' | 'numClasses'> {
  const ds = loadDataset(path, 'idx');
  return { trainSize: ds.train.count, testSize: ds.test.count, numClasses: ds.classNames.length };
}

export async function fetchIdx(o: FetchIdxOptions): Promise<FetchResult> {
  const info = IDX_VARIANTS[o.dataset];
  const dir = resolve(o.dir);
  const target = join(dir, info.folder);
  const status = o.onStatus ?? (() => undefined);
  if (alreadyThere(target, missingFiles(target, IDX_FILES, gzName), status)) return { path: target, format: 'idx', status: 'present', downloadedBytes: 0, resumedFrom: 0 };
  mkdirSync(dir, { recursive: true });
  const unlock = lock(join(dir, `.${info.folder}.lock`));
  try {
    return o.from ? linkInstalled(o.from, target, status) : await downloadIdx(o, dir, target, status);
  } finally {
    unlock();
  }
}

/** Links an installed copy into place (a link under a temporary name, renamed: atomic). */
function linkInstalled(from: string, target: string, status: (line: string) => void): FetchResult {
  const src = resolve(from);
  if (detectFormat(src) !== 'idx') throw new DownloadError(`--from ${src}: not an idx dataset folder`, false);
  const sizes = readThrough(src);
  const tmp = `${target}.tmp-link-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(src, tmp, 'dir');
  renameSync(tmp, target);
  status(`linked ${target} -> ${src} (read through: ${sizes.trainSize} train / ${sizes.testSize} test images); nothing copied`);
  return { path: target, format: 'idx', status: 'linked', ...sizes, downloadedBytes: 0, resumedFrom: 0 };
}

/** The four files into a staging folder (kept between runs so .part files resume), read through, renamed into place. */
async function downloadIdx(o: FetchIdxOptions, dir: string, target: string, status: (line: string) => void): Promise<FetchResult> {
  const source = IDX_SOURCES[o.dataset];
  const staging = join(dir, `.${IDX_VARIANTS[o.dataset].folder}.download`);
  mkdirSync(staging, { recursive: true });
  let downloadedBytes = 0;
  let resumedFrom = 0;
  for (const file of IDX_FILES) {
    const md5 = o.md5?.[file] ?? source.md5[file];
    const dl = await fromMirrors(o.mirrors ?? source.mirrors, `${file}.gz`, join(staging, `${file}.gz`), md5, o, status);
    status(`${dl.cached ? 'found' : 'downloaded'} ${file}.gz (${dl.bytes} bytes), MD5 ${md5} verified`);
    if (!dl.cached) downloadedBytes += dl.bytes - dl.resumedFrom;
    resumedFrom += dl.resumedFrom;
  }
  // Read the whole dataset once before it becomes visible: a bad record fails here, not in training.
  const sizes = readThrough(staging);
  renameSync(staging, target);
  status(`installed ${target}`);
  return { path: target, format: 'idx', status: 'fetched', ...sizes, downloadedBytes, resumedFrom };
}

/** Tries each mirror in turn; a dropped connection is resumed by download() itself. */
async function fromMirrors(
  mirrors: readonly string[],
  name: string,
  dest: string,
  md5: string,
  o: FetchIdxOptions,
  status: (line: string) => void,
): Promise<DownloadResult> {
  const failures: string[] = [];
  for (const base of mirrors) {
    const url = `${base}${name}`;
    status(`downloading ${url}`);
    try {
      return await download({
        url,
        dest,
        md5,
        retries: o.retries,
        onProgress: o.onProgress,
        onRetry: (err, attempt) => status(`${err.message}; retrying (attempt ${attempt + 1})`),
      });
    } catch (err) {
      // A transient failure keeps its .part for the next run; another mirror would not match it.
      if (err instanceof DownloadError && err.transient) throw err;
      failures.push((err as Error).message);
    }
  }
  throw new DownloadError(failures.join('; '), false);
}
