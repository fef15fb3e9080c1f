// Pooling kernels of the native backend: MaxPool, AvgPool and their gradients (NHWC float32).
import * as tf from '@tensorflow/tfjs-core';
import { PoolKind } from './native-addon.js';
import type { Heap } from './native-heap.js';
import { input, isFloat, type NativeKernel, type NativeKernelArgs } from './native-kernel.js';

type PoolInfo = tf.backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

function poolInfo(xShape: number[], attrs: tf.NamedAttrMap): PoolInfo {
  const a = attrs as unknown as tf.MaxPoolAttrs;
  return tf.backend_util.computePool2DInfo(xShape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** Pools work in either layout; a second operand (dy) is rewritten to the first one's. */
function run(heap: Heap, kind: PoolKind, info: PoolInfo, a: tf.TensorInfo, b: tf.TensorInfo | undefined, outShape: number[]): tf.TensorInfo {
  const layout = heap.layoutOf(a);
  if (b) heap.toLayout(b, layout);
  const out = heap.out(outShape, 'float32', layout);
  heap.addon.pool(
    heap.buffer, kind, heap.ptr(a), heap.optPtr(b), heap.ptr(out),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, layout,
  );
  return out;
}

/**
 * Average pools stay native only without padding: with padding the reference backend divides by
 * the in-bounds taps forward but by the whole window in its gradient, which we do not copy.
 */
const unpadded = (info: PoolInfo): boolean => {
  const p = info.padInfo;
  return p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0;
};

function pool(kernelName: string, kind: PoolKind) {
  return ({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const x = input(inputs, 'x', kernelName);
    if (!isFloat(x)) return undefined;
    const info = poolInfo(x.shape, attrs);
    if (kind === PoolKind.Avg && !unpadded(info)) return undefined;
    return run(heap, kind, info, x, undefined, info.outShape);
  };
}

function poolGrad(kernelName: string, kind: PoolKind) {
  return ({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const dy = input(inputs, 'dy', kernelName);
    const x = input(inputs, 'input', kernelName);
    if (!isFloat(dy, x)) return undefined;
    const info = poolInfo(x.shape, attrs);
    if (kind === PoolKind.MaxGrad) return run(heap, kind, info, x, dy, x.shape);
    return unpadded(info) ? run(heap, kind, info, dy, undefined, x.shape) : undefined;
  };
}

export const NATIVE_POOL_KERNELS: NativeKernel[] = [
  { kernelName: tf.MaxPool, impl: pool(tf.MaxPool, PoolKind.Max) },
  { kernelName: tf.MaxPoolGrad, impl: poolGrad(tf.MaxPoolGrad, PoolKind.MaxGrad) },
  { kernelName: tf.AvgPool, impl: pool(tf.AvgPool, PoolKind.Avg) },
  { kernelName: tf.AvgPoolGrad, impl: poolGrad(tf.AvgPoolGrad, PoolKind.AvgGrad) },
];
