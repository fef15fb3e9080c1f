// BatchMatMul on the native backend (oneDNN matmul): rank-2 or rank-3 operands of equal rank,
// batch sizes equal or 1. Other forms fall back to wasm.
import * as tf from '@tensorflow/tfjs-core';
import { input, isFloat, type NativeKernel, type NativeKernelArgs } from './native-kernel.js';

function batchMatMul({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined {
  const a = input(inputs, 'a', tf.BatchMatMul);
  const b = input(inputs, 'b', tf.BatchMatMul);
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  const rank = a.shape.length;
  if (!isFloat(a, b) || rank !== b.shape.length || (rank !== 2 && rank !== 3)) return undefined;
  const [batchA, ra, ca] = rank === 3 ? (a.shape as [number, number, number]) : [1, a.shape[0]!, a.shape[1]!];
  const [batchB, rb, cb] = rank === 3 ? (b.shape as [number, number, number]) : [1, b.shape[0]!, b.shape[1]!];
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const [kb, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k !== kb || k === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  const batch = Math.max(batchA, batchB);
  const out = heap.out(rank === 3 ? [batch, m, n] : [m, n]);
  if (m * n * batch === 0) return out;
  heap.addon.matmul(heap.buffer, heap.ptr(a), heap.ptr(b), heap.ptr(out), batchA, batchB, m, n, k, transposeA, transposeB);
  return out;
}

export const NATIVE_MATMUL_KERNELS: NativeKernel[] = [{ kernelName: tf.BatchMatMul, impl: batchMatMul }];
