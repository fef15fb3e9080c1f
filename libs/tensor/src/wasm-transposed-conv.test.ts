import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisPhases } from './wasm-transposed-conv.js';

// Brute force over small geometries: the phase plan must route every (input row, tap, output row)
// triple of the forward convolution exactly once, i.e. reproduce the transposed convolution.
test('axisPhases covers every forward tap exactly once', () => {
  let checked = 0;
  for (let stride = 1; stride <= 3; stride++) {
    for (let k = 1; k <= 5; k++) {
      for (let inLen = 1; inLen <= 9; inLen++) {
        for (let padBefore = 0; padBefore < k; padBefore++) {
          for (let padAfter = 0; padAfter < k; padAfter++) {
            const outLen = Math.floor((inLen + padBefore + padAfter - k) / stride) + 1;
            if (outLen < 1) continue;
            const expected = new Set<string>();
            for (let o = 0; o < outLen; o++) {
              for (let t = 0; t < k; t++) {
                const i = o * stride + t - padBefore;
                if (i >= 0 && i < inLen) expected.add(`${i},${t},${o}`);
              }
            }
            const { length, phases } = axisPhases(inLen, outLen, k, stride, padBefore);
            const got: string[] = [];
            phases.forEach((ph, r) => {
              // Phase r computes rows i = stride*q + r as a stride-1 correlation of dy padded by ph.pad
              // with taps firstTap + stride*(taps-1-j), j = 0..taps-1.
              for (let q = 0; q < length; q++) {
                const i = stride * q + r;
                for (let j = 0; j < ph.taps; j++) {
                  const o = q + j - ph.pad[0];
                  if (o < 0 || o >= outLen || i >= inLen) continue; // reads padding / cropped row
                  got.push(`${i},${ph.firstTap + stride * (ph.taps - 1 - j)},${o}`);
                }
              }
              // the stride-1 correlation over padded dy yields exactly `length` rows
              if (ph.taps > 0) assert.equal(outLen + ph.pad[0] + ph.pad[1] - ph.taps + 1, length);
            });
            assert.equal(got.length, expected.size, `stride ${stride} k ${k} in ${inLen} pads ${padBefore},${padAfter}`);
            assert.deepEqual(new Set(got), expected);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 300, `only ${checked} geometries checked`);
});
