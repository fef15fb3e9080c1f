// The filter layers of a checkpoint without loading its weights onto a compute backend: the
// network comes from the safetensors metadata, and every tensor must fit it.
import type { FilterLayer, Network } from './arch/types.js';
import { checkFiniteWeights } from './finite-weights.js';
import { GRAPH_METADATA_KEY } from './graph/json.js';
import { checkpointNetwork } from './model.js';
import { parseSafeTensors, type SafeTensor } from './safetensors.js';

export class CheckpointError extends Error {
  readonly kind = 'invalid-argument';
}

/**
 * The network of a checkpoint (built-in or imported) without loading its weights onto a compute
 * backend; every tensor must fit it. Any fault is the caller's: CheckpointError.
 */
export function networkOf(bytes: Uint8Array, source = 'model'): Network {
  let net: Network;
  let tensors: Map<string, SafeTensor>;
  try {
    const file = parseSafeTensors(bytes, source);
    tensors = file.tensors;
    if (file.metadata.arch === undefined && file.metadata[GRAPH_METADATA_KEY] === undefined)
      throw new CheckpointError(`${source}: the safetensors metadata has no "arch" (flowprune checkpoints carry arch, num_classes, config; imported models their graph)`);
    checkFiniteWeights(bytes, source);
    net = checkpointNetwork(file, {}, source);
  } catch (e) {
    throw e instanceof CheckpointError ? e : new CheckpointError((e as Error).message);
  }
  for (const spec of net.params) {
    const t = tensors.get(spec.name) ?? tensors.get(`module.${spec.name}`);
    if (!t) throw new CheckpointError(`${source}: missing tensor ${spec.name} for ${net.arch}`);
    if (t.shape.join(',') !== spec.shape.join(','))
      throw new CheckpointError(`${source}: ${spec.name} has shape [${t.shape}] but ${net.arch} with this config needs [${spec.shape}]`);
  }
  return net;
}

/** One prunable filter layer as an estimator is told about it (the Estimate request's manifest). */
export interface PrunableLayerInfo {
  /** state_dict name of the conv weight: the key an estimator's answer is matched by. */
  conv: string;
  /** state_dict prefix of its BatchNorm; empty when it has none. */
  batchNorm: string;
  outChannels: number;
  /** One filter per input channel (groups = in channels > 1). */
  depthwise: boolean;
}

/** The layer manifest of a network, derived from its filter layers (in their order). */
export function prunableLayers(layers: readonly FilterLayer[]): PrunableLayerInfo[] {
  return layers.map((l) => ({ conv: l.conv, batchNorm: l.bn, outChannels: l.outChannels, depthwise: l.groups > 1 && l.groups === l.inChannels }));
}

/**
 * Positions (in the network's filter-layer order) of the layers a request's manifest names, in
 * manifest order; every layer when the manifest is empty (callers from before the manifest).
 * Throws naming the first entry that does not fit the model.
 */
export function manifestPositions(net: Network, manifest: readonly PrunableLayerInfo[]): number[] {
  if (manifest.length === 0) return net.filterLayers.map((_, i) => i);
  const position = new Map(net.filterLayers.map((l, i) => [l.conv, i]));
  return manifest.map((m) => {
    const i = position.get(m.conv);
    if (i === undefined) throw new CheckpointError(`"${m.conv}" is not a filter layer of this ${net.arch} model`);
    const width = net.filterLayers[i].outChannels;
    if (width !== m.outChannels) throw new CheckpointError(`"${m.conv}" has ${width} output channels in the model, the manifest says ${m.outChannels}`);
    return i;
  });
}
