// A synthetic stand-in for CIFAR-10 when the real archive is not available (CI, no internet).
// Each class is a distinct combination of stripe orientation + stripe frequency + dominant colour
// + bright-blob position, so a small CNN learns it within an epoch or two; per-image random phase,
// jitter, brightness and pixel noise keep the images from being trivially constant.

import { join } from 'node:path';
import { CIFAR_IMAGE_BYTES, CIFAR_SIDE, type CifarSplit } from './cifar-format.js';
import { writeCifarDirectory } from './cifar-dir.js';
import { writeCifarPythonDirectory } from './cifar-python.js';
import { writeImageFolder } from './image-folder-write.js';
import { hashSeed, mulberry32, randomNormal, type Rng } from '@flowprune/common';

interface ClassStyle {
  angleDeg: number;
  /** Stripe period in pixels. */
  period: number;
  colourName: string;
  rgb: readonly [number, number, number];
  /** Blob centre (x, y) in pixels. */
  blob: readonly [number, number];
}

const COLOURS: ReadonlyArray<readonly [string, readonly [number, number, number]]> = [
  ['red', [220, 40, 40]],
  ['green', [40, 190, 60]],
  ['blue', [40, 70, 220]],
  ['yellow', [230, 210, 40]],
  ['magenta', [210, 50, 200]],
  ['cyan', [40, 200, 210]],
  ['orange', [240, 130, 30]],
  ['purple', [120, 50, 180]],
  ['grey', [150, 150, 150]],
  ['brown', [130, 80, 40]],
];

/** Ten styles: orientations 18° apart, alternating coarse/fine stripes, blobs around a ring. */
const STYLES: readonly ClassStyle[] = COLOURS.map(([colourName, rgb], c) => {
  const a = (c * 2 * Math.PI) / 10;
  return {
    angleDeg: c * 18,
    period: c % 2 === 0 ? 8 : 4.5,
    colourName,
    rgb,
    blob: [16 + 9 * Math.cos(a), 16 + 9 * Math.sin(a)] as const,
  };
});

/** Names like `stripes-0deg-red`, written to batches.meta.txt. */
export const SYNTHETIC_CIFAR10_CLASS_NAMES: readonly string[] = STYLES.map(
  (s) => `stripes-${s.angleDeg}deg-${s.period > 6 ? 'coarse' : 'fine'}-${s.colourName}`,
);

/**
 * Difficulty knobs. Tuned so that colour alone is not enough (a nearest-class-mean baseline on
 * raw pixels scores ~84%, not 100%) while a one-layer 16-filter CNN trained by plain SGD still
 * reaches ~60% after two epochs of 3000 images; real small CNNs leave that far behind.
 */
/** Max fraction of the colour taken from a random other class. */
const TINT = 0.45;
/** Per-channel colour jitter, in byte units. */
const COLOUR_JITTER = 35;
/** Standard deviation of per-pixel noise, in byte units. */
const NOISE = 16;

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();

/** Cheap approximately-normal noise (sum of three uniforms, unit variance); Box–Muller per pixel is slow. */
const pixelNoise = (rng: Rng): number => (rng() + rng() + rng() - 1.5) * 2;

/** Renders one CHW image of class `c` into `out` at `offset`. */
function renderImage(c: number, rng: Rng, out: Uint8Array, offset: number): void {
  const s = STYLES[c];
  const theta = ((s.angleDeg + 4 * randomNormal(rng)) * Math.PI) / 180;
  const freq = (2 * Math.PI) / (s.period * uniform(rng, 0.85, 1.15));
  const phase = uniform(rng, 0, 2 * Math.PI);
  const bx = s.blob[0] + uniform(rng, -3, 3);
  const by = s.blob[1] + uniform(rng, -3, 3);
  const radius = uniform(rng, 2.5, 5);
  const brightness = uniform(rng, 0.6, 1.3);
  // Tint towards a random other colour so colour alone does not give the class away.
  const distractor = STYLES[Math.floor(rng() * STYLES.length)].rgb;
  const tint = uniform(rng, 0, TINT);
  const colour = s.rgb.map((v, ch) => (1 - tint) * v + tint * distractor[ch] + uniform(rng, -COLOUR_JITTER, COLOUR_JITTER));
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  for (let y = 0; y < CIFAR_SIDE; y++) {
    for (let x = 0; x < CIFAR_SIDE; x++) {
      const stripe = 0.5 + 0.5 * Math.sin(freq * (x * cos + y * sin) + phase);
      const d2 = (x - bx) ** 2 + (y - by) ** 2;
      const blob = Math.exp(-d2 / (2 * radius * radius));
      for (let ch = 0; ch < 3; ch++) {
        const base = colour[ch] * (0.25 + 0.75 * stripe);
        // The blob is drawn in the complementary colour so it stands out on every background.
        const mixed = base * (1 - blob) + (255 - colour[ch]) * blob;
        const v = brightness * mixed + NOISE * pixelNoise(rng);
        out[offset + ch * plane + y * CIFAR_SIDE + x] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
}

export interface SyntheticCifarOptions {
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

export interface SyntheticCifar {
  classNames: string[];
  train: CifarSplit;
  test: CifarSplit;
}

const TRAIN_STREAM = 0x5452;
const TEST_STREAM = 0x5445;
const ORDER_STREAM = 0x4f52;

function makeSplit(perClass: number, seed: number, stream: number): CifarSplit {
  const count = perClass * STYLES.length;
  // Interleave classes in a seeded random order, like the real batches.
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % STYLES.length;
  const rng = mulberry32(hashSeed(ORDER_STREAM, stream, seed));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = labels[i];
    labels[i] = labels[j];
    labels[j] = t;
  }
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  // Each image has its own stream, so it does not depend on how many images precede it.
  for (let i = 0; i < count; i++) renderImage(labels[i], mulberry32(hashSeed(stream, seed, i)), images, i * CIFAR_IMAGE_BYTES);
  return { variant: 'cifar10', images, labels, count };
}

/** Generates the synthetic dataset in memory; balanced: exactly `perClass` images per class. */
export function synthesizeCifar10(options: SyntheticCifarOptions): SyntheticCifar {
  for (const k of ['trainPerClass', 'testPerClass'] as const) {
    if (!Number.isInteger(options[k]) || options[k] < 1) throw new RangeError(`${k} must be a positive integer, got ${options[k]}`);
  }
  return {
    classNames: [...SYNTHETIC_CIFAR10_CLASS_NAMES],
    train: makeSplit(options.trainPerClass, options.seed, TRAIN_STREAM),
    test: makeSplit(options.testPerClass, options.seed, TEST_STREAM),
  };
}

/** On-disk layout to write: CIFAR-10 binary (default), CIFAR-10 python pickles, or a PNG image folder. */
export type SyntheticFormat = 'binary' | 'python' | 'image-folder';

export interface GenerateSyntheticCifar10Options extends SyntheticCifarOptions {
  dir: string;
  format?: SyntheticFormat;
}

export interface GeneratedSyntheticCifar10 {
  dir: string;
  files: string[];
  classNames: string[];
  trainCount: number;
  testCount: number;
}

/**
 * Writes a real CIFAR-10 binary directory (data_batch_1..5.bin, test_batch.bin,
 * batches.meta.txt) that `readCifarDirectory` — or any CIFAR-10 binary reader — loads; or the same
 * images as python-version pickles or as a PNG image folder.
 */
export function generateSyntheticCifar10(options: GenerateSyntheticCifar10Options): GeneratedSyntheticCifar10 {
  const data = synthesizeCifar10(options);
  const input = { variant: 'cifar10' as const, ...data };
  const format = options.format ?? 'binary';
  const files =
    format === 'binary'
      ? writeCifarDirectory(options.dir, input)
      : format === 'python'
        ? writeCifarPythonDirectory(options.dir, input)
        : writeImageFolder(options.dir, input);
  return {
    dir: join(options.dir),
    files,
    classNames: data.classNames,
    trainCount: data.train.count,
    testCount: data.test.count,
  };
}
