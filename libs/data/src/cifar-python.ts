// CIFAR-10/100 in the "python version" layout that torchvision downloads: cifar-10-batches-py/
// (data_batch_1..5, test_batch, batches.meta) and cifar-100-python/ (train, test, meta). Each file
// is a pickled dict: b'data' a uint8 numpy array N x 3072 (CHW per row, like the binary records),
// b'labels' (CIFAR-10) or b'fine_labels' + b'coarse_labels' (CIFAR-100) lists of ints.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concatSplits, splitEvenly, type CifarDataset, type WriteCifarDirectoryInput } from './cifar-dir.js';
import {
  CIFAR100_COARSE_CLASSES,
  CIFAR_IMAGE_BYTES,
  cifarDefaultClasses,
  cifarDisplayName,
  type CifarSplit,
  type CifarVariant,
} from './cifar-format.js';
import { checkFilesPresent } from './dataset-files.js';
import { DataError } from './errors.js';
import { readPickle } from './pickle-reader.js';
import { NdArray, pyTypeName, type PyKey, type PyValue } from './pickle-values.js';
import { writePickle } from './pickle-writer.js';

export interface CifarPythonLayout {
  train: readonly string[];
  test: readonly string[];
  meta: string;
  /** Key of the (fine) class names in the meta file. */
  namesKey: string;
  coarseNamesKey?: string;
  archiveFolder: string;
}

export const CIFAR10_PYTHON_LAYOUT: CifarPythonLayout = {
  train: ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5'],
  test: ['test_batch'],
  meta: 'batches.meta',
  namesKey: 'label_names',
  archiveFolder: 'cifar-10-batches-py',
};

export const CIFAR100_PYTHON_LAYOUT: CifarPythonLayout = {
  train: ['train'],
  test: ['test'],
  meta: 'meta',
  namesKey: 'fine_label_names',
  coarseNamesKey: 'coarse_label_names',
  archiveFolder: 'cifar-100-python',
};

export function cifarPythonLayout(variant: CifarVariant): CifarPythonLayout {
  return variant === 'cifar10' ? CIFAR10_PYTHON_LAYOUT : CIFAR100_PYTHON_LAYOUT;
}

export interface ReadCifarPickleOptions {
  variant: CifarVariant;
  numClasses?: number;
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file: path });
  }
}

function asDict(v: PyValue, file: string): Map<PyKey, PyValue> {
  if (!(v instanceof Map)) throw new DataError(`${file}: expected a pickled dict, found ${pyTypeName(v)}`, { file, field: 'pickle' });
  return v;
}

function entry(d: Map<PyKey, PyValue>, key: string, file: string, hint = ''): PyValue {
  const v = d.get(key);
  if (v === undefined) {
    throw new DataError(`${file}: has no '${key}' entry (keys: ${[...d.keys()].join(', ')}).${hint}`, { file, field: key });
  }
  return v;
}

/** A list of ints, or an integer numpy vector, as numbers. */
function intList(v: PyValue, file: string, field: string): ArrayLike<number> {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x)) {
        throw new DataError(`${file}: ${field}[${i}] is ${pyTypeName(x)}, expected int`, { file, record: i, field });
      }
    });
    return v as number[];
  }
  if (v instanceof NdArray && v.shape.length === 1 && v.dtype && /^[iu][1248]$/.test(v.dtype.descr) && v.dtype.byteOrder !== '>') {
    const size = v.dtype.itemSize;
    const dv = new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    const signed = v.dtype.descr[0] === 'i';
    return Array.from({ length: v.shape[0] }, (_, i) => {
      const at = i * size;
      if (size === 1) return signed ? dv.getInt8(at) : dv.getUint8(at);
      if (size === 2) return signed ? dv.getInt16(at, true) : dv.getUint16(at, true);
      if (size === 4) return signed ? dv.getInt32(at, true) : dv.getUint32(at, true);
      return Number(signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true));
    });
  }
  throw new DataError(`${file}: '${field}' is ${pyTypeName(v)}, expected a list of ints`, { file, field });
}

function labelsInRange(values: ArrayLike<number>, count: number, limit: number, file: string, field: string): Uint8Array {
  if (values.length !== count) {
    throw new DataError(`${file}: '${field}' has ${values.length} entries but 'data' has ${count} images`, { file, field });
  }
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v < 0 || v >= limit) {
      throw new DataError(`${file}: ${field}[${i}] = ${v} is outside 0..${limit - 1} (record ${i}); the file is corrupt or of another dataset`, {
        file,
        record: i,
        field,
      });
    }
    out[i] = v;
  }
  return out;
}

/** The N x 3072 uint8 pixel array, checked and copied out of the file buffer. */
function pixelData(v: PyValue, file: string): { images: Uint8Array; count: number } {
  const offset = v instanceof NdArray && v.dataOffset >= 0 ? v.dataOffset : undefined;
  if (!(v instanceof NdArray) || v.dtype?.descr !== 'u1') {
    const what = v instanceof NdArray ? `an array of dtype ${v.dtype?.descr}` : pyTypeName(v);
    throw new DataError(`${file}: 'data' is ${what}, expected a uint8 numpy array`, { file, offset, field: 'data' });
  }
  const perImage = v.shape.slice(1).reduce((n, d) => n * d, 1);
  if (v.shape.length < 2 || perImage !== CIFAR_IMAGE_BYTES || v.fortran) {
    throw new DataError(
      `${file}: 'data' has shape (${v.shape.join(', ')})${v.fortran ? ' in Fortran order' : ''}; expected (N, 3072) in C order ` +
        `(wrong record size: each row must be one 32x32x3 image)`,
      { file, offset, field: 'data' },
    );
  }
  // A plain copy (not a Buffer view), so the file buffer can be freed.
  return { images: new Uint8Array(v.data), count: v.shape[0] };
}

/** Decodes one pickled CIFAR batch (bytes of data_batch_N, test_batch, train or test). */
export function decodeCifarPickle(bytes: Uint8Array, file: string, options: ReadCifarPickleOptions): CifarSplit {
  const { variant } = options;
  const numClasses = options.numClasses ?? cifarDefaultClasses(variant);
  const d = asDict(readPickle(bytes, file), file);
  const { images, count } = pixelData(entry(d, 'data', file), file);
  if (variant === 'cifar10') {
    const hint = d.has('fine_labels') ? ' It has fine_labels: this is a CIFAR-100 file.' : '';
    const labels = labelsInRange(intList(entry(d, 'labels', file, hint), file, 'labels'), count, numClasses, file, 'labels');
    return { variant, images, labels, count };
  }
  const hint = d.has('labels') ? ' It has labels: this is a CIFAR-10 file.' : '';
  const labels = labelsInRange(intList(entry(d, 'fine_labels', file, hint), file, 'fine_labels'), count, numClasses, file, 'fine_labels');
  const coarse = intList(entry(d, 'coarse_labels', file), file, 'coarse_labels');
  const coarseLabels = labelsInRange(coarse, count, CIFAR100_COARSE_CLASSES, file, 'coarse_labels');
  return { variant, images, labels, coarseLabels, count };
}

export function readCifarPickle(path: string, options: ReadCifarPickleOptions): CifarSplit {
  return decodeCifarPickle(readFile(path), path, options);
}

function namesFrom(meta: Map<PyKey, PyValue>, key: string, expected: number, file: string): string[] {
  const v = entry(meta, key, file);
  if (!Array.isArray(v)) throw new DataError(`${file}: '${key}' is ${pyTypeName(v)}, expected a list of names`, { file, field: key });
  const names = v.map((x, i) => {
    if (typeof x === 'string') return x;
    if (x instanceof Uint8Array) return Buffer.from(x).toString('utf8');
    throw new DataError(`${file}: ${key}[${i}] is ${pyTypeName(x)}, expected a name`, { file, record: i, field: key });
  });
  if (names.length !== expected) {
    throw new DataError(`${file}: '${key}' lists ${names.length} class names but ${expected} classes are expected`, { file, field: key });
  }
  return names;
}

/** Reads a whole python-version directory: train files in order, the test file, class names. */
export function readCifarPythonDirectory(dir: string, options: ReadCifarPickleOptions): CifarDataset {
  const { variant } = options;
  const numClasses = options.numClasses ?? cifarDefaultClasses(variant);
  const layout = cifarPythonLayout(variant);
  checkFilesPresent(dir, {
    name: cifarDisplayName(variant),
    version: 'python',
    files: [...layout.train, ...layout.test, layout.meta],
    archiveFolder: layout.archiveFolder,
  });
  const read = (name: string): CifarSplit => readCifarPickle(join(dir, name), { variant, numClasses });
  const train = concatSplits(layout.train.map(read), variant);
  const test = concatSplits(layout.test.map(read), variant);
  const metaFile = join(dir, layout.meta);
  const meta = asDict(readPickle(readFile(metaFile), metaFile), metaFile);
  const dataset: CifarDataset = { variant, dir, classNames: namesFrom(meta, layout.namesKey, numClasses, metaFile), train, test };
  if (layout.coarseNamesKey) dataset.coarseClassNames = namesFrom(meta, layout.coarseNamesKey, CIFAR100_COARSE_CLASSES, metaFile);
  return dataset;
}

const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** The dict one batch file holds, in the official key order and types (Python 2 str keys/values). */
export function cifarBatchDict(split: CifarSplit, batchLabel: string, fileNames?: readonly string[]): Map<PyKey, PyValue> {
  const d = new Map<PyKey, PyValue>();
  d.set('data', NdArray.of(split.images.subarray(0, split.count * CIFAR_IMAGE_BYTES), [split.count, CIFAR_IMAGE_BYTES]));
  if (split.variant === 'cifar10') d.set('labels', Array.from(split.labels));
  else {
    d.set('fine_labels', Array.from(split.labels));
    d.set('coarse_labels', Array.from(split.coarseLabels ?? new Uint8Array(split.count)));
  }
  d.set('batch_label', bytesOf(batchLabel));
  d.set('filenames', Array.from({ length: split.count }, (_, i) => bytesOf(fileNames?.[i] ?? `image_${i}.png`)));
  return d;
}

/** Encodes one batch file in the python-version layout. */
export function encodeCifarPickle(split: CifarSplit, batchLabel = 'batch'): Uint8Array {
  return writePickle(cifarBatchDict(split, batchLabel));
}

/** Writes a directory in the python-version layout (CIFAR-10 train split over five batch files). */
export function writeCifarPythonDirectory(dir: string, input: WriteCifarDirectoryInput): string[] {
  const layout = cifarPythonLayout(input.variant);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, bytes: Uint8Array): void => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    written.push(path);
  };
  const parts = splitEvenly(input.train, layout.train.length);
  parts.forEach((s, i) => put(layout.train[i], encodeCifarPickle(s, `training batch ${i + 1} of ${parts.length}`)));
  splitEvenly(input.test, layout.test.length).forEach((s, i) => put(layout.test[i], encodeCifarPickle(s, 'testing batch 1 of 1')));
  const meta = new Map<PyKey, PyValue>();
  meta.set(layout.namesKey, input.classNames.map(bytesOf));
  if (layout.coarseNamesKey) {
    const coarse = input.coarseClassNames ?? Array.from({ length: CIFAR100_COARSE_CLASSES }, (_, i) => `coarse-${i}`);
    meta.set(layout.coarseNamesKey, coarse.map(bytesOf));
  }
  put(layout.meta, writePickle(meta));
  return written;
}
