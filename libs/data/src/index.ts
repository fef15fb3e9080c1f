// @flowprune/data: CIFAR binary and python-pickle I/O, image folders, dataset download, synthetic
// CIFAR-10, deterministic batching/augmentation and sample selection. Plain Node + TypeScript; no
// gRPC or TensorFlow here.

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
  CIFAR100_PYTHON_LAYOUT,
  CIFAR10_PYTHON_LAYOUT,
  cifarBatchDict,
  cifarPythonLayout,
  decodeCifarPickle,
  encodeCifarPickle,
  readCifarPickle,
  readCifarPythonDirectory,
  writeCifarPythonDirectory,
  type CifarPythonLayout,
  type ReadCifarPickleOptions,
} from './cifar-python.js';
export { readPickle } from './pickle-reader.js';
export { writePickle } from './pickle-writer.js';
export { NdArray, NumpyDtype, PyGlobal, PyTuple, pyTypeName, type PyKey, type PyValue } from './pickle-values.js';
export { decodeImageInto, sniffImage, type ImageKind } from './image-decode.js';
export { IMAGE_EXTENSIONS, pythonSort, readImageFolder } from './image-folder.js';
export { encodeImage, writeImageFolder, type ImageFileFormat, type WriteImageFolderInput } from './image-folder-write.js';
export { CIFAR_ARCHIVES, type CifarArchive, type CifarArchiveFormat } from './cifar-sources.js';
export { download, DownloadError, md5File, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download.js';
export { installArchive, removeStaleTemps, type InstallArchiveOptions } from './archive.js';
export { fetchCifar, fetchIdx, type FetchCifarOptions, type FetchResult, type FetchIdxOptions } from './fetch-dataset.js';
export { checkFilesPresent, type ExpectedFiles } from './dataset-files.js';
export { classCounts, DATASET_FORMATS, type DatasetFormat, type LabelledImages, type LoadedDataset } from './dataset.js';
export {
  generateSyntheticCifar10,
  synthesizeCifar10,
  SYNTHETIC_CIFAR10_CLASS_NAMES,
  type GenerateSyntheticCifar10Options,
  type GeneratedSyntheticCifar10,
  type SyntheticCifar,
  type SyntheticCifarOptions,
  type SyntheticFormat,
} from './synthetic.js';
export { ensureSyntheticCifar10, type SyntheticCifar10CacheOptions } from './synthetic-cache.js';
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
export {
  DatasetRegistry,
  detectFormat,
  InvalidDatasetNameError,
  isValidDatasetName,
  loadDataset,
  parseDatasetSpecs,
  UnknownDatasetError,
  type DatasetEntry,
} from './registry.js';
export { checkFilesInsideRoot, OutsideRootError, RootGuard } from './root-guard.js';
export {
  decodeIdxImages,
  decodeIdxLabels,
  encodeIdxImages,
  encodeIdxLabels,
  hasIdxFiles,
  IDX_CLASS_FILE,
  IDX_FILES,
  IDX_IMAGE_BYTES,
  IDX_LAYOUT,
  IDX_PAD,
  IDX_SIDE,
  IDX_VARIANT_NAMES,
  IDX_VARIANTS,
  idxConversion,
  idxVariantOf,
  readIdxDirectory,
  readIdxSplit,
  writeIdxDirectory,
  type IdxSplitInput,
  type IdxVariant,
  type IdxVariantInfo,
} from './idx.js';
export { IDX_SOURCES, IDX_SYSTEM_DIRS, type IdxSource } from './idx-sources.js';
