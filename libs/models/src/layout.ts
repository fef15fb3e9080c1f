import type { ParamSpec } from './arch/types.js';

/**
 * PyTorch ↔ tfjs layouts. Conv OIHW ↔ HWIO (grouped convs: per-group inputs); depthwise
 * [C·m,1,kh,kw] ↔ [kh,kw,C,m];
 * linear [out,in] ↔ [in,out]; everything else is 1-D or scalar and unchanged.
 */
export function tfShape(spec: ParamSpec): number[] {
  const s = spec.shape;
  if (spec.kind === 'conv') {
    const [o, i, kh, kw] = s;
    // Depthwise (groups = in channels, one input each): [kh, kw, in, multiplier], same memory as HWIO.
    const g = spec.groups ?? 1;
    return g > 1 && i === 1 ? [kh, kw, g, o / g] : [kh, kw, i, o];
  }
  if (spec.kind === 'linear_weight') return [s[1], s[0]];
  return s;
}

export function torchToTf(spec: ParamSpec, src: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'linear_weight') return transpose2d(src, s[0], s[1]);
  if (spec.kind !== 'conv') return src;
  const [o, i, kh, kw] = s;
  const out = new Float32Array(src.length);
  // Depthwise (i = 1): [C,1,kh,kw] → [kh,kw,C,1] is the same index map with i = 1.
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ii) * o + oo] = src[((oo * i + ii) * kh + y) * kw + x];
  return out;
}

export function tfToTorch(spec: ParamSpec, src: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'linear_weight') return transpose2d(src, s[1], s[0]);
  if (spec.kind !== 'conv') return src;
  const [o, i, kh, kw] = s;
  const out = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((oo * i + ii) * kh + y) * kw + x] = src[((y * kw + x) * i + ii) * o + oo];
  return out;
}

function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}
