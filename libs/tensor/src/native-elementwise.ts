// Elementwise kernels of the native backend, for the full-size activations of training: ReLU and
// its gradient, and same-shape Add / Sub / Multiply (residual adds, gradient accumulation).
// Broadcasting forms (bias adds, per-channel scales) are small and stay on wasm.
import * as tf from '@tensorflow/tfjs-core';
import { BinaryOp, Layout } from './native-addon.js';
import type { Heap } from './native-heap.js';
import { input, isFloat, sizeOf, type NativeKernel, type NativeKernelArgs } from './native-kernel.js';
import { RELU_GRAD } from './relu-grad.js';

const sameShape = (a: tf.TensorInfo, b: tf.TensorInfo): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * Elementwise kernels do not care about the layout as long as all operands share one: a blocked
 * operand wins (the others are rewritten in place), and the output is in that layout.
 */
function commonLayout(heap: Heap, ts: tf.TensorInfo[]): Layout {
  const layout = ts.some((t) => heap.layoutOf(t) === Layout.Blocked) ? Layout.Blocked : Layout.Nhwc;
  for (const t of ts) heap.toLayout(t, layout);
  return layout;
}

function binary(kernelName: string, op: BinaryOp) {
  return ({ inputs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const a = input(inputs, 'a', kernelName);
    const b = input(inputs, 'b', kernelName);
    if (!isFloat(a, b) || !sameShape(a, b)) return undefined;
    const out = heap.out(a.shape, 'float32', commonLayout(heap, [a, b]));
    heap.addon.binary(heap.buffer, op, heap.ptr(a), heap.ptr(b), heap.ptr(out), sizeOf(a.shape));
    return out;
  };
}

function relu({ inputs, heap }: NativeKernelArgs): tf.TensorInfo | undefined {
  const x = input(inputs, 'x', tf.Relu);
  if (!isFloat(x)) return undefined;
  const out = heap.out(x.shape, 'float32', heap.layoutOf(x));
  heap.addon.relu(heap.buffer, heap.ptr(x), heap.ptr(out), sizeOf(x.shape));
  return out;
}

function reluGrad({ inputs, heap }: NativeKernelArgs): tf.TensorInfo | undefined {
  const dy = input(inputs, 'dy', RELU_GRAD);
  const x = input(inputs, 'x', RELU_GRAD);
  if (!isFloat(dy, x) || !sameShape(dy, x)) return undefined;
  const out = heap.out(x.shape, 'float32', commonLayout(heap, [dy, x]));
  heap.addon.reluGrad(heap.buffer, heap.ptr(dy), heap.ptr(x), heap.ptr(out), sizeOf(x.shape));
  return out;
}

export const NATIVE_ELEMENTWISE_KERNELS: NativeKernel[] = [
  { kernelName: tf.Add, impl: binary(tf.Add, BinaryOp.Add) },
  { kernelName: tf.Sub, impl: binary(tf.Sub, BinaryOp.Sub) },
  { kernelName: tf.Multiply, impl: binary(tf.Multiply, BinaryOp.Mul) },
  { kernelName: tf.Relu, impl: relu },
  { kernelName: RELU_GRAD, impl: reluGrad },
];
