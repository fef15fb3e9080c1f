// Reads and writes whole CIFAR directories as distributed in the "binary version" archives:
// cifar-10-batches-bin/ and cifar-100-binary/.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCifarBinary, writeCifarBinary } from './cifar-binary.js';
import {
  CIFAR100_COARSE_CLASSES,
  CIFAR_IMAGE_BYTES,
  type CifarSplit,
  type CifarVariant,
  cifarDefaultClasses,
  cifarDisplayName,
} from './cifar-format.js';
import { checkFilesPresent } from './dataset-files.js';
import { DataError } from './errors.js';

export interface CifarDirectoryLayout {
  train: readonly string[];
  test: readonly string[];
  /** File with one (fine) class name per line. */
  classNames: string;
  /** CIFAR-100 only: file with one coarse class name per line. */
  coarseClassNames?: string;
  /** Folder the official archive extracts to; used for a hint when the parent is given. */
  archiveFolder: string;
}

export const CIFAR10_LAYOUT: CifarDirectoryLayout = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
  classNames: 'batches.meta.txt',
  archiveFolder: 'cifar-10-batches-bin',
};

export const CIFAR100_LAYOUT: CifarDirectoryLayout = {
  train: ['train.bin'],
  test: ['test.bin'],
  classNames: 'fine_label_names.txt',
  coarseClassNames: 'coarse_label_names.txt',
  archiveFolder: 'cifar-100-binary',
};

export function cifarLayout(variant: CifarVariant): CifarDirectoryLayout {
  return variant === 'cifar10' ? CIFAR10_LAYOUT : CIFAR100_LAYOUT;
}

export interface CifarDataset {
  variant: CifarVariant;
  dir: string;
  classNames: string[];
  coarseClassNames?: string[];
  train: CifarSplit;
  test: CifarSplit;
}

export interface ReadCifarDirectoryOptions {
  variant: CifarVariant;
  /** Number of (fine) classes; defaults to 10 / 100. The class-name file must list exactly this many. */
  numClasses?: number;
}

/** Reads a whole CIFAR directory: all train files concatenated in order, the test file, class names. */
export function readCifarDirectory(dir: string, options: ReadCifarDirectoryOptions): CifarDataset {
  const { variant } = options;
  const numClasses = options.numClasses ?? cifarDefaultClasses(variant);
  const layout = cifarLayout(variant);
  checkLayoutFiles(dir, variant, layout);

  const read = (name: string): CifarSplit => readCifarBinary(join(dir, name), { variant, numClasses });
  const train = concatSplits(layout.train.map(read), variant);
  const test = concatSplits(layout.test.map(read), variant);
  const classNames = readNames(join(dir, layout.classNames), numClasses);
  const dataset: CifarDataset = { variant, dir, classNames, train, test };
  if (layout.coarseClassNames) {
    dataset.coarseClassNames = readNames(join(dir, layout.coarseClassNames), CIFAR100_COARSE_CLASSES);
  }
  return dataset;
}

export function readCifar10Directory(dir: string, numClasses?: number): CifarDataset {
  return readCifarDirectory(dir, { variant: 'cifar10', numClasses });
}

export function readCifar100Directory(dir: string, numClasses?: number): CifarDataset {
  return readCifarDirectory(dir, { variant: 'cifar100', numClasses });
}

/** Checks every expected file up front so one error lists all that is missing. */
function checkLayoutFiles(dir: string, variant: CifarVariant, layout: CifarDirectoryLayout): void {
  const files = [...layout.train, ...layout.test, layout.classNames, ...(layout.coarseClassNames ? [layout.coarseClassNames] : [])];
  checkFilesPresent(dir, { name: cifarDisplayName(variant), version: 'binary', files, archiveFolder: layout.archiveFolder });
}

/** Class-name files have one name per line; the official ones end with blank lines. */
function readNames(path: string, expectedCount: number): string[] {
  const names = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expectedCount) {
    throw new DataError(
      `${path}: lists ${names.length} class names but ${expectedCount} classes are expected (one name per line). ` +
        `Fix the file or pass the matching numClasses.`,
      { file: path, field: 'classNames' },
    );
  }
  return names;
}

/** Concatenates several decoded files (e.g. the five CIFAR-10 train batches) into one split. */
export function concatSplits(parts: readonly CifarSplit[], variant: CifarVariant): CifarSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const coarseLabels = variant === 'cifar100' ? new Uint8Array(count) : undefined;
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR_IMAGE_BYTES);
    labels.set(p.labels, at);
    if (coarseLabels && p.coarseLabels) coarseLabels.set(p.coarseLabels, at);
    at += p.count;
  }
  return coarseLabels ? { variant, images, labels, coarseLabels, count } : { variant, images, labels, count };
}

/** Splits one split into `parts` contiguous pieces whose sizes differ by at most one. */
export function splitEvenly(split: CifarSplit, parts: number): CifarSplit[] {
  const out: CifarSplit[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const n = Math.floor(split.count / parts) + (i < split.count % parts ? 1 : 0);
    const piece: CifarSplit = {
      variant: split.variant,
      images: split.images.subarray(start * CIFAR_IMAGE_BYTES, (start + n) * CIFAR_IMAGE_BYTES),
      labels: split.labels.subarray(start, start + n),
      count: n,
    };
    if (split.coarseLabels) piece.coarseLabels = split.coarseLabels.subarray(start, start + n);
    out.push(piece);
    start += n;
  }
  return out;
}

export interface WriteCifarDirectoryInput {
  variant: CifarVariant;
  train: CifarSplit;
  test: CifarSplit;
  classNames: readonly string[];
  /** CIFAR-100 only; defaults to `coarse-0` … `coarse-19`. */
  coarseClassNames?: readonly string[];
}

/** Writes a directory in the official layout (CIFAR-10 train split over five batch files). */
export function writeCifarDirectory(dir: string, input: WriteCifarDirectoryInput): string[] {
  const layout = cifarLayout(input.variant);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, s: CifarSplit): void => {
    const path = join(dir, name);
    writeCifarBinary(path, s.images, s.labels, input.variant, s.coarseLabels);
    written.push(path);
  };
  splitEvenly(input.train, layout.train.length).forEach((s, i) => put(layout.train[i], s));
  splitEvenly(input.test, layout.test.length).forEach((s, i) => put(layout.test[i], s));
  const names = (file: string, list: readonly string[]): void => {
    const path = join(dir, file);
    writeFileSync(path, list.join('\n') + '\n');
    written.push(path);
  };
  names(layout.classNames, input.classNames);
  if (layout.coarseClassNames) {
    const coarse = input.coarseClassNames ?? Array.from({ length: CIFAR100_COARSE_CLASSES }, (_, i) => `coarse-${i}`);
    names(layout.coarseClassNames, coarse);
  }
  return written;
}
