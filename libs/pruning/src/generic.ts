// The generic policy: global ranking over channel-dependency groups, whole groups' channels removed
// physically (residual streams included), never the network's input or output.
import type { Network } from '@flowprune/models';
import type { ChannelGroup } from './dependency.js';
import type { PruningDecision } from './plan.js';
import { PruneError, selectionFromCounts, type Selection } from './ranking.js';
import { pruningStructure } from './structure.js';

/** How a group channel's importance combines its coupled filter layers' values. */
export const GROUP_AGGREGATES = ['sum', 'mean', 'max'] as const;
export type GroupAggregate = (typeof GROUP_AGGREGATES)[number];

export interface GenericOptions {
  /** How a group channel's importance combines its filter layers' values (default sum). */
  aggregate?: GroupAggregate;
  /** Largest fraction of a group removed in one step (default 1: every group keeps ≥ 1 channel). */
  maxRatio?: number;
  /**
   * Channels kept per group as a multiple of this (e.g. 8, for hardware): a group keeps the next
   * multiple up of what the ranking leaves it, its most important removed channels returning
   * (default 1). A group at most this wide keeps what the ranking leaves.
   */
  roundTo?: number;
}

export interface GenericStep {
  decision: PruningDecision;
  selection: Selection;
}

const combine: Record<GroupAggregate, (vs: number[]) => number> = {
  sum: (vs) => vs.reduce((a, b) => a + b, 0),
  mean: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  max: (vs) => Math.max(...vs),
};

/** The generic policy's settings when a step or run gives none. */
export const GENERIC_DEFAULTS: Required<GenericOptions> = { aggregate: 'sum', maxRatio: 1, roundTo: 1 };

/** The first invalid setting, by its run-file name, and what is wrong with it; undefined when all are valid. */
export function genericOptionsProblem(opts: Required<GenericOptions>): { field: 'aggregate' | 'max_ratio' | 'round_to'; problem: string } | undefined {
  if (!GROUP_AGGREGATES.includes(opts.aggregate)) return { field: 'aggregate', problem: `must be one of ${GROUP_AGGREGATES.join(', ')}, got "${opts.aggregate}"` };
  if (!(opts.maxRatio > 0 && opts.maxRatio <= 1)) return { field: 'max_ratio', problem: `must be in (0, 1], got ${opts.maxRatio}` };
  if (!Number.isInteger(opts.roundTo) || opts.roundTo < 1) return { field: 'round_to', problem: `must be a positive integer, got ${opts.roundTo}` };
  return undefined;
}

/**
 * Ranks every channel of every prunable group (groups holding a filter layer, not blocked) by its
 * aggregated importance, ascending and stable; removes the first int(ratio·entries), skipping
 * channels past a group's floor.
 */
export function genericStep(net: Network, importance: number[][], ratio: number, opts: GenericOptions = {}): GenericStep {
  const s = pruningStructure(net);
  const settings: Required<GenericOptions> = {
    aggregate: opts.aggregate ?? GENERIC_DEFAULTS.aggregate,
    maxRatio: opts.maxRatio ?? GENERIC_DEFAULTS.maxRatio,
    roundTo: opts.roundTo ?? GENERIC_DEFAULTS.roundTo,
  };
  const bad = genericOptionsProblem(settings);
  if (bad) throw new PruneError(`${bad.field} ${bad.problem}`);
  const aggregate = combine[settings.aggregate];
  const { maxRatio, roundTo } = settings;
  // Per prunable group channel, the values of the filter layers writing it.
  const values = new Map<ChannelGroup, number[][]>();
  s.layers.forEach((role, l) => {
    if (role.group.blocked) return;
    let v = values.get(role.group);
    if (!v) values.set(role.group, (v = Array.from({ length: role.group.size }, () => [])));
    role.channels.forEach((k, c) => v[k].push(importance[l][c]));
  });
  const entries = [...values].flatMap(([group, vs]) => vs.map((v, channel) => ({ group, channel, value: aggregate(v) })));
  if (entries.length === 0)
    throw new PruneError(
      `the network has no prunable channel group: no conv whose output channels a BatchNorm normalises and that can be removed without touching the image input or the logits (${s.layers.length} filter layers); it can be trained and evaluated, not pruned`,
    );
  const nPrune = Math.trunc(ratio * entries.length);
  const order = entries.map((_, i) => i).sort((a, b) => entries[a].value - entries[b].value || a - b);
  const removed = new Map<ChannelGroup, number[]>();
  const limit = (g: ChannelGroup) => Math.min(g.size - 1, Math.floor(maxRatio * g.size));
  let taken = 0;
  for (const i of order) {
    if (taken === nPrune) break;
    const e = entries[i];
    const list = removed.get(e.group) ?? [];
    if (list.length >= limit(e.group)) continue;
    list.push(e.channel);
    removed.set(e.group, list);
    taken++;
  }
  // Rounding: removed lists are in ascending importance, so the most important ones return first.
  if (roundTo > 1)
    for (const [group, list] of removed) {
      if (group.size <= roundTo) continue;
      const keep = Math.min(group.size, Math.ceil((group.size - list.length) / roundTo) * roundTo);
      list.length = group.size - keep;
      if (list.length === 0) removed.delete(group);
    }
  const boundaryTie = nPrune > 0 && nPrune < entries.length && entries[order[nPrune - 1]].value === entries[order[nPrune]].value;
  // Per filter layer: its channels in ascending group-importance order, and how many of them go.
  const rank = new Map<ChannelGroup, Map<number, number>>();
  order.forEach((i, r) => {
    const e = entries[i];
    if (!rank.has(e.group)) rank.set(e.group, new Map());
    rank.get(e.group)!.set(e.channel, r);
  });
  const perLayerOrder = s.layers.map((role) => {
    const ranks = rank.get(role.group);
    const chans = role.channels.map((_, c) => c);
    return ranks ? chans.sort((a, b) => ranks.get(role.channels[a])! - ranks.get(role.channels[b])!) : chans;
  });
  const counts = s.layers.map((role) => {
    const gone = new Set(removed.get(role.group) ?? []);
    return role.channels.filter((k) => gone.has(k)).length;
  });
  return { decision: { removed, masked: new Map() }, selection: selectionFromCounts(entries.length, nPrune, perLayerOrder, counts, boundaryTie) };
}
