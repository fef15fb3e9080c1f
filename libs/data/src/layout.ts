// Converts single images between the on-disk CIFAR layout (CHW: three 32x32 planes) and the
// HWC layout (interleaved RGB per pixel) that NHWC convolution backends consume.

import { CIFAR_CHANNELS, CIFAR_IMAGE_BYTES, CIFAR_SIDE } from './cifar-format.js';

const PLANE = CIFAR_SIDE * CIFAR_SIDE;

/** Copies one CHW image at `srcOffset` into `dst` at `dstOffset` as HWC; returns `dst`. */
export function chwToHwc(
  src: Uint8Array,
  srcOffset = 0,
  dst: Uint8Array = new Uint8Array(CIFAR_IMAGE_BYTES),
  dstOffset = 0,
): Uint8Array {
  for (let p = 0; p < PLANE; p++) {
    const o = dstOffset + p * CIFAR_CHANNELS;
    dst[o] = src[srcOffset + p];
    dst[o + 1] = src[srcOffset + PLANE + p];
    dst[o + 2] = src[srcOffset + 2 * PLANE + p];
  }
  return dst;
}

/** Inverse of `chwToHwc`. */
export function hwcToChw(
  src: Uint8Array,
  srcOffset = 0,
  dst: Uint8Array = new Uint8Array(CIFAR_IMAGE_BYTES),
  dstOffset = 0,
): Uint8Array {
  for (let p = 0; p < PLANE; p++) {
    const o = srcOffset + p * CIFAR_CHANNELS;
    dst[dstOffset + p] = src[o];
    dst[dstOffset + PLANE + p] = src[o + 1];
    dst[dstOffset + 2 * PLANE + p] = src[o + 2];
  }
  return dst;
}
