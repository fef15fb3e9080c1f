// @flowprune/data: CIFAR binary I/O, synthetic CIFAR-10, deterministic batching/augmentation and
// sample selection. Plain Node + TypeScript; no gRPC or TensorFlow here.

export { DataError, IN_MEMORY, type DataErrorLocation } from './errors.js';
export {
  CIFAR100_COARSE_CLASSES,
  CIFAR_CHANNELS,
  CIFAR_IMAGE_BYTES,
  CIFAR_SIDE,
  cifarDefaultClasses,
  cifarDisplayName,
  cifarLabelBytes,
  cifarRecordBytes,
  type CifarSplit,
  type CifarVariant,
} from './cifar-format.js';
export { decodeCifarBinary, encodeCifarBinary, readCifarBinary, writeCifarBinary, type ReadCifarOptions } from './cifar-binary.js';
export {
  CIFAR100_LAYOUT,
  CIFAR10_LAYOUT,
  cifarLayout,
  concatSplits,
  readCifar100Directory,
  readCifar10Directory,
  readCifarDirectory,
  splitEvenly,
  writeCifarDirectory,
  type CifarDataset,
  type CifarDirectoryLayout,
  type ReadCifarDirectoryOptions,
  type WriteCifarDirectoryInput,
} from './cifar-dir.js';
export {
  generateSyntheticCifar10,
  synthesizeCifar10,
  SYNTHETIC_CIFAR10_CLASS_NAMES,
  type GenerateSyntheticCifar10Options,
  type GeneratedSyntheticCifar10,
  type SyntheticCifar,
  type SyntheticCifarOptions,
} from './synthetic.js';
export { chwToHwc, hwcToChw } from './layout.js';
export {
  augmentChwToHwc,
  augmentParams,
  CROP_PADDING,
  IDENTITY_AUGMENT,
  MAX_CROP_OFFSET,
  type AugmentParams,
} from './augment.js';
export {
  batchCount,
  epochOrder,
  iterateBatches,
  makeBatch,
  planEpoch,
  type Batch,
  type BatchOptions,
  type BatchSource,
  type EpochOptions,
  type EpochPlan,
  type ShardSpec,
} from './batches.js';
export { NORMALIZE_LUT, normalizeToFloat32 } from './normalize.js';
export { selectClassBalanced, type ClassBalancedSelection } from './balanced.js';
export { DatasetRegistry, detectFormat, parseDatasetSpecs, UnknownDatasetError, type DatasetEntry, type DatasetFormat } from './registry.js';
