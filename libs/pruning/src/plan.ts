// How each state_dict tensor of the current network maps into the pruned one (PRUNING-SPEC §6).
import type { Network, ResNetCifarConfig, VggConfig, ArchConfig } from '@flowprune/models';
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
  /** Remaining channels per filter layer (effective for ResNet). */
  remaining: number[];
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
  return { config, tensors, remaining: widths };
}

/**
 * ResNet-56: conv1 of every block is pruned physically; the residual stream is never narrowed —
 * removed conv2 and projection-shortcut channels are zeroed and masked instead.
 */
export function resnetPlan(net: Network, sel: Selection): SurgeryPlan {
  const tensors = new Map<string, TensorPlan>();
  const masksZeroed: Record<string, number[]> = {};
  const cfg = net.config as ResNetCifarConfig;
  const physical: ResNetCifarConfig = { ...cfg, l1: [...cfg.l1], l2: [...cfg.l2], l3: [...cfg.l3] };
  const effective: ResNetCifarConfig = { ...cfg, l1: [...cfg.l1], l2: [...cfg.l2], l3: [...cfg.l3] };
  const remaining = sel.survivors.map((s) => s.length);
  const layers = net.filterLayers;
  tensors.set(layers[0].conv, {});
  bnPlan(tensors, layers[0].bn, {});
  for (let l = 1; l < layers.length; l++) {
    const layer = layers[l];
    const m = /^(layer(\d))\.(\d+)\.(conv1|conv2|shortcut\.0)\.weight$/.exec(layer.conv);
    if (!m) throw new Error(`unexpected ResNet layer ${layer.conv}`);
    const [, stage, , blockStr, kind] = m;
    const block = Number(blockStr);
    const key = `l${stage.slice(5)}` as 'l1' | 'l2' | 'l3';
    if (kind === 'conv1') {
      tensors.set(layer.conv, { rows: sel.survivors[l] });
      bnPlan(tensors, layer.bn, { rows: sel.survivors[l] });
      physical[key][2 * block] = effective[key][2 * block] = sel.survivors[l].length;
    } else if (kind === 'conv2') {
      tensors.set(layer.conv, { cols: sel.survivors[l - 1], zeroRows: sel.removed[l] });
      bnPlan(tensors, layer.bn, { zeroRows: sel.removed[l] });
      masksZeroed[`${stage}.${block}`] = sel.removed[l];
      effective[key][2 * block + 1] = sel.survivors[l].length;
    } else {
      tensors.set(layer.conv, { zeroRows: sel.removed[l] });
      bnPlan(tensors, layer.bn, { zeroRows: sel.removed[l] });
      masksZeroed[`${stage}.${block}.shortcut`] = sel.removed[l];
      effective[`${key}s` as 'l2s' | 'l3s'] = sel.survivors[l].length;
    }
  }
  return { config: physical, effectiveConfig: effective, tensors, masksZeroed, remaining };
}
