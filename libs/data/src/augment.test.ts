import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentChwToHwc, augmentParams, IDENTITY_AUGMENT, type AugmentParams } from './augment.js';

const PLANE = 1024;

/** CHW image, all zero except one pixel with distinct R, G, B values. */
function onePixel(y: number, x: number): Uint8Array {
  const img = new Uint8Array(3072);
  img[y * 32 + x] = 255;
  img[PLANE + y * 32 + x] = 128;
  img[2 * PLANE + y * 32 + x] = 7;
  return img;
}

function apply(src: Uint8Array, p: AugmentParams): Uint8Array {
  const out = new Uint8Array(3072).fill(99); // garbage, so untouched bytes would show
  augmentChwToHwc(src, 0, p, out, 0);
  return out;
}

/** Positions (y, x) of non-zero pixels in an HWC image, with their RGB. */
function litPixels(hwc: Uint8Array): Array<[number, number, number, number, number]> {
  const out: Array<[number, number, number, number, number]> = [];
  for (let i = 0; i < 1024; i++) {
    if (hwc[i * 3] || hwc[i * 3 + 1] || hwc[i * 3 + 2]) out.push([Math.floor(i / 32), i % 32, hwc[i * 3], hwc[i * 3 + 1], hwc[i * 3 + 2]]);
  }
  return out;
}

describe('augmentation: pad 4 + random 32x32 crop + horizontal flip', () => {
  it('identity params only convert CHW to HWC', () => {
    assert.deepEqual(litPixels(apply(onePixel(10, 5), IDENTITY_AUGMENT)), [[10, 5, 255, 128, 7]]);
  });

  it('a single pixel moves by the crop offset', () => {
    // Crop at (top, left) of the padded image: source (y, x) lands at (y + 4 - top, x + 4 - left).
    assert.deepEqual(litPixels(apply(onePixel(10, 5), { top: 0, left: 8, flip: false })), [[14, 1, 255, 128, 7]]);
    assert.deepEqual(litPixels(apply(onePixel(10, 5), { top: 8, left: 0, flip: false })), [[6, 9, 255, 128, 7]]);
  });

  it('flip mirrors the crop: column c becomes 31 - c', () => {
    assert.deepEqual(litPixels(apply(onePixel(10, 5), { top: 4, left: 4, flip: true })), [[10, 26, 255, 128, 7]]);
    assert.deepEqual(litPixels(apply(onePixel(10, 5), { top: 0, left: 8, flip: true })), [[14, 30, 255, 128, 7]]);
  });

  it('a pixel pushed out of the crop disappears', () => {
    assert.deepEqual(litPixels(apply(onePixel(0, 0), { top: 8, left: 4, flip: false })), []);
    assert.deepEqual(litPixels(apply(onePixel(31, 31), { top: 4, left: 0, flip: false })), []);
  });

  it('padding is zero, on the correct side after a flip', () => {
    const grey = new Uint8Array(3072).fill(200);
    const out = apply(grey, { top: 0, left: 0, flip: false });
    const at = (y: number, x: number): number => out[(y * 32 + x) * 3];
    assert.equal(at(3, 10), 0); // top 4 rows come from the padding
    assert.equal(at(10, 3), 0); // so do the left 4 columns
    assert.equal(at(4, 4), 200);
    assert.equal(at(31, 31), 200);
    const flipped = apply(grey, { top: 8, left: 0, flip: true });
    const fat = (y: number, x: number): number => flipped[(y * 32 + x) * 3 + 2];
    assert.equal(fat(28, 10), 0); // bottom 4 rows are padding
    assert.equal(fat(10, 28), 0); // left padding now on the right
    assert.equal(fat(10, 27), 200);
    assert.equal(fat(27, 0), 200);
  });

  it('draws are deterministic and uniform: offsets 0..8, flip about half the time', () => {
    assert.deepEqual(augmentParams(1, 2, 3), augmentParams(1, 2, 3));
    assert.notDeepEqual(
      Array.from({ length: 20 }, (_, i) => augmentParams(1, 2, i)),
      Array.from({ length: 20 }, (_, i) => augmentParams(1, 3, i)),
    );
    const n = 18000;
    const tops = new Array<number>(9).fill(0);
    const lefts = new Array<number>(9).fill(0);
    let flips = 0;
    for (let i = 0; i < n; i++) {
      const p = augmentParams(7, 0, i);
      tops[p.top]++;
      lefts[p.left]++;
      if (p.flip) flips++;
    }
    assert.equal(tops.length + lefts.length, 18); // nothing landed outside 0..8
    for (const c of [...tops, ...lefts]) assert.ok(Math.abs(c - n / 9) < n / 9 * 0.1, `bucket count ${c}`);
    assert.ok(Math.abs(flips / n - 0.5) < 0.02, `flip rate ${flips / n}`);
  });

  it('matches a per-pixel reference for every crop offset and flip', () => {
    // The obvious formulation: padded[y][x] = 0 outside the image; out = flip(padded[top.., left..]).
    const reference = (img: Uint8Array, p: AugmentParams): Uint8Array => {
      const out = new Uint8Array(3072);
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++) {
            const py = y + p.top - 4;
            const px = (p.flip ? 31 - x : x) + p.left - 4;
            out[(y * 32 + x) * 3 + c] = py < 0 || py > 31 || px < 0 || px > 31 ? 0 : img[c * PLANE + py * 32 + px];
          }
      return out;
    };
    const img = Uint8Array.from({ length: 3072 }, (_, i) => 1 + ((i * 131) % 255)); // no zeros, so padding shows
    for (let top = 0; top <= 8; top++)
      for (let left = 0; left <= 8; left++)
        for (const flip of [false, true]) assert.deepEqual(apply(img, { top, left, flip }), reference(img, { top, left, flip }), `${top} ${left} ${flip}`);
  });
});
