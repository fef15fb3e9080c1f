// Where the gradient-based measures read images: batches in the order they are consumed, and the
// class-balanced groups of the Hessian measures (docs/reference-fixtures.md §4; docs/pruning-semantics.md §3.1–3.2).
import { MeasureError } from './measure.js';

/** Images as uint8 NHWC pixels with class labels (a data-loader ImageBatch fits this shape). */
export interface SampleBatch {
  count: number;
  height: number;
  width: number;
  channels: number;
  pixels: Uint8Array;
  labels: ArrayLike<number>;
}

export interface ImportanceData {
  /** Batches for the first-order statistics, in order; the estimate stops once imp_samples are read. */
  batches(): AsyncIterable<SampleBatch>;
  /** groups[c]: the first `perClass` samples of class c, for c = 0..numClasses−1. */
  classGroups(perClass: number, numClasses: number): Promise<SampleBatch[]>;
}

const IMAGE_SHAPE = { height: 32, width: 32, channels: 3 };

/** Rejects malformed batches, naming the batch and the problem. */
export function checkBatches(batches: readonly SampleBatch[], numClasses: number, field = 'batches'): void {
  batches.forEach((b, i) => {
    const where = `${field}[${i}]`;
    if (b.height !== IMAGE_SHAPE.height || b.width !== IMAGE_SHAPE.width || b.channels !== IMAGE_SHAPE.channels)
      throw new MeasureError(`${where}: images must be 32x32x3, got ${b.height}x${b.width}x${b.channels}`, field);
    if (!Number.isInteger(b.count) || b.count < 1) throw new MeasureError(`${where}: count must be ≥ 1, got ${b.count}`, field);
    const bytes = b.count * b.height * b.width * b.channels;
    if (b.pixels.length !== bytes) throw new MeasureError(`${where}: has ${b.pixels.length} pixel bytes, ${b.count} images need ${bytes}`, field);
    if (b.labels.length !== b.count) throw new MeasureError(`${where}: has ${b.labels.length} labels for ${b.count} images`, field);
    for (let j = 0; j < b.count; j++) {
      const y = b.labels[j];
      if (!Number.isInteger(y) || y < 0 || y >= numClasses)
        throw new MeasureError(`${where}: label ${y} of image ${j} is outside 0..${numClasses - 1} (the model has ${numClasses} classes)`, field);
    }
  });
}

/** Consecutive batches of `batchSize` (the last may be smaller) over NHWC images in order. */
export function splitIntoBatches(pixels: Uint8Array, labels: ArrayLike<number>, batchSize: number): SampleBatch[] {
  const per = IMAGE_SHAPE.height * IMAGE_SHAPE.width * IMAGE_SHAPE.channels;
  const out: SampleBatch[] = [];
  for (let start = 0; start < labels.length; start += batchSize) {
    const end = Math.min(labels.length, start + batchSize);
    out.push({
      ...IMAGE_SHAPE,
      count: end - start,
      pixels: pixels.subarray(start * per, end * per),
      labels: Array.from({ length: end - start }, (_, k) => labels[start + k]),
    });
  }
  return out;
}

/** Images [start, end) of a batch. */
export function sliceBatch(b: SampleBatch, start: number, end: number): SampleBatch {
  const per = b.height * b.width * b.channels;
  return { ...b, count: end - start, pixels: b.pixels.subarray(start * per, end * per), labels: Array.from({ length: end - start }, (_, k) => b.labels[start + k]) };
}

/** One batch holding the given batches' images in order. */
export function concatBatches(batches: readonly SampleBatch[]): SampleBatch {
  const first = batches[0];
  if (!first) throw new MeasureError('no images to concatenate');
  const count = batches.reduce((a, b) => a + b.count, 0);
  const pixels = new Uint8Array(batches.reduce((a, b) => a + b.pixels.length, 0));
  const labels: number[] = [];
  let at = 0;
  for (const b of batches) {
    pixels.set(b.pixels, at);
    at += b.pixels.length;
    for (let i = 0; i < b.count; i++) labels.push(b.labels[i]);
  }
  return { height: first.height, width: first.width, channels: first.channels, count, pixels, labels };
}

/**
 * groups[c] = the first `perClass` images of class c in the order of `batches`. Throws naming the
 * classes that have too few images.
 */
export function classGroupsInOrder(batches: readonly SampleBatch[], perClass: number, numClasses: number): SampleBatch[] {
  const picked: { b: SampleBatch; i: number }[][] = Array.from({ length: numClasses }, () => []);
  let full = 0;
  for (const b of batches) {
    for (let i = 0; i < b.count && full < numClasses; i++) {
      const g = picked[b.labels[i]];
      if (g && g.length < perClass) {
        g.push({ b, i });
        if (g.length === perClass) full++;
      }
    }
    if (full === numClasses) break;
  }
  if (full < numClasses) {
    const short = picked.flatMap((g, c) => (g.length < perClass ? [`class ${c} has ${g.length}`] : []));
    throw new MeasureError(
      `the Hessian measures need ${perClass} image(s) of every class (int(imp_samples / ${numClasses})), but ${short.slice(0, 8).join(', ')}${short.length > 8 ? ', …' : ''}`,
      'batches',
    );
  }
  return picked.map((g) => concatBatches(g.map(({ b, i }) => sliceBatch(b, i, i + 1))));
}

/** Data given as a list of batches (a file in order, or a request's inline batches). */
export function batchListData(batches: readonly SampleBatch[]): ImportanceData {
  return {
    async *batches() {
      yield* batches;
    },
    async classGroups(perClass, numClasses) {
      return classGroupsInOrder(batches, perClass, numClasses);
    },
  };
}
