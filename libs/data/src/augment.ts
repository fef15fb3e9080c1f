// Training augmentation matching the paper's torchvision pipeline:
//   RandomCrop(32, padding=4)  -> zero-pad 4 px per side, crop 32x32 at offsets uniform in 0..8
//   RandomHorizontalFlip(0.5)  -> mirror the crop left-right with probability 1/2
// The draws are keyed by (seed, epoch, position in the epoch order) so a run is reproducible
// regardless of sharding, batch size or how many workers produce batches.

import { CIFAR_CHANNELS, CIFAR_SIDE } from './cifar-format.js';
import { hashSeed, mulberry32, randomInt } from '@flowprune/common';

export const CROP_PADDING = 4;
/** Largest crop offset into the padded 40x40 image (inclusive): 40 - 32 = 8. */
export const MAX_CROP_OFFSET = 2 * CROP_PADDING;

export interface AugmentParams {
  /** Row of the crop's top edge inside the padded image, 0..8 (4 = centred). */
  top: number;
  /** Column of the crop's left edge inside the padded image, 0..8 (4 = centred). */
  left: number;
  /** Mirror the cropped image horizontally. */
  flip: boolean;
}

/** Parameters that leave the image unchanged (centred crop, no flip). */
export const IDENTITY_AUGMENT: Readonly<AugmentParams> = Object.freeze({ top: CROP_PADDING, left: CROP_PADDING, flip: false });

/** Stream tag so augmentation draws never coincide with shuffle draws for the same seed. */
const AUGMENT_STREAM = 0x41554721;

/** Deterministic augmentation draw for the sample at `position` of epoch `epoch`. */
export function augmentParams(seed: number, epoch: number, position: number): AugmentParams {
  const rng = mulberry32(hashSeed(AUGMENT_STREAM, seed, epoch, position));
  // Same draw order as torchvision: crop top (i), crop left (j), then the flip coin.
  const top = randomInt(rng, MAX_CROP_OFFSET + 1);
  const left = randomInt(rng, MAX_CROP_OFFSET + 1);
  const flip = rng() < 0.5;
  return { top, left, flip };
}

const PLANE = CIFAR_SIDE * CIFAR_SIDE;

/**
 * Reads one CHW image from `src` at `srcOffset`, applies pad+crop+flip and writes HWC into `dst`
 * at `dstOffset`. Pixels that come from the padding are 0, like torchvision's default fill.
 * Works row by row with the in-image column range precomputed, so the inner loop has no bounds
 * tests (it is the data-loader's hottest loop).
 */
export function augmentChwToHwc(
  src: Uint8Array,
  srcOffset: number,
  params: AugmentParams,
  dst: Uint8Array,
  dstOffset: number,
): void {
  const dy = params.top - CROP_PADDING;
  const dx = params.left - CROP_PADDING;
  const rowBytes = CIFAR_SIDE * CIFAR_CHANNELS;
  // Output columns x whose source column lies inside the image: without flip sx = x + dx, with
  // flip (applied after the crop) sx = 31 - x + dx.
  const x0 = params.flip ? Math.max(0, dx) : Math.max(0, -dx);
  const x1 = params.flip ? Math.min(CIFAR_SIDE, CIFAR_SIDE + dx) : Math.min(CIFAR_SIDE, CIFAR_SIDE - dx);
  for (let y = 0; y < CIFAR_SIDE; y++) {
    const sy = y + dy;
    const rowOut = dstOffset + y * rowBytes;
    if (sy < 0 || sy >= CIFAR_SIDE) {
      dst.fill(0, rowOut, rowOut + rowBytes);
      continue;
    }
    if (x0 > 0) dst.fill(0, rowOut, rowOut + x0 * CIFAR_CHANNELS);
    if (x1 < CIFAR_SIDE) dst.fill(0, rowOut + x1 * CIFAR_CHANNELS, rowOut + rowBytes);
    const r = srcOffset + sy * CIFAR_SIDE;
    const g = r + PLANE;
    const b = g + PLANE;
    if (params.flip) {
      for (let x = x0, o = rowOut + x0 * CIFAR_CHANNELS, sx = CIFAR_SIDE - 1 - x0 + dx; x < x1; x++, o += 3, sx--) {
        dst[o] = src[r + sx];
        dst[o + 1] = src[g + sx];
        dst[o + 2] = src[b + sx];
      }
    } else {
      for (let x = x0, o = rowOut + x0 * CIFAR_CHANNELS, sx = x0 + dx; x < x1; x++, o += 3, sx++) {
        dst[o] = src[r + sx];
        dst[o + 1] = src[g + sx];
        dst[o + 2] = src[b + sx];
      }
    }
  }
}
