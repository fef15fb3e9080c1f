// Image folders in torchvision's ImageFolder layout: root/{train,test}/<class>/**/*.{png,jpg,jpeg}.
// Classes are the sorted sub-folder names of train/ (ImageFolder's order), files are visited in
// sorted order, and every image is decoded once, up front, into the same CHW arrays the CIFAR
// readers produce. Files (or links) resolving outside the root are refused.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_IMAGE_BYTES } from './cifar-format.js';
import type { LabelledImages, LoadedDataset } from './dataset.js';
import { DataError } from './errors.js';
import { decodeImageInto } from './image-decode.js';
import { RootGuard } from './root-guard.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
const IMAGE_FOLDER_SPLITS = ['train', 'test'] as const;

/** Python's sorted() order for str (code points), which UTF-8 byte order equals. */
export function pythonSort(names: string[]): string[] {
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const isImage = (name: string): boolean => IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));

function listDir(dir: string): string[] {
  try {
    return pythonSort(readdirSync(dir));
  } catch (err) {
    throw new DataError(`${dir}: cannot list folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file: dir });
  }
}

/**
 * Image files under a class folder, recursively, in ImageFolder's order: folders sorted by their
 * full path (Python's sorted(os.walk(...))), then the files of each folder sorted by name.
 */
function classFiles(classDir: string, guard: RootGuard): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    dirs.push(dir);
    for (const name of listDir(dir)) {
      const path = join(dir, name);
      if (statSync(guard.check(path)).isDirectory()) walk(path);
    }
  };
  walk(classDir);
  const out: string[] = [];
  for (const dir of pythonSort(dirs)) {
    for (const name of listDir(dir)) {
      const path = join(dir, name);
      if (isImage(name) && statSync(guard.check(path)).isFile()) out.push(path);
    }
  }
  return out;
}

function subfolders(dir: string, guard: RootGuard): string[] {
  return listDir(dir).filter((n) => statSync(guard.check(join(dir, n))).isDirectory());
}

function readSplit(root: string, split: string, classNames: string[], guard: RootGuard): LabelledImages & { files: string[] } {
  const dir = join(root, split);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const files: string[] = [];
  const labelList: number[] = [];
  for (const cls of subfolders(dir, guard)) {
    const label = index.get(cls);
    if (label === undefined) {
      throw new DataError(`${join(dir, cls)}: class folder "${cls}" has no counterpart in ${join(root, 'train')} (classes: ${classNames.join(', ')})`, {
        file: join(dir, cls),
        field: 'class',
      });
    }
    for (const f of classFiles(join(dir, cls), guard)) {
      files.push(f);
      labelList.push(label);
    }
  }
  const images = new Uint8Array(files.length * CIFAR_IMAGE_BYTES);
  files.forEach((f, i) => decodeImageInto(readFileSync(f), f, images, i * CIFAR_IMAGE_BYTES));
  const labels = classNames.length <= 256 ? Uint8Array.from(labelList) : Uint16Array.from(labelList);
  return { images, labels, count: files.length, files };
}

/** Reads and decodes a whole image folder (both splits). */
export function readImageFolder(root: string): LoadedDataset & { trainFiles: string[]; testFiles: string[] } {
  for (const s of IMAGE_FOLDER_SPLITS) {
    let ok = false;
    try {
      ok = statSync(join(root, s)).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new DataError(`${root}: image folder has no ${s}/ sub-folder; expected root/{train,test}/<class>/*.png|jpg`, {
        file: join(root, s),
        field: 'missing',
      });
    }
  }
  const guard = new RootGuard(root);
  const classNames = subfolders(join(root, 'train'), guard);
  if (classNames.length === 0) throw new DataError(`${join(root, 'train')}: no class folders`, { file: join(root, 'train'), field: 'class' });
  if (classNames.length > 65536) throw new DataError(`${root}: ${classNames.length} classes; at most 65536 are supported`, { file: root, field: 'class' });
  const train = readSplit(root, 'train', classNames, guard);
  if (train.count === 0) {
    throw new DataError(`${join(root, 'train')}: no ${IMAGE_EXTENSIONS.join('/')} images in any class folder`, { file: join(root, 'train'), field: 'missing' });
  }
  const test = readSplit(root, 'test', classNames, guard);
  return { format: 'image-folder', root, classNames, train, test, trainFiles: train.files, testFiles: test.files };
}
