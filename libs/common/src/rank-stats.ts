// Agreement between two rankings of the same items: Spearman's ρ and Kendall's τ-b (ties counted
// as SciPy does), and the Jaccard overlap of two sets. Pure functions over plain arrays.

/** 1-based ranks with ties given their average rank. */
export function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const ranks = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Pearson correlation (NaN when either side is constant). */
export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

function checkPair(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`rank correlation needs equal lengths, got ${a.length} and ${b.length}`);
}

/** Spearman's ρ: the Pearson correlation of the average ranks (NaN when either side is constant). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  checkPair(a, b);
  return pearson(averageRanks(a), averageRanks(b));
}

/** Kendall's τ-b over all pairs by direct counting (O(n²)): the reference for kendallTauB. */
export function kendallTauBPairs(a: readonly number[], b: readonly number[]): number {
  checkPair(a, b);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom > 0 ? (concordant - discordant) / denom : NaN;
}

/** Pairs tied within runs of equal keys of an ordered index list: Σ t(t−1)/2. */
function tiedPairs(order: readonly number[], same: (i: number, j: number) => boolean): number {
  let total = 0;
  for (let i = 0; i < order.length; ) {
    let j = i + 1;
    while (j < order.length && same(order[i], order[j])) j++;
    total += ((j - i) * (j - i - 1)) / 2;
    i = j;
  }
  return total;
}

/**
 * Kendall's τ-b (ties counted as SciPy does) in O(n log n) (Knight 1966): sort by (a, b), count the
 * swaps a merge sort by b needs (the discordant pairs), and correct for ties. NaN when either side is constant.
 */
export function kendallTauB(a: readonly number[], b: readonly number[]): number {
  checkPair(a, b);
  const n = a.length;
  const total = (n * (n - 1)) / 2;
  let order = a.map((_, i) => i).sort((i, j) => a[i] - a[j] || b[i] - b[j]);
  const tA = tiedPairs(order, (i, j) => a[i] === a[j]);
  const tAB = tiedPairs(order, (i, j) => a[i] === a[j] && b[i] === b[j]);
  // Bottom-up merge sort by b, counting how many elements each one jumps (strictly greater b).
  let swaps = 0;
  let buf = new Array<number>(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (b[order[j]] < b[order[i]]) {
          swaps += mid - i;
          buf[k++] = order[j++];
        } else buf[k++] = order[i++];
      }
      while (i < mid) buf[k++] = order[i++];
      while (j < hi) buf[k++] = order[j++];
    }
    [order, buf] = [buf, order];
  }
  const tB = tiedPairs(order, (i, j) => b[i] === b[j]);
  const concordantMinusDiscordant = total - tA - tB + tAB - 2 * swaps;
  const denom = Math.sqrt((total - tA) * (total - tB));
  return denom > 0 ? concordantMinusDiscordant / denom : NaN;
}

/** |A ∩ B| / |A ∪ B| (1 when both are empty). */
export function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  const union = a.size + b.size - both;
  return union === 0 ? 1 : both / union;
}

/** The middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}
