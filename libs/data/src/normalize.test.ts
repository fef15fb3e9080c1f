import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NORMALIZE_LUT, normalizeToFloat32 } from './normalize.js';

describe('normalizeToFloat32', () => {
  it('is bit-exact with float32 ToTensor + Normalize(0.5, 0.5) for all 256 byte values', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, v) => v);
    const out = normalizeToFloat32(bytes);
    const bits = new Uint32Array(out.buffer);
    const expected = new Float32Array(256);
    for (let v = 0; v < 256; v++) expected[v] = Math.fround((Math.fround(v / 255) - 0.5) / 0.5);
    assert.deepEqual(bits, new Uint32Array(expected.buffer));
    assert.deepEqual(NORMALIZE_LUT, expected);
  });

  it('maps 0 to -1 and 255 to 1 and keeps the layout', () => {
    const out = normalizeToFloat32(Uint8Array.from([0, 255, 0, 255]));
    assert.deepEqual([...out], [-1, 1, -1, 1]);
  });
});
