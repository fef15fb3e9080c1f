// The idx format of MNIST, Fashion-MNIST and KMNIST (LeCun's layout): four files per dataset,
// {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw or gzipped. Each file is a big-endian header
// (magic 0x0000080N with N = number of dimensions, then N uint32 sizes) followed by the uint8
// data. The 28x28 grey images become the CHW 32x32x3 bytes every other format loads into: zero-
// padded by 2 pixels on each side (the paper's networks take 32x32) and the grey plane repeated
// into R, G and B. Validation is as strict as the CIFAR readers': byte offsets in every error.

import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CIFAR_CHANNELS, CIFAR_IMAGE_BYTES, CIFAR_SIDE } from './cifar-format.js';
import { checkFilesPresent } from './dataset-files.js';
import type { LabelledImages, LoadedDataset } from './dataset.js';
import { DataError } from './errors.js';

export const IDX_SIDE = 28;
export const IDX_IMAGE_BYTES = IDX_SIDE * IDX_SIDE;
/** Zero border on each side that takes a 28x28 image to the 32x32 the networks expect. */
export const IDX_PAD = (CIFAR_SIDE - IDX_SIDE) / 2;
/** Magic numbers: two zero bytes, type 0x08 (unsigned byte), number of dimensions. */
const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;
const IMAGES_HEADER = 16;
const LABELS_HEADER = 8;
/** All three datasets have ten classes; a classes.txt beside the files sets another list. */
const IDX_DEFAULT_CLASSES = 10;
/** Optional file of class names, one per line, that overrides the names a folder name implies. */
export const IDX_CLASS_FILE = 'classes.txt';

export type IdxVariant = 'mnist' | 'fashion-mnist' | 'kmnist';

export interface IdxVariantInfo {
  displayName: string;
  /** Folder `data fetch` installs into; also how the registry recognises the dataset. */
  folder: string;
  classNames: readonly string[];
}

/** Class names as torchvision lists them (torchvision/datasets/mnist.py), MNIST's as plain digits. */
export const IDX_VARIANTS: Record<IdxVariant, IdxVariantInfo> = {
  mnist: { displayName: 'MNIST', folder: 'mnist', classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  'fashion-mnist': {
    displayName: 'Fashion-MNIST',
    folder: 'fashion-mnist',
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
  kmnist: { displayName: 'KMNIST', folder: 'kmnist', classNames: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'] },
};

export const IDX_VARIANT_NAMES = Object.keys(IDX_VARIANTS) as IdxVariant[];

/** The four files, without the optional `.gz`. */
export const IDX_LAYOUT = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

export const IDX_FILES: readonly string[] = [IDX_LAYOUT.train.images, IDX_LAYOUT.train.labels, IDX_LAYOUT.test.images, IDX_LAYOUT.test.labels];

/** The file of `name` in `dir`: the raw file when present, else the gzipped one. */
function idxFile(dir: string, name: string): string {
  const raw = join(dir, name);
  return existsSync(raw) ? raw : `${raw}.gz`;
}

/** True when `dir` holds the idx train or test images (raw or gzipped). */
export function hasIdxFiles(dir: string): boolean {
  return [IDX_LAYOUT.train.images, IDX_LAYOUT.test.images].some((n) => existsSync(join(dir, n)) || existsSync(join(dir, `${n}.gz`)));
}

/** Which dataset a folder holds, by its name (as given, then with links resolved): the longest match wins. */
export function idxVariantOf(dir: string): IdxVariant | undefined {
  const names = [basename(dir)];
  try {
    names.push(basename(realpathSync(dir)));
  } catch {
    // a missing folder is the reader's to report
  }
  for (const name of names.map((n) => n.toLowerCase())) {
    if (name.includes('fashion')) return 'fashion-mnist';
    if (name.includes('kmnist') || name.includes('kuzushiji')) return 'kmnist';
    if (name.includes('mnist')) return 'mnist';
  }
  return undefined;
}

/** One file's bytes, gunzipped when its name ends in .gz. */
function readIdxBytes(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file: path });
  }
  if (!path.endsWith('.gz')) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataError(`${path}: not a complete gzip file (${(err as Error).message}); re-download it (flowprune data fetch)`, {
      file: path,
      field: 'gzip',
    });
  }
}

/** Offsets of a .gz file are those of its decompressed bytes; the message says so. */
const where = (file: string, offset: number): string => `byte offset ${offset}${file.endsWith('.gz') ? ' of the decompressed data' : ''}`;

const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function checkHeader(bytes: Uint8Array, file: string, magic: number, headerBytes: number, what: string): void {
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${file}: ${bytes.length} bytes is shorter than the ${headerBytes}-byte idx header of ${what} (truncated at ${where(file, bytes.length)})`,
      { file, offset: bytes.length, field: 'size' },
    );
  }
  const found = u32(bytes, 0);
  if (found === magic) return;
  const other = magic === IDX_IMAGES_MAGIC ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC;
  const hint =
    found === other
      ? ` That is the magic of ${other === IDX_LABELS_MAGIC ? 'a labels' : 'an images'} file: are the images and labels files swapped?`
      : bytes[0] === 0x1f && bytes[1] === 0x8b
        ? ' The file is gzipped: name it .gz.'
        : ' The file is not an idx file or is corrupt; re-download it.';
  throw new DataError(`${file}: wrong magic number ${hex(found)} at ${where(file, 0)}; expected ${hex(magic)} (${what}).${hint}`, {
    file,
    offset: 0,
    field: 'magic',
  });
}

/** Checks the data after the header is exactly `count` records of `recordBytes`. */
function checkLength(bytes: Uint8Array, file: string, headerBytes: number, count: number, recordBytes: number, what: string): void {
  const expected = headerBytes + count * recordBytes;
  if (bytes.length === expected) return;
  if (bytes.length > expected) {
    throw new DataError(
      `${file}: the header announces ${count} ${what} (${expected} bytes) but the file has ${bytes.length - expected} more bytes, from ${where(file, expected)}`,
      { file, offset: expected, field: 'size' },
    );
  }
  const whole = Math.floor((bytes.length - headerBytes) / recordBytes);
  const offset = headerBytes + whole * recordBytes;
  throw new DataError(
    `${file}: truncated: the header announces ${count} ${what} but the file ends after ${whole}; record ${whole} at ` +
      `${where(file, offset)} has only ${bytes.length - offset} of ${recordBytes} bytes. Re-download the file.`,
    { file, offset, record: whole, field: 'size' },
  );
}

/** Decodes an images file into padded CHW 32x32x3 bytes. */
export function decodeIdxImages(bytes: Uint8Array, file: string): { images: Uint8Array; count: number } {
  checkHeader(bytes, file, IDX_IMAGES_MAGIC, IMAGES_HEADER, 'idx3 unsigned-byte images');
  const count = u32(bytes, 4);
  const rows = u32(bytes, 8);
  const cols = u32(bytes, 12);
  if (rows !== IDX_SIDE || cols !== IDX_SIDE) {
    throw new DataError(`${file}: images are ${rows}x${cols} (header at ${where(file, 8)}); only ${IDX_SIDE}x${IDX_SIDE} idx images are read`, {
      file,
      offset: 8,
      field: 'size',
    });
  }
  checkLength(bytes, file, IMAGES_HEADER, count, IDX_IMAGE_BYTES, 'images');
  return { images: padToChw(bytes.subarray(IMAGES_HEADER), count), count };
}

/** 28x28 grey -> 32x32 with a 2-pixel zero border, the plane written once and copied to G and B. */
function padToChw(grey: Uint8Array, count: number): Uint8Array {
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const out = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const base = i * CIFAR_IMAGE_BYTES;
    const src = i * IDX_IMAGE_BYTES;
    for (let y = 0; y < IDX_SIDE; y++) {
      out.set(grey.subarray(src + y * IDX_SIDE, src + (y + 1) * IDX_SIDE), base + (y + IDX_PAD) * CIFAR_SIDE + IDX_PAD);
    }
    for (let c = 1; c < CIFAR_CHANNELS; c++) out.copyWithin(base + c * plane, base, base + plane);
  }
  return out;
}

/** Decodes a labels file; every label must index one of `numClasses` classes. */
export function decodeIdxLabels(bytes: Uint8Array, file: string, numClasses: number): { labels: Uint8Array; count: number } {
  checkHeader(bytes, file, IDX_LABELS_MAGIC, LABELS_HEADER, 'idx1 unsigned-byte labels');
  const count = u32(bytes, 4);
  checkLength(bytes, file, LABELS_HEADER, count, 1, 'labels');
  const labels = bytes.slice(LABELS_HEADER);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= numClasses) {
      const offset = LABELS_HEADER + i;
      throw new DataError(
        `${file}: label ${i} (at ${where(file, offset)}) is ${labels[i]}, but the dataset has ${numClasses} classes (valid 0..${numClasses - 1}). ` +
          `The file is corrupt, or the dataset has more classes: list them in ${IDX_CLASS_FILE}.`,
        { file, offset, record: i, field: 'label' },
      );
    }
  }
  return { labels, count };
}

/** Reads one split from its images and labels files; the two counts must agree. */
export function readIdxSplit(imagesFile: string, labelsFile: string, numClasses: number): LabelledImages {
  const imageBytes = readIdxBytes(imagesFile);
  const labelBytes = readIdxBytes(labelsFile);
  // Headers first, so a count mismatch is reported before a (consequent) length error.
  checkHeader(imageBytes, imagesFile, IDX_IMAGES_MAGIC, IMAGES_HEADER, 'idx3 unsigned-byte images');
  checkHeader(labelBytes, labelsFile, IDX_LABELS_MAGIC, LABELS_HEADER, 'idx1 unsigned-byte labels');
  const nImages = u32(imageBytes, 4);
  const nLabels = u32(labelBytes, 4);
  if (nImages !== nLabels) {
    throw new DataError(
      `${labelsFile}: announces ${nLabels} labels (count at ${where(labelsFile, 4)}) but ${imagesFile} announces ${nImages} images; ` +
        `the two files must come from the same split and download`,
      { file: labelsFile, offset: 4, field: 'count' },
    );
  }
  const { labels } = decodeIdxLabels(labelBytes, labelsFile, numClasses);
  const { images, count } = decodeIdxImages(imageBytes, imagesFile);
  return { images, labels, count };
}

/** Class names: classes.txt when present, else the known list of the dataset the folder name names, else "0".."9". */
function idxClassNames(dir: string): { names: string[]; variant?: IdxVariant } {
  const file = join(dir, IDX_CLASS_FILE);
  if (existsSync(file)) {
    const names = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (names.length < 1 || names.length > 256) {
      throw new DataError(`${file}: lists ${names.length} class names; idx labels are single bytes, so 1..256 names, one per line`, {
        file,
        field: 'classNames',
      });
    }
    return { names, variant: idxVariantOf(dir) };
  }
  const variant = idxVariantOf(dir);
  const names = variant ? [...IDX_VARIANTS[variant].classNames] : Array.from({ length: IDX_DEFAULT_CLASSES }, (_, i) => String(i));
  return { names, variant };
}

/** How the images were made 32x32x3 (the data-loader's Describe says it). */
export function idxConversion(variant: IdxVariant | undefined): string {
  const name = variant ? IDX_VARIANTS[variant].displayName : 'idx';
  return (
    `${name}: ${IDX_SIDE}x${IDX_SIDE} grey images zero-padded by ${IDX_PAD} pixels on each side to ${CIFAR_SIDE}x${CIFAR_SIDE}, ` +
    `the grey channel repeated into R, G and B`
  );
}

/** Reads a whole idx folder: both splits, class names, and which dataset it is when recognisable. */
export function readIdxDirectory(dir: string): LoadedDataset & { variant?: IdxVariant } {
  const named = idxVariantOf(dir);
  const folder = IDX_VARIANTS[named ?? 'fashion-mnist'].folder;
  checkFilesPresent(dir, {
    name: named ? IDX_VARIANTS[named].displayName : 'idx (MNIST-family)',
    version: 'idx',
    files: IDX_FILES.map((f) => (existsSync(join(dir, f)) ? f : `${f}.gz`)),
    archiveFolder: folder,
    howToGet: ` Get them with flowprune data fetch ${folder} --dir <parent folder> (or --from an installed copy); each may be raw or .gz.`,
  });
  const { names, variant } = idxClassNames(dir);
  const split = (s: 'train' | 'test'): LabelledImages =>
    readIdxSplit(idxFile(dir, IDX_LAYOUT[s].images), idxFile(dir, IDX_LAYOUT[s].labels), names.length);
  return { format: 'idx', root: dir, classNames: names, train: split('train'), test: split('test'), conversion: idxConversion(variant), variant };
}

/** Encodes 28x28 grey images (N*784 bytes) into an idx3 images file. */
export function encodeIdxImages(grey: Uint8Array): Uint8Array {
  if (grey.length % IDX_IMAGE_BYTES !== 0) throw new RangeError(`images has ${grey.length} bytes, not a multiple of ${IDX_IMAGE_BYTES}`);
  const out = new Uint8Array(IMAGES_HEADER + grey.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_IMAGES_MAGIC);
  view.setUint32(4, grey.length / IDX_IMAGE_BYTES);
  view.setUint32(8, IDX_SIDE);
  view.setUint32(12, IDX_SIDE);
  out.set(grey, IMAGES_HEADER);
  return out;
}

/** Encodes labels into an idx1 labels file. */
export function encodeIdxLabels(labels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(LABELS_HEADER + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_LABELS_MAGIC);
  view.setUint32(4, labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] > 255) throw new RangeError(`label[${i}] = ${labels[i]} does not fit in one byte`);
    out[LABELS_HEADER + i] = labels[i];
  }
  return out;
}

export interface IdxSplitInput {
  /** 28x28 grey images, N*784 bytes. */
  images: Uint8Array;
  labels: ArrayLike<number>;
}

/** Writes the four files in the official layout (gzipped by default, as distributed). */
export function writeIdxDirectory(dir: string, input: { train: IdxSplitInput; test: IdxSplitInput; gzip?: boolean }): string[] {
  mkdirSync(dir, { recursive: true });
  const gz = input.gzip ?? true;
  const written: string[] = [];
  const put = (name: string, bytes: Uint8Array): void => {
    const path = join(dir, gz ? `${name}.gz` : name);
    writeFileSync(path, gz ? gzipSync(bytes) : bytes);
    written.push(path);
  };
  for (const s of ['train', 'test'] as const) {
    put(IDX_LAYOUT[s].images, encodeIdxImages(input[s].images));
    put(IDX_LAYOUT[s].labels, encodeIdxLabels(input[s].labels));
  }
  return written;
}
