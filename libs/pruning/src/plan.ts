// How each state_dict tensor of the current network maps into the pruned one (docs/pruning-semantics.md §6),
// derived from what is removed per channel-dependency group.
import { configWithWidths, resizeGraph, type ArchConfig, type Graph, type Network } from '@flowprune/models';
import type { ChannelGroup } from './dependency.js';
import type { Selection } from './ranking.js';
import { paperRules } from './ranking.js';
import { pruningStructure } from './structure.js';

/** Index selection along dim 0 (`rows`) and dim 1 (`cols`), then rows set to zero (ResNet masking). */
export interface TensorPlan {
  rows?: number[];
  cols?: number[];
  zeroRows?: number[];
}

export interface SurgeryPlan {
  config: ArchConfig;
  /** The pruned network's graph (physical widths). */
  graph: Graph;
  /** With masked channels: the config with them excluded (used for "Pruned %" only). */
  effectiveConfig?: ArchConfig;
  tensors: Map<string, TensorPlan>;
  /** Masked channels per module owning the mask (the parent of the BatchNorm: "layer2.0", "layer2.0.shortcut"). */
  masksZeroed?: Record<string, number[]>;
  /** The same, by the BN prefix whose output the mask multiplies. */
  masks?: Record<string, number[]>;
  /** Per filter layer, the original channels whose outputs survive (pruned away or masked otherwise);
   *  a depthwise layer keeps its input's. */
  kept: number[][];
}

/** What a policy decides: group channels removed physically; per filter layer, channels masked in place. */
export interface PruningDecision {
  removed: Map<ChannelGroup, number[]>;
  masked: Map<number, number[]>;
}

/**
 * The surgery for a decision: every slice of a group (producers' rows, BatchNorms, consumers'
 * columns) loses the removed channels; masked channels keep their place, their conv rows and
 * BatchNorm entries zeroed and a mask recorded.
 */
export function surgeryPlan(net: Network, decision: PruningDecision): SurgeryPlan {
  const s = pruningStructure(net);
  const shapes = new Map(net.params.map((p) => [p.name, p.shape]));
  const drop = new Map<string, [Set<number>, Set<number>]>();
  const dropOf = (param: string) => {
    let d = drop.get(param);
    if (!d) drop.set(param, (d = [new Set(), new Set()]));
    return d;
  };
  for (const [group, channels] of decision.removed)
    for (const slice of group.slices)
      for (const k of channels) for (let j = 0; j < slice.span; j++) dropOf(slice.param)[slice.dim].add(slice.index[k] + j);
  const tensors = new Map<string, TensorPlan>();
  const keep = (n: number, gone: Set<number>) => Array.from({ length: n }, (_, i) => i).filter((i) => !gone.has(i));
  for (const [param, [rows, cols]] of drop) {
    const shape = shapes.get(param)!;
    tensors.set(param, { ...(rows.size ? { rows: keep(shape[0], rows) } : {}), ...(cols.size ? { cols: keep(shape[1], cols) } : {}) });
  }
  const masks: Record<string, number[]> = {};
  const masksZeroed: Record<string, number[]> = {};
  const bnOf = new Map(net.graph.nodes.flatMap((n) => (n.op === 'batchnorm' ? [[n.prefix, n] as const] : [])));
  for (const [l, channels] of decision.masked) {
    const layer = net.filterLayers[l];
    const bn = bnOf.get(layer.bn)!;
    for (const param of [layer.conv, bn.params.weight, bn.params.bias, bn.params.runningMean, bn.params.runningVar])
      tensors.set(param, { ...tensors.get(param), zeroRows: channels });
    masks[layer.bn] = channels;
    masksZeroed[layer.bn.slice(0, Math.max(0, layer.bn.lastIndexOf('.')))] = channels;
  }
  const physical = (weight: string) => shapes.get(weight)![0] - (drop.get(weight)?.[0].size ?? 0);
  const config = configWithWidths(net, physical);
  const maskedOf = new Map([...decision.masked].map(([l, c]) => [net.filterLayers[l].conv, c.length]));
  const kept = s.layers.map((role, l) => {
    const gone = new Set(decision.removed.get(role.group) ?? []);
    const masked = new Set(decision.masked.get(l) ?? []);
    return role.channels.flatMap((k, c) => (gone.has(k) || masked.has(c) ? [] : [c]));
  });
  const graph = resizeGraph(net.graph, (n) => physical(n.weight));
  const plan: SurgeryPlan = { config, graph, tensors, kept };
  if (decision.masked.size) {
    plan.effectiveConfig = configWithWidths(net, (w) => physical(w) - (maskedOf.get(w) ?? 0));
    plan.masks = masks;
    plan.masksZeroed = masksZeroed;
  }
  return plan;
}

/**
 * The paper's decision (docs/pruning-semantics.md §6): a layer's removed channels leave its group physically;
 * on a residual stream they are masked instead (the stream is never narrowed), and pinned layers
 * keep everything; a depthwise layer follows the layer producing its channels.
 */
export function paperDecision(net: Network, sel: Selection): PruningDecision {
  const s = pruningStructure(net);
  const rules = paperRules(net);
  const removed = new Map<ChannelGroup, number[]>();
  const masked = new Map<number, number[]>();
  s.layers.forEach((role, l) => {
    if (rules.tiedTo[l] !== undefined || rules.pinned[l] || role.group.blocked) return;
    if (s.residualGroups.has(role.group)) masked.set(l, sel.removed[l]);
    else removed.set(role.group, sel.removed[l].map((c) => role.channels[c]));
  });
  return { removed, masked };
}
