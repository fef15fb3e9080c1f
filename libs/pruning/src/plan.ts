// How each state_dict tensor of the current network maps into the pruned one (PRUNING-SPEC §6).
import type { ArchConfig, MobileNetConfig, Network, ResNetConfig, VggConfig } from '@flowprune/models';
import type { Selection } from './ranking.js';

/** Index selection along dim 0 (`rows`) and dim 1 (`cols`), then rows set to zero (ResNet masking). */
export interface TensorPlan {
  rows?: number[];
  cols?: number[];
  zeroRows?: number[];
}

export interface SurgeryPlan {
  config: ArchConfig;
  /** ResNet: the config with masked channels excluded (used for "Pruned %" only). */
  effectiveConfig?: ArchConfig;
  tensors: Map<string, TensorPlan>;
  /** ResNet: per block ("layer2.0") and projection ("layer2.0.shortcut"), the channels masked this step. */
  masksZeroed?: Record<string, number[]>;
  /** ResNet: the same, by the BN prefix whose output the mask multiplies. */
  masks?: Record<string, number[]>;
  /** Per filter layer, the original channels whose outputs survive (pruned away or masked otherwise);
   *  a MobileNet depthwise layer keeps its input's. */
  kept: number[][];
}

function bnPlan(plan: Map<string, TensorPlan>, prefix: string, p: TensorPlan): void {
  for (const s of ['weight', 'bias', 'running_mean', 'running_var']) plan.set(`${prefix}.${s}`, p);
}

export function vggPlan(net: Network, sel: Selection): SurgeryPlan {
  const tensors = new Map<string, TensorPlan>();
  const widths = sel.survivors.map((s) => s.length);
  net.filterLayers.forEach((layer, l) => {
    tensors.set(layer.conv, { rows: sel.survivors[l], cols: l > 0 ? sel.survivors[l - 1] : undefined });
    bnPlan(tensors, layer.bn, { rows: sel.survivors[l] });
  });
  tensors.set('classifier.weight', { cols: sel.survivors[net.filterLayers.length - 1] });
  let i = 0;
  const config: VggConfig = (net.config as VggConfig).map((v) => (v === 'M' ? 'M' : widths[i++]));
  return { config, tensors, kept: sel.survivors };
}

/**
 * MobileNet-V1: the stem and pointwise layers are pruned by their own counts; a depthwise layer
 * (and its BN) keeps exactly the survivors of its input (PRUNING-SPEC §6.2).
 */
export function mobilenetPlan(net: Network, sel: Selection): SurgeryPlan {
  const tensors = new Map<string, TensorPlan>();
  const layers = net.filterLayers;
  const kept: number[][] = layers.map((_, l) => (l % 2 === 1 ? sel.survivors[l - 1] : sel.survivors[l]));
  layers.forEach((layer, l) => {
    if (l === 0) tensors.set(layer.conv, { rows: kept[0] });
    else if (l % 2 === 1) tensors.set(layer.conv, { rows: kept[l] });
    else tensors.set(layer.conv, { rows: kept[l], cols: kept[l - 1] });
    bnPlan(tensors, layer.bn, { rows: kept[l] });
  });
  tensors.set('linear.weight', { cols: kept[layers.length - 1] });
  const widths = kept.map((k) => k.length);
  const old = net.config as MobileNetConfig;
  const config: MobileNetConfig = old.map((e, i) => {
    const w = widths[i === 0 ? 0 : 2 * i];
    return Array.isArray(e) ? [w, e[1]] : w;
  });
  return { config, tensors, kept };
}

/**
 * ResNets: conv1 of every block is pruned physically; the residual stream is never narrowed —
 * removed conv2 and projection-shortcut channels are zeroed and masked instead (PRUNING-SPEC §6.3).
 */
export function resnetPlan(net: Network, sel: Selection): SurgeryPlan {
  const tensors = new Map<string, TensorPlan>();
  const masksZeroed: Record<string, number[]> = {};
  const masks: Record<string, number[]> = {};
  const cfg = net.config as ResNetConfig;
  const copy = (c: ResNetConfig): ResNetConfig =>
    Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
  const physical = copy(cfg);
  const effective = copy(cfg);
  const layers = net.filterLayers;
  tensors.set(layers[0].conv, {});
  bnPlan(tensors, layers[0].bn, {});
  for (let l = 1; l < layers.length; l++) {
    const layer = layers[l];
    const m = /^layer(\d+)\.(\d+)\.(conv1|conv2|shortcut\.0)\.weight$/.exec(layer.conv);
    if (!m) throw new Error(`unexpected ResNet layer ${layer.conv}`);
    const [, stage, blockStr, kind] = m;
    const block = Number(blockStr);
    const widths = physical[`l${stage}`] as number[];
    const effWidths = effective[`l${stage}`] as number[];
    if (kind === 'conv1') {
      tensors.set(layer.conv, { rows: sel.survivors[l] });
      bnPlan(tensors, layer.bn, { rows: sel.survivors[l] });
      widths[2 * block] = effWidths[2 * block] = sel.survivors[l].length;
    } else if (kind === 'conv2') {
      tensors.set(layer.conv, { cols: sel.survivors[l - 1], zeroRows: sel.removed[l] });
      bnPlan(tensors, layer.bn, { zeroRows: sel.removed[l] });
      masksZeroed[`layer${stage}.${block}`] = sel.removed[l];
      masks[layer.bn] = sel.removed[l];
      effWidths[2 * block + 1] = sel.survivors[l].length;
    } else {
      tensors.set(layer.conv, { zeroRows: sel.removed[l] });
      bnPlan(tensors, layer.bn, { zeroRows: sel.removed[l] });
      masksZeroed[`layer${stage}.${block}.shortcut`] = sel.removed[l];
      masks[layer.bn] = sel.removed[l];
      effective[`l${stage}s`] = sel.survivors[l].length;
    }
  }
  return { config: physical, effectiveConfig: effective, tensors, masksZeroed, masks, kept: sel.survivors };
}
