// A fused SGD step for the native backend: every parameter and momentum buffer updated in place
// in one native call, instead of five full-size tfjs ops and two allocations per parameter.
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon } from './native-addon.js';
import { noteInPlaceWrite } from './heap-writes.js';
import { heapOf } from './native-heap.js';
import { NATIVE_BACKEND } from './native-kernel.js';

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

export interface SgdSlot {
  param: tf.Variable;
  grad: tf.Tensor;
  /** The momentum buffer from the previous step; undefined on the first step. */
  buffer?: tf.Tensor;
}

/**
 * PyTorch's SGD step (dampening 0, not Nesterov) on every slot:
 * d = g + wd·θ; buf = μ·buf + d (buf = d on the first step); θ −= lr·buf (lr·d without momentum).
 * Returns the momentum buffers (a new tensor for a first step, else the same tensor, updated), or
 * undefined, having changed nothing, when the active backend has no fused step or a tensor cannot
 * be updated in place (its data is shared with another tensor).
 */
export function fusedSgdStep(slots: readonly SgdSlot[], h: SgdHyper): (tf.Tensor | undefined)[] | undefined {
  const { addon } = loadNativeAddon();
  if (!addon || tf.getBackend() !== NATIVE_BACKEND) return undefined;
  const heap = heapOf(addon, tf.backend());
  const same = (a: tf.Tensor, b: tf.Tensor): boolean => a.size === b.size && a.dtype === 'float32' && b.dtype === 'float32';
  for (const s of slots) {
    if (!same(s.param, s.grad) || (s.buffer && !same(s.param, s.buffer))) return undefined;
    if (heap.refCount(s.param) !== 1 || (s.buffer && heap.refCount(s.buffer) !== 1)) return undefined;
  }
  const useMomentum = h.momentum !== 0;
  // A first step's buffers are allocated uninitialised: the kernel writes them before reading.
  const buffers = slots.map((s) => (useMomentum ? (s.buffer ?? tf.engine().makeTensorFromTensorInfo(heap.out(s.param.shape))) : undefined));
  const table = new Float64Array(slots.length * 5);
  slots.forEach((s, i) => {
    const buf = buffers[i];
    table.set([heap.ptr(s.param), heap.ptr(s.grad), buf ? heap.ptr(buf) : -1, s.param.size, s.buffer ? 0 : 1], i * 5);
  });
  noteInPlaceWrite();
  addon.sgdStep(heap.buffer, table, h.lr, h.momentum, h.weightDecay);
  return buffers;
}
