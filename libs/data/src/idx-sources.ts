// Where the MNIST-family datasets come from: the official download locations with the MD5s they
// publish (the values torchvision's datasets/mnist.py checks, v0.14), and where Debian's packages
// install them. The MD5s are of the .gz files as served; SHA-256 sums are not published.

import { IDX_LAYOUT, type IdxVariant } from './idx.js';

export interface IdxSource {
  /** Base URLs tried in order; each file is `<base><name>.gz`. */
  mirrors: readonly string[];
  /** MD5 of each `<name>.gz`, keyed by the file name without .gz. */
  md5: Readonly<Record<string, string>>;
}

const files = (trainImages: string, trainLabels: string, testImages: string, testLabels: string): Record<string, string> => ({
  [IDX_LAYOUT.train.images]: trainImages,
  [IDX_LAYOUT.train.labels]: trainLabels,
  [IDX_LAYOUT.test.images]: testImages,
  [IDX_LAYOUT.test.labels]: testLabels,
});

export const IDX_SOURCES: Record<IdxVariant, IdxSource> = {
  mnist: {
    mirrors: ['http://yann.lecun.com/exdb/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'],
    md5: files('f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c'),
  },
  'fashion-mnist': {
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    md5: files('8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310'),
  },
  kmnist: {
    mirrors: ['http://codh.rois.ac.jp/kmnist/dataset/kmnist/'],
    md5: files('bdb82020997e1d708af4cf47b453dcf7', 'e144d726b3acfaa3e44228e80efcd344', '5c965bf0a639b31b8f53240b1b52f4d7', '7320c461ea6c1c855c0b718fb2a4b134'),
  },
};

/** Where Debian installs a dataset (package dataset-fashion-mnist); the files are re-compressed, so the MD5s above do not apply. */
export const IDX_SYSTEM_DIRS: Partial<Record<IdxVariant, string>> = {
  'fashion-mnist': '/usr/share/datasets/fashion-mnist',
};
