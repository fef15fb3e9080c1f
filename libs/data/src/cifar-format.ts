// Constants of the CIFAR binary layout, shared by the reader, the writer and the batcher.

export type CifarVariant = 'cifar10' | 'cifar100';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
/** Pixel bytes per image: R plane, then G plane, then B plane, each 32x32 row-major. */
export const CIFAR_IMAGE_BYTES = CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS;

/** Label bytes in front of each record: CIFAR-10 has one, CIFAR-100 has coarse then fine. */
export function cifarLabelBytes(variant: CifarVariant): number {
  return variant === 'cifar10' ? 1 : 2;
}

/** Total bytes per record: 3073 for CIFAR-10, 3074 for CIFAR-100. */
export function cifarRecordBytes(variant: CifarVariant): number {
  return cifarLabelBytes(variant) + CIFAR_IMAGE_BYTES;
}

/** Default number of (fine) classes of each variant. */
export function cifarDefaultClasses(variant: CifarVariant): number {
  return variant === 'cifar10' ? 10 : 100;
}

/** CIFAR-100 always has 20 coarse super-classes. */
export const CIFAR100_COARSE_CLASSES = 20;

export function cifarDisplayName(variant: CifarVariant): string {
  return variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100';
}

/**
 * One split (or one file) decoded into flat arrays. `images` keeps the on-disk CHW-planar layout
 * (image i occupies bytes [i*3072, (i+1)*3072)); conversion to HWC happens when batching.
 */
export interface CifarSplit {
  variant: CifarVariant;
  images: Uint8Array;
  /** Label used for training: the only label of CIFAR-10, the fine label of CIFAR-100. */
  labels: Uint8Array;
  /** CIFAR-100 only: the coarse (super-class) label of each record. */
  coarseLabels?: Uint8Array;
  count: number;
}
