// The paper's global ranking and selection of one pruning step (docs/pruning-semantics.md §5), its rules read
// off the network's dependency structure.
import type { Network } from '@flowprune/models';
import { pruningStructure } from './structure.js';

export const PROTECTED_VALUE = 1e7;

export class PruneError extends Error {
  readonly kind = 'invalid-argument';
}

export interface RankingEntry {
  layer: number;
  channel: number;
  value: number;
}

/**
 * The paper's rules for a network. With a residual stream (channels coupled by adds): no cap, the
 * filter layers that write the stream without a residual add of their own (ResNet's stem) are pinned,
 * and every layer keeps at least one channel (§5.3 step 5). Without: the 95 % cap by position.
 * A depthwise layer ranks with a copy of the values of the layer producing its channels (quirk Q2).
 */
export interface PaperRules {
  residual: boolean;
  cap: boolean;
  pinned: boolean[];
  /** Per filter layer: the layer whose values it copies (depthwise), if any. */
  tiedTo: (number | undefined)[];
}

export function paperRules(net: Network): PaperRules {
  const s = pruningStructure(net);
  const residual = s.residualGroups.size > 0;
  return {
    residual,
    cap: !residual,
    pinned: s.layers.map((r) => residual && s.residualGroups.has(r.group) && !r.feedsAdd),
    tiedTo: s.layers.map((r) => (r.depthwise ? r.source : undefined)),
  };
}

/**
 * The ranking table in layer then channel order. Pinned layers enter at 1e7; a depthwise layer
 * enters as a copy of its source layer's values (quirk Q2). With the cap, the k_l = int(0.05·N_l) + 1
 * highest-index channels of every layer are pinned at 1e7, N_l being the layer's width in the
 * original network (quirk Q1).
 */
export function buildRankingTable(net: Network, importance: number[][], originalWidths: number[]): RankingEntry[] {
  const rules = paperRules(net);
  const table: RankingEntry[] = [];
  net.filterLayers.forEach((layer, l) => {
    const values = importance[rules.tiedTo[l] ?? l];
    const n = layer.outChannels;
    const capFrom = rules.cap ? n - (Math.trunc(0.05 * originalWidths[l]) + 1) : n;
    for (let c = 0; c < n; c++) {
      let v = values[c];
      if (rules.pinned[l] || c >= capFrom) v = PROTECTED_VALUE;
      table.push({ layer: l, channel: c, value: v });
    }
  });
  return table;
}

export interface Selection {
  nEntries: number;
  nPrune: number;
  /** Per filter layer: channels removed (pruned or, for residual-stream outputs, masked). */
  removed: number[][];
  /** Per filter layer: surviving channel indices, ascending. */
  survivors: number[][];
  counts: number[];
  boundaryTie: boolean;
}

/** Stable ascending sort (ties by table position), take the first n_prune, apply the residual floors. */
export function selectForPruning(net: Network, table: RankingEntry[], ratio: number): Selection {
  const nEntries = table.length;
  const nPrune = Math.trunc(ratio * nEntries);
  const order = table.map((_, i) => i).sort((a, b) => table[a].value - table[b].value || a - b);
  const boundaryTie = nPrune > 0 && nPrune < nEntries && table[order[nPrune - 1]].value === table[order[nPrune]].value;
  const L = net.filterLayers.length;
  const perLayerOrder: number[][] = Array.from({ length: L }, () => []);
  const counts = new Array<number>(L).fill(0);
  order.forEach((idx, rank) => {
    const e = table[idx];
    perLayerOrder[e.layer].push(e.channel);
    if (rank < nPrune) counts[e.layer]++;
  });
  const rules = paperRules(net);
  if (rules.residual)
    net.filterLayers.forEach((layer, l) => {
      if (rules.pinned[l]) counts[l] = 0;
      else if (counts[l] === layer.outChannels) counts[l] = layer.outChannels - 1;
    });
  return selectionFromCounts(nEntries, nPrune, perLayerOrder, counts, boundaryTie);
}

/** Removes the first count_l of each layer's ascending order; survivors keep their original order. */
export function selectionFromCounts(nEntries: number, nPrune: number, perLayerOrder: number[][], counts: number[], boundaryTie: boolean): Selection {
  const removed = perLayerOrder.map((ord, l) => ord.slice(0, counts[l]).sort((a, b) => a - b));
  const survivors = perLayerOrder.map((ord, l) => ord.slice(counts[l]).sort((a, b) => a - b));
  return { nEntries, nPrune, removed, survivors, counts, boundaryTie };
}
