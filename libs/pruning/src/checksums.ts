import type { StateDict } from '@flowprune/models';

/** [shape, Σx, Σ|x|] per floating tensor, accumulated in float64 (the fixtures' pruned_checksums). */
export function stateChecksums(sd: StateDict): Record<string, [number[], number, number]> {
  const out: Record<string, [number[], number, number]> = {};
  for (const [name, t] of sd) {
    if (t.dtype !== 'F32' && t.dtype !== 'F64') continue;
    let s = 0;
    let a = 0;
    for (const v of t.data as Float32Array) {
      s += v;
      a += Math.abs(v);
    }
    out[name] = [t.shape, s, a];
  }
  return out;
}
