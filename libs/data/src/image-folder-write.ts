// Writes CHW image arrays as an ImageFolder tree root/{train,test}/<class>/<index>.png|jpg — the
// inverse of readImageFolder, for tests and `flowprune data synth --format image-folder`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { CIFAR_IMAGE_BYTES, CIFAR_SIDE } from './cifar-format.js';
import type { LabelledImages } from './dataset.js';

const PLANE = CIFAR_SIDE * CIFAR_SIDE;

export type ImageFileFormat = 'png' | 'jpg';

/** CHW image at `offset` → RGBA pixels. */
function toRgba(images: Uint8Array, offset: number): Buffer {
  const rgba = Buffer.alloc(PLANE * 4);
  for (let p = 0; p < PLANE; p++) {
    rgba[p * 4] = images[offset + p];
    rgba[p * 4 + 1] = images[offset + PLANE + p];
    rgba[p * 4 + 2] = images[offset + 2 * PLANE + p];
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

/** One 32x32 CHW image encoded as PNG (lossless) or JPEG (quality 95). */
export function encodeImage(images: Uint8Array, offset: number, format: ImageFileFormat): Buffer {
  const data = toRgba(images, offset);
  if (format === 'jpg') return jpeg.encode({ width: CIFAR_SIDE, height: CIFAR_SIDE, data }, 95).data;
  const png = new pngjs.PNG({ width: CIFAR_SIDE, height: CIFAR_SIDE });
  data.copy(png.data);
  return pngjs.PNG.sync.write(png, { colorType: 2 });
}

export interface WriteImageFolderInput {
  classNames: readonly string[];
  train: LabelledImages;
  test: LabelledImages;
  format?: ImageFileFormat;
}

/** Writes every image as root/<split>/<class>/<index, zero-padded>.<ext>; returns the files written. */
export function writeImageFolder(root: string, input: WriteImageFolderInput): string[] {
  const format = input.format ?? 'png';
  const written: string[] = [];
  for (const [split, data] of [['train', input.train], ['test', input.test]] as const) {
    input.classNames.forEach((c) => mkdirSync(join(root, split, c), { recursive: true }));
    for (let i = 0; i < data.count; i++) {
      const path = join(root, split, input.classNames[data.labels[i]], `${String(i).padStart(6, '0')}.${format}`);
      writeFileSync(path, encodeImage(data.images, i * CIFAR_IMAGE_BYTES, format));
      written.push(path);
    }
  }
  return written;
}
