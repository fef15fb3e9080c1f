// What every dataset format loads into: CHW image bytes plus labels per split, and class names.
// The batcher, the registry and the data-loader service only see this shape.

export const DATASET_FORMATS = ['cifar10-binary', 'cifar100-binary', 'cifar10-python', 'cifar100-python', 'image-folder', 'idx'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** One split: image i occupies bytes [i*3072, (i+1)*3072) in CHW order; labels index classNames. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array | Uint16Array;
  count: number;
}

export interface LoadedDataset {
  format: DatasetFormat;
  root: string;
  classNames: string[];
  /** CIFAR-100 only. */
  coarseClassNames?: string[];
  /** How stored images that are not 32x32 RGB were made so (idx: padded, grey repeated); absent when stored as served. */
  conversion?: string;
  train: LabelledImages;
  test: LabelledImages;
}

/** Images per class in a split. */
export function classCounts(split: LabelledImages, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.count; i++) counts[split.labels[i]]++;
  return counts;
}
