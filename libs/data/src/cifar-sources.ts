// The official CIFAR archives (Krizhevsky's page; the MD5s are the ones it and torchvision publish),
// what each unpacks to, and the files that make the extracted folder complete.

import { CIFAR100_LAYOUT, CIFAR10_LAYOUT } from './cifar-dir.js';
import { CIFAR100_PYTHON_LAYOUT, CIFAR10_PYTHON_LAYOUT } from './cifar-python.js';
import type { CifarVariant } from './cifar-format.js';
import type { DatasetFormat } from './dataset.js';

export type CifarArchiveFormat = 'binary' | 'python';

export interface CifarArchive {
  url: string;
  /** File name of the archive. */
  file: string;
  md5: string;
  /** Folder the archive unpacks to. */
  folder: string;
  format: DatasetFormat;
  /** Files the extracted folder must hold. */
  files: readonly string[];
}

const BASE_URL = 'https://www.cs.toronto.edu/~kriz/';

function archive(file: string, md5: string, folder: string, format: DatasetFormat, files: readonly string[]): CifarArchive {
  return { url: `${BASE_URL}${file}`, file, md5, folder, format, files };
}

export const CIFAR_ARCHIVES: Record<CifarVariant, Record<CifarArchiveFormat, CifarArchive>> = {
  cifar10: {
    binary: archive('cifar-10-binary.tar.gz', 'c32a1d4ab5d03f1284b67883e8d87530', CIFAR10_LAYOUT.archiveFolder, 'cifar10-binary', [
      ...CIFAR10_LAYOUT.train,
      ...CIFAR10_LAYOUT.test,
      CIFAR10_LAYOUT.classNames,
    ]),
    python: archive('cifar-10-python.tar.gz', 'c58f30108f718f92721af3b95e74349a', CIFAR10_PYTHON_LAYOUT.archiveFolder, 'cifar10-python', [
      ...CIFAR10_PYTHON_LAYOUT.train,
      ...CIFAR10_PYTHON_LAYOUT.test,
      CIFAR10_PYTHON_LAYOUT.meta,
    ]),
  },
  cifar100: {
    binary: archive('cifar-100-binary.tar.gz', '03b5dce01913d631647c71ecec9e9cb8', CIFAR100_LAYOUT.archiveFolder, 'cifar100-binary', [
      ...CIFAR100_LAYOUT.train,
      ...CIFAR100_LAYOUT.test,
      CIFAR100_LAYOUT.classNames,
      CIFAR100_LAYOUT.coarseClassNames ?? 'coarse_label_names.txt',
    ]),
    python: archive('cifar-100-python.tar.gz', 'eb9058c3a382ffc7106e4002c42a8d85', CIFAR100_PYTHON_LAYOUT.archiveFolder, 'cifar100-python', [
      ...CIFAR100_PYTHON_LAYOUT.train,
      ...CIFAR100_PYTHON_LAYOUT.test,
      CIFAR100_PYTHON_LAYOUT.meta,
    ]),
  },
};
