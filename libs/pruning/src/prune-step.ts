// One pruning step: rank, select, operate (PRUNING-SPEC §5–6).
import { buildNetwork, Model, type Network } from '@flowprune/models';
import { applyPlanToStateDict } from './apply.js';
import { resnetPlan, vggPlan, type SurgeryPlan } from './plan.js';
import { buildRankingTable, PruneError, rankingRules, selectForPruning, type Selection } from './ranking.js';

export interface PruneStepOptions {
  /** This round's ratio r_k (from the schedule). */
  ratio: number;
  /** p_cumulative after this round's update (ResNet-56's pruning amount). */
  pCumulative: number;
  /** Filter-layer widths of the original, unpruned network (the 95 % cap; B = their sum). */
  originalWidths: number[];
}

export interface PruneStepResult {
  model: Model;
  selection: Selection;
  plan: SurgeryPlan;
  /** The ratio actually applied to the ranking table (ResNet: 1 − p_cum/100 · B/N_phys). */
  effectiveRatio: number;
  /** 1 − remaining channels / B (the paper's "Pruned %" / 100). */
  prunedFraction: number;
}

/** Widths of the unpruned network's filter layers. */
export function originalWidths(net: Network): number[] {
  return buildNetwork(net.arch, net.numClasses).filterLayers.map((l) => l.outChannels);
}

export function validateImportance(net: Network, importance: number[][]): void {
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

export function effectiveRatio(net: Network, opts: PruneStepOptions): number {
  if (!rankingRules(net).resnet) return opts.ratio;
  const base = opts.originalWidths.reduce((a, b) => a + b, 0);
  const phys = net.filterLayers.reduce((a, l) => a + l.outChannels, 0);
  return 1 - (opts.pCumulative / 100) * (base / phys);
}

export function pruneStep(model: Model, importance: number[][], opts: PruneStepOptions): PruneStepResult {
  const net = model.net;
  validateImportance(net, importance);
  if (!(opts.ratio >= 0 && opts.ratio < 1)) throw new PruneError(`ratio must be in [0, 1), got ${opts.ratio}`);
  const rho = effectiveRatio(net, opts);
  const table = buildRankingTable(net, importance, opts.originalWidths);
  const selection = selectForPruning(net, table, rho);
  const empty = selection.survivors.findIndex((s) => s.length === 0);
  if (empty >= 0)
    throw new PruneError(
      `this step would remove every channel of layer ${empty} (${net.filterLayers[empty].conv}): n_prune = ${selection.nPrune} of ${selection.nEntries} entries exceeds the protected floor; use a smaller ratio or more rounds`,
    );
  const plan = rankingRules(net).resnet ? resnetPlan(net, selection) : vggPlan(net, selection);
  const newNet = buildNetwork(net.arch, net.numClasses, plan.config);
  const pruned = Model.fromStateDict(newNet, applyPlanToStateDict(model.stateDict(), plan.tensors), 'pruned state');
  if (plan.masksZeroed) {
    // Masks are rebuilt each step: ones, then zeros for the channels removed in this step.
    for (const [key, zeroed] of Object.entries(plan.masksZeroed)) {
      const width = newNet.filterLayers.find((l) => l.bn === (key.endsWith('.shortcut') ? `${key}.1` : `${key}.bn2`))!.outChannels;
      const mask = new Float32Array(width).fill(1);
      for (const c of zeroed) mask[c] = 0;
      if (zeroed.length) pruned.masks.set(key, mask);
    }
  }
  const base = opts.originalWidths.reduce((a, b) => a + b, 0);
  const prunedFraction = 1 - plan.remaining.reduce((a, b) => a + b, 0) / base;
  return { model: pruned, selection, plan, effectiveRatio: rho, prunedFraction };
}
