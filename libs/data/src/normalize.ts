// Byte -> float conversion bit-identical to torchvision's
//   ToTensor()                      x = float32(v) / 255            (float32 division)
//   Normalize((0.5,)*3, (0.5,)*3)   x = (x - 0.5) / 0.5             (float32 sub, float32 div)
// These transforms run on the CPU, where PyTorch's float32 `div` is a true IEEE division (not a
// multiply by the reciprocal, which only its CUDA kernel does). Math.fround after each float64
// operation reproduces float32 arithmetic exactly for +,-,*,/ (53 >= 2*24+2 bits, so the double
// rounding is innocuous). There are only 256 inputs, so we precompute them.

function normalizeByte(v: number): number {
  const scaled = Math.fround(v / 255);
  const centred = Math.fround(scaled - 0.5);
  return Math.fround(centred / 0.5);
}

/** NORMALIZE_LUT[v] is the float32 value PyTorch produces for byte v. */
export const NORMALIZE_LUT: Float32Array = Float32Array.from({ length: 256 }, (_, v) => normalizeByte(v));

/** Maps every byte to `(v/255 - 0.5)/0.5` in float32; layout (NHWC or otherwise) is preserved. */
export function normalizeToFloat32(pixels: Uint8Array, out: Float32Array = new Float32Array(pixels.length)): Float32Array {
  if (out.length < pixels.length) throw new RangeError(`out has ${out.length} elements, need ${pixels.length}`);
  for (let i = 0; i < pixels.length; i++) out[i] = NORMALIZE_LUT[pixels[i]];
  return out;
}
