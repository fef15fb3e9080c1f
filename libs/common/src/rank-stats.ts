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

/** Kendall's τ-b over all pairs (O(n²); NaN when either side is constant). */
export function kendallTauB(a: readonly number[], b: readonly number[]): number {
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

/** |A ∩ B| / |A ∪ B| (1 when both are empty). */
export function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  const union = a.size + b.size - both;
  return union === 0 ? 1 : both / union;
}
