// The filter layers of a checkpoint without loading its weights onto a compute backend: the
// network comes from the safetensors metadata, and every tensor must fit it.
import { buildNetwork, checkFiniteWeights, parseArch, parseSafeTensors, type ArchConfig, type Network } from '@flowprune/models';

export class CheckpointError extends Error {
  readonly kind = 'invalid-argument';
}

/** The metadata's channel config: caller bytes, so bad JSON is the caller's error. */
function configOf(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${source}: metadata "config" is not valid JSON (${(e as Error).message})`);
  }
}

export function networkOf(bytes: Uint8Array, source = 'model'): Network {
  const { tensors, metadata } = parseSafeTensors(bytes, source);
  checkFiniteWeights(bytes, source);
  if (!metadata.arch) throw new CheckpointError(`${source}: the safetensors metadata has no "arch" (flowprune checkpoints carry arch, num_classes, config)`);
  const classes = Number(metadata.num_classes);
  const net = buildNetwork(parseArch(metadata.arch), classes, metadata.config ? (configOf(metadata.config, source) as ArchConfig) : undefined);
  for (const spec of net.params) {
    const t = tensors.get(spec.name) ?? tensors.get(`module.${spec.name}`);
    if (!t) throw new CheckpointError(`${source}: missing tensor ${spec.name} for ${net.arch}`);
    if (t.shape.join(',') !== spec.shape.join(','))
      throw new CheckpointError(`${source}: ${spec.name} has shape [${t.shape}] but ${net.arch} with this config needs [${spec.shape}]`);
  }
  return net;
}
