// Global ranking and selection of one pruning step (PRUNING-SPEC §5).
import { isResNet, type Network } from '@flowprune/models';

export const PROTECTED_VALUE = 1e7;

export class PruneError extends Error {
  readonly kind = 'invalid-argument';
}

export interface RankingEntry {
  layer: number;
  channel: number;
  value: number;
}

/** Which ranking rules apply to a network. */
export function rankingRules(net: Network): { cap: boolean; resnet: boolean; mobilenet: boolean } {
  const resnet = isResNet(net.arch);
  return { cap: !resnet, resnet, mobilenet: net.arch === 'mobilenet_v1' };
}

/**
 * The ranking table in layer then channel order. ResNet's stem is pinned at 1e7. MobileNet's
 * depthwise layer 2b+1 enters as a copy of layer 2b's values (quirk Q2). For VGG and MobileNet the
 * k_l = int(0.05·N_l) + 1 highest-index channels of every layer are pinned at 1e7, N_l being the
 * layer's width in the original network (quirk Q1).
 */
export function buildRankingTable(net: Network, importance: number[][], originalWidths: number[]): RankingEntry[] {
  const rules = rankingRules(net);
  const table: RankingEntry[] = [];
  net.filterLayers.forEach((layer, l) => {
    const values = rules.mobilenet && l % 2 === 1 ? importance[l - 1] : importance[l];
    const n = layer.outChannels;
    const capFrom = rules.cap ? n - (Math.trunc(0.05 * originalWidths[l]) + 1) : n;
    for (let c = 0; c < n; c++) {
      let v = values[c];
      if (rules.resnet && l === 0) v = PROTECTED_VALUE;
      if (c >= capFrom) v = PROTECTED_VALUE;
      table.push({ layer: l, channel: c, value: v });
    }
  });
  return table;
}

export interface Selection {
  nEntries: number;
  nPrune: number;
  /** Per filter layer: channels removed (pruned or, for ResNet branch outputs, masked). */
  removed: number[][];
  /** Per filter layer: surviving channel indices, ascending. */
  survivors: number[][];
  counts: number[];
  boundaryTie: boolean;
}

/** Stable ascending sort (ties by table position), take the first n_prune, apply ResNet's floors. */
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
  const { resnet } = rankingRules(net);
  if (resnet) {
    counts[0] = 0;
    net.filterLayers.forEach((layer, l) => {
      if (counts[l] === layer.outChannels) counts[l] = layer.outChannels - 1;
    });
  }
  const removed = perLayerOrder.map((ord, l) => ord.slice(0, counts[l]).sort((a, b) => a - b));
  const survivors = perLayerOrder.map((ord, l) => ord.slice(counts[l]).sort((a, b) => a - b));
  return { nEntries, nPrune, removed, survivors, counts, boundaryTie };
}
