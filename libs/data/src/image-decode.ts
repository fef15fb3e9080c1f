// Decodes one PNG or JPEG file into a CIFAR-shaped image (32x32, CHW planes R, G, B) with pure-JS
// decoders (pngjs, jpeg-js). Grey and palette images become RGB and alpha is dropped, as PIL's
// convert('RGB') does for torchvision's ImageFolder. The paper does no resizing, so any other size
// is an error. PNG decoding is lossless and exact; JPEG decoders differ from libjpeg by a few levels.

import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { CIFAR_SIDE } from './cifar-format.js';
import { DataError } from './errors.js';

const PLANE = CIFAR_SIDE * CIFAR_SIDE;

export type ImageKind = 'png' | 'jpeg';

/** The format by magic bytes (file extensions lie). */
export function sniffImage(bytes: Uint8Array): ImageKind | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

function sizeError(file: string, width: number, height: number): DataError {
  return new DataError(
    `${file}: image is ${width}x${height}; every image must be ${CIFAR_SIDE}x${CIFAR_SIDE} ` +
      `(the paper's pipeline does no resizing — resize the folder beforehand)`,
    { file, field: 'size' },
  );
}

/**
 * A PNG's size from its IHDR chunk (which must come first), checked before pngjs decodes: pngjs
 * allocates width*height*4 bytes from the header, so a forged header could ask for gigabytes.
 */
function checkPngHeader(bytes: Uint8Array, file: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = bytes.length >= 24 && String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) === 'IHDR';
  if (!ihdr) throw new DataError(`${file}: corrupt PNG file: no IHDR chunk at offset 12`, { file, offset: 12, field: 'image' });
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width !== CIFAR_SIDE || height !== CIFAR_SIDE) throw sizeError(file, width, height);
}

function decodeRgba(bytes: Uint8Array, file: string): Rgba {
  const kind = sniffImage(bytes);
  if (!kind) {
    throw new DataError(`${file}: not a PNG or JPEG file (first bytes ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'none'})`, {
      file,
      offset: 0,
      field: 'image',
    });
  }
  try {
    if (kind === 'png') {
      checkPngHeader(bytes, file);
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    // maxResolutionInMP keeps a corrupt header from allocating gigabytes.
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 4, maxMemoryUsageInMB: 64 });
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${file}: corrupt ${kind.toUpperCase()} file: ${(err as Error).message}`, { file, field: 'image' });
  }
}

/** Decodes `bytes` and writes the 32x32 RGB image as CHW into `dst` at `dstOffset`. */
export function decodeImageInto(bytes: Uint8Array, file: string, dst: Uint8Array, dstOffset: number): void {
  const img = decodeRgba(bytes, file);
  if (img.width !== CIFAR_SIDE || img.height !== CIFAR_SIDE) throw sizeError(file, img.width, img.height);
  if (img.data.length < PLANE * 4) throw new DataError(`${file}: decoder returned ${img.data.length} bytes for 32x32 RGBA`, { file, field: 'image' });
  for (let p = 0; p < PLANE; p++) {
    dst[dstOffset + p] = img.data[p * 4];
    dst[dstOffset + PLANE + p] = img.data[p * 4 + 1];
    dst[dstOffset + 2 * PLANE + p] = img.data[p * 4 + 2];
  }
}
