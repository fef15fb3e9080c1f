import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chwToHwc, hwcToChw } from './layout.js';
import { randomImages } from './test-helpers.js';

describe('CHW <-> HWC', () => {
  it('puts plane c, pixel (y, x) at HWC offset (y*32 + x)*3 + c', () => {
    const chw = new Uint8Array(3072);
    chw[0 * 1024 + 2 * 32 + 3] = 11;
    chw[1 * 1024 + 2 * 32 + 3] = 22;
    chw[2 * 1024 + 31 * 32 + 31] = 33;
    const hwc = chwToHwc(chw);
    assert.equal(hwc[(2 * 32 + 3) * 3], 11);
    assert.equal(hwc[(2 * 32 + 3) * 3 + 1], 22);
    assert.equal(hwc[3071], 33);
  });

  it('round-trips, with offsets into larger buffers', () => {
    const { images } = randomImages(2, 1, 3);
    const hwc = chwToHwc(images, 3072, new Uint8Array(6144), 3072);
    assert.deepEqual(hwcToChw(hwc, 3072), images.subarray(3072));
  });
});
