// Carrying SGD momentum buffers across a pruning step (docs/pruning-semantics.md §7, preserve_moment).
import { Model, tfShape, tfToTorch, torchToTf } from '@flowprune/models';
import { tf } from '@flowprune/tensor';
import { applyTensorPlan } from './apply.js';
import type { SurgeryPlan } from './plan.js';

/**
 * Each new buffer is the old one restricted exactly as its parameter was, but never zeroed: for
 * ResNet, masked conv2/shortcut/BN rows keep their stale momentum (quirk Q6), as the original does.
 * Buffers are in tfjs layout, keyed by parameter name, like libs/training's Sgd.
 */
export function carryMomentum(
  buffers: ReadonlyMap<string, tf.Tensor>,
  before: Model,
  after: Model,
  plan: SurgeryPlan,
): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  const oldSpecs = new Map(before.net.params.map((p) => [p.name, p]));
  for (const spec of after.net.params) {
    const buf = buffers.get(spec.name);
    const oldSpec = oldSpecs.get(spec.name);
    if (!buf || !oldSpec) continue;
    const torch = { dtype: 'F32' as const, shape: oldSpec.shape, data: tfToTorch(oldSpec, buf.dataSync() as Float32Array) };
    const restricted = applyTensorPlan(torch, plan.tensors.get(spec.name), false);
    out.set(spec.name, tf.tensor(torchToTf(spec, restricted.data as Float32Array), tfShape(spec)));
  }
  return out;
}
