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
  for (let y = 0; y < CIFAR_SIDE; y++) {
    const sy = y + dy;
    const rowOut = dstOffset + y * CIFAR_SIDE * CIFAR_CHANNELS;
    for (let x = 0; x < CIFAR_SIDE; x++) {
      // Flip is applied after the crop: output column x shows crop column 31 - x.
      const cx = params.flip ? CIFAR_SIDE - 1 - x : x;
      const sx = cx + dx;
      const o = rowOut + x * CIFAR_CHANNELS;
      if (sy < 0 || sy >= CIFAR_SIDE || sx < 0 || sx >= CIFAR_SIDE) {
        dst[o] = 0;
        dst[o + 1] = 0;
        dst[o + 2] = 0;
      } else {
        const s = srcOffset + sy * CIFAR_SIDE + sx;
        dst[o] = src[s];
        dst[o + 1] = src[s + PLANE];
        dst[o + 2] = src[s + 2 * PLANE];
      }
    }
  }
}
