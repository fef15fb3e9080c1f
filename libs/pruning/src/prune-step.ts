// One pruning step: rank, select, operate (docs/pruning-semantics.md §5–6), by a named policy.
import { buildNetwork, GRAPH_ARCH, graphNetwork, Model, unprunedNetwork, type Network } from '@flowprune/models';
import { applyPlanToStateDict } from './apply.js';
import { genericStep, type GenericOptions } from './generic.js';
import { paperDecision, surgeryPlan, type PruningDecision, type SurgeryPlan } from './plan.js';
import { buildRankingTable, paperRules, PruneError, selectForPruning, type Selection } from './ranking.js';

/**
 * `paper`: the paper's rules, reproducing the original's selections bit for bit (95 % cap, residual
 * stem exemption, keep-one, masking of the residual stream, depthwise tying). `generic`: global
 * ranking over channel-dependency groups, whole groups removed physically.
 */
export type PolicyName = 'paper' | 'generic';
export const POLICY_NAMES: readonly PolicyName[] = ['paper', 'generic'];

/**
 * The policy a training run prunes with: the paper's rules for its built-in architectures (what the
 * paper's results rest on), the generic one for an imported model's graph, whose structure the
 * paper's rules were not written for.
 */
export function policyFor(net: Network): PolicyName {
  return net.arch === GRAPH_ARCH ? 'generic' : 'paper';
}

export interface PruneStepOptions {
  /** This round's ratio r_k (from the schedule). */
  ratio: number;
  /** p_cumulative after this round's update (the paper's amount for residual networks). */
  pCumulative: number;
  /** Filter-layer widths of the original, unpruned network (the 95 % cap; B = their sum). */
  originalWidths: number[];
  /** Default `paper`. */
  policy?: PolicyName;
  generic?: GenericOptions;
}

export interface PruneStepResult {
  model: Model;
  selection: Selection;
  plan: SurgeryPlan;
  /** The ratio actually applied to the ranking table (ResNet: 1 − p_cum/100 · B/N_phys). */
  effectiveRatio: number;
  /** n_l − count_l per filter layer (the paper's "Pruned Architecture" printout). */
  remaining: number[];
  /** 1 − surviving channels / B (the paper's "Pruned %" / 100; masked ResNet channels count as gone). */
  prunedFraction: number;
}

/** Widths of the unpruned network's filter layers. */
export function originalWidths(net: Network): number[] {
  return unprunedNetwork(net).filterLayers.map((l) => l.outChannels);
}

function validateImportance(net: Network, importance: number[][]): void {
  if (!Array.isArray(importance) || importance.length !== net.filterLayers.length)
    throw new PruneError(`importance must have one vector per filter layer: ${net.arch} has ${net.filterLayers.length}, got ${importance?.length}`);
  net.filterLayers.forEach((layer, l) => {
    const v = importance[l];
    if (!Array.isArray(v) || v.length !== layer.outChannels)
      throw new PruneError(`importance[${l}] (${layer.conv}) must have ${layer.outChannels} values, got ${v?.length}`);
    const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) throw new PruneError(`importance[${l}][${bad}] (${layer.conv}) is ${v[bad]}; values must be finite numbers`);
  });
}

/** The ratio applied to the ranking table: r_k, or for the paper's residual networks 1 − p_cum/100 · B/N_phys. */
export function effectiveRatio(net: Network, opts: PruneStepOptions): number {
  if ((opts.policy ?? 'paper') !== 'paper' || !paperRules(net).residual) return opts.ratio;
  const base = opts.originalWidths.reduce((a, b) => a + b, 0);
  const phys = net.filterLayers.reduce((a, l) => a + l.outChannels, 0);
  return 1 - (opts.pCumulative / 100) * (base / phys);
}

/** What a step removes by the options' policy, decided but not yet operated (the analysis compares measures by it). */
export function selectStep(net: Network, importance: number[][], opts: PruneStepOptions): { selection: Selection; decision: PruningDecision } {
  const rho = effectiveRatio(net, opts);
  if ((opts.policy ?? 'paper') === 'paper') {
    const selection = selectForPruning(net, buildRankingTable(net, importance, opts.originalWidths), rho);
    return { selection, decision: paperDecision(net, selection) };
  }
  return genericStep(net, importance, rho, opts.generic);
}

export function pruneStep(model: Model, importance: number[][], opts: PruneStepOptions): PruneStepResult {
  const net = model.net;
  validateImportance(net, importance);
  if (!(opts.ratio >= 0 && opts.ratio < 1)) throw new PruneError(`ratio must be in [0, 1), got ${opts.ratio}`);
  const policy = opts.policy ?? 'paper';
  if (!POLICY_NAMES.includes(policy)) throw new PruneError(`policy must be one of ${POLICY_NAMES.join(', ')}, got ${policy}`);
  const rho = effectiveRatio(net, opts);
  const { selection, decision } = selectStep(net, importance, opts);
  const plan: SurgeryPlan = surgeryPlan(net, decision);
  const empty = plan.kept.findIndex((s) => s.length === 0);
  if (empty >= 0)
    throw new PruneError(
      `this step would remove every channel of layer ${empty} (${net.filterLayers[empty].conv}): n_prune = ${selection.nPrune} of ${selection.nEntries} entries exceeds the unprotected entries; use a smaller ratio or more rounds`,
    );
  const state = applyPlanToStateDict(model.stateDict(), plan.tensors);
  // Built-in architectures rebuild from their config; a graph-only network resizes its graph.
  const newNet =
    net.arch === GRAPH_ARCH ? graphNetwork(plan.graph) : buildNetwork(net.arch, net.numClasses, plan.config, net.graph.input);
  const pruned = Model.fromStateDict(newNet, state, 'pruned state');
  // Masks are rebuilt each step: ones, then zeros for the channels removed in this step.
  for (const [bn, zeroed] of Object.entries(plan.masks ?? {})) {
    if (zeroed.length === 0) continue;
    const width = newNet.filterLayers.find((l) => l.bn === bn)!.outChannels;
    const mask = new Float32Array(width).fill(1);
    for (const c of zeroed) mask[c] = 0;
    pruned.masks.set(bn, mask);
  }
  const base = opts.originalWidths.reduce((a, b) => a + b, 0);
  const prunedFraction = 1 - plan.kept.reduce((a, k) => a + k.length, 0) / base;
  const remaining = net.filterLayers.map((l, i) => l.outChannels - selection.counts[i]);
  return { model: pruned, selection, plan, effectiveRatio: rho, remaining, prunedFraction };
}
