// Reads and writes single CIFAR-10 / CIFAR-100 binary files (the "binary version" downloads).
// Validation is strict and the errors say where and how to fix, because a silently misaligned
// record stream trains a model on garbage without any crash.

import { readFileSync, writeFileSync } from 'node:fs';
import { DataError, IN_MEMORY } from './errors.js';
import {
  CIFAR100_COARSE_CLASSES,
  CIFAR_IMAGE_BYTES,
  type CifarSplit,
  type CifarVariant,
  cifarDefaultClasses,
  cifarDisplayName,
  cifarLabelBytes,
  cifarRecordBytes,
} from './cifar-format.js';

export interface ReadCifarOptions {
  variant: CifarVariant;
  /** Number of (fine) classes; labels must be below it. Defaults to 10 / 100. */
  numClasses?: number;
  /** Name to report in errors when `source` is a buffer. */
  name?: string;
}

/** Reads one CIFAR binary file (path) or decodes its bytes (buffer). */
export function readCifarBinary(source: string | Uint8Array, options: ReadCifarOptions): CifarSplit {
  if (typeof source !== 'string') return decodeCifarBinary(source, options.name ?? IN_MEMORY, options);
  return decodeCifarBinary(readBinaryFile(source, options.variant), source, options);
}

function readBinaryFile(path: string, variant: CifarVariant): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const expected = variant === 'cifar10' ? 'data_batch_1.bin … data_batch_5.bin or test_batch.bin' : 'train.bin or test.bin';
      throw new DataError(
        `${path}: file not found; expected a ${cifarDisplayName(variant)} binary file (${expected}). ` +
          `Check the path, or download and extract the binary version of ${cifarDisplayName(variant)}.`,
        { file: path },
      );
    }
    throw new DataError(`${path}: cannot read file (${code ?? String(err)})`, { file: path });
  }
}

/** Decodes the bytes of one CIFAR binary file; `file` is only used in error messages. */
export function decodeCifarBinary(bytes: Uint8Array, file: string, options: ReadCifarOptions): CifarSplit {
  const { variant } = options;
  const numClasses = options.numClasses ?? cifarDefaultClasses(variant);
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new DataError(`numClasses must be an integer in 1..256 (labels are single bytes), got ${numClasses}`, {
      file,
      field: 'numClasses',
    });
  }
  const recordBytes = cifarRecordBytes(variant);
  const labelBytes = cifarLabelBytes(variant);
  checkSize(bytes.length, file, variant);

  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const coarseLabels = variant === 'cifar100' ? new Uint8Array(count) : undefined;
  for (let r = 0; r < count; r++) {
    const base = r * recordBytes;
    // CIFAR-100 puts the coarse label first and the fine label second.
    const fine = bytes[base + labelBytes - 1];
    if (fine >= numClasses) throw labelError(file, variant, r, base + labelBytes - 1, fine, numClasses, 'label');
    labels[r] = fine;
    if (coarseLabels) {
      const coarse = bytes[base];
      if (coarse >= CIFAR100_COARSE_CLASSES) {
        throw labelError(file, variant, r, base, coarse, CIFAR100_COARSE_CLASSES, 'coarseLabel');
      }
      coarseLabels[r] = coarse;
    }
    images.set(bytes.subarray(base + labelBytes, base + recordBytes), r * CIFAR_IMAGE_BYTES);
  }
  return coarseLabels ? { variant, images, labels, coarseLabels, count } : { variant, images, labels, count };
}

function checkSize(size: number, file: string, variant: CifarVariant): void {
  const recordBytes = cifarRecordBytes(variant);
  const name = cifarDisplayName(variant);
  const layout =
    variant === 'cifar10' ? '1 label byte + 3072 pixel bytes' : '1 coarse label byte + 1 fine label byte + 3072 pixel bytes';
  if (size === 0) {
    throw new DataError(`${file}: file is empty (0 bytes); expected ${name} records of ${recordBytes} bytes. Re-extract the dataset.`, {
      file,
      offset: 0,
      field: 'size',
    });
  }
  if (size % recordBytes === 0) return;
  const whole = Math.floor(size / recordBytes);
  const start = whole * recordBytes;
  const other: CifarVariant = variant === 'cifar10' ? 'cifar100' : 'cifar10';
  const hint =
    size % cifarRecordBytes(other) === 0
      ? ` The size is a multiple of ${cifarRecordBytes(other)}, so this looks like a ${cifarDisplayName(other)} file: pass variant '${other}'.`
      : ` Re-download / re-extract the ${name} binary archive; the file was cut short or is not a ${name} binary file.`;
  throw new DataError(
    `${file}: size ${size} bytes is not a multiple of the ${name} record size ${recordBytes} (${layout}): ` +
      `${whole} whole record(s), then the last record (index ${whole}, at byte offset ${start}) is truncated ` +
      `with only ${size - start} of ${recordBytes} bytes.${hint}`,
    { file, offset: start, record: whole, field: 'size' },
  );
}

function labelError(
  file: string,
  variant: CifarVariant,
  record: number,
  offset: number,
  value: number,
  limit: number,
  field: 'label' | 'coarseLabel',
): DataError {
  const what = field === 'coarseLabel' ? 'coarse label' : variant === 'cifar100' ? 'fine label' : 'label';
  return new DataError(
    `${file}: record ${record} (${what} byte at offset ${offset}) has ${what} ${value}, but only ${limit} classes ` +
      `exist (valid 0..${limit - 1}). The file is corrupt or not ${cifarDisplayName(variant)}; if the variant is right ` +
      `and the dataset really has more classes, pass numClasses.`,
    { file, offset, record, field },
  );
}

/** Encodes images (N*3072 bytes, CHW per image) and labels into the on-disk record stream. */
export function encodeCifarBinary(
  images: Uint8Array,
  labels: ArrayLike<number>,
  variant: CifarVariant,
  coarseLabels?: ArrayLike<number>,
): Uint8Array {
  const count = labels.length;
  if (images.length !== count * CIFAR_IMAGE_BYTES) {
    throw new RangeError(`images has ${images.length} bytes, expected ${count} * ${CIFAR_IMAGE_BYTES} for ${count} labels`);
  }
  if (coarseLabels && coarseLabels.length !== count) {
    throw new RangeError(`coarseLabels has ${coarseLabels.length} entries, expected ${count}`);
  }
  const recordBytes = cifarRecordBytes(variant);
  const labelBytes = cifarLabelBytes(variant);
  const out = new Uint8Array(count * recordBytes);
  for (let r = 0; r < count; r++) {
    const base = r * recordBytes;
    checkByte(labels[r], 'label', r);
    // A missing coarse label is written as 0: the writer mainly serves tests and synthetic data.
    if (variant === 'cifar100') out[base] = checkByte(coarseLabels ? coarseLabels[r] : 0, 'coarseLabel', r);
    out[base + labelBytes - 1] = labels[r];
    out.set(images.subarray(r * CIFAR_IMAGE_BYTES, (r + 1) * CIFAR_IMAGE_BYTES), base + labelBytes);
  }
  return out;
}

function checkByte(v: number, field: string, r: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`${field}[${r}] = ${v} does not fit in one byte`);
  return v;
}

/** Writes one CIFAR binary file in the same format `readCifarBinary` reads. */
export function writeCifarBinary(
  path: string,
  images: Uint8Array,
  labels: ArrayLike<number>,
  variant: CifarVariant,
  coarseLabels?: ArrayLike<number>,
): void {
  writeFileSync(path, encodeCifarBinary(images, labels, variant, coarseLabels));
}
