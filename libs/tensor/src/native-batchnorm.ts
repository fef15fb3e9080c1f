// BatchNorm kernels of the native backend: FusedBatchNorm (inference, tfjs's own kernel) and the
// fused train- and eval-mode kernels batchnorm.ts calls when the backend has them (BN + optional
// residual add + optional ReLU forward, and its whole gradient in one kernel).
import * as tf from '@tensorflow/tfjs-core';
import { BN_EVAL, BN_EVAL_GRAD, BN_TRAIN, BN_TRAIN_GRAD, type BnEvalAttrs, type BnTrainAttrs } from './batchnorm-kernels.js';
import { Layout } from './native-addon.js';
import type { Heap } from './native-heap.js';
import { input, isFloat, sizeOf, type NativeKernel, type NativeKernelArgs } from './native-kernel.js';

const channels = (x: tf.TensorInfo): number => x.shape[x.shape.length - 1] ?? 1;

/** [n, hw, c] of an activation: 4-D as it is, anything else as one image of channels-last rows. */
function dims(x: tf.TensorInfo): [number, number, number] {
  const c = channels(x);
  if (x.shape.length === 4) return [x.shape[0]!, x.shape[1]! * x.shape[2]!, c];
  return [1, sizeOf(x.shape) / c, c];
}

/** The layout x is in; the other full-size operands are rewritten to it (in place) if they differ. */
function followX(heap: Heap, x: tf.TensorInfo, others: (tf.TensorInfo | undefined)[]): Layout {
  const layout = heap.layoutOf(x);
  for (const t of others) if (t) heap.toLayout(t, layout);
  return layout;
}

function fusedBatchNorm({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined {
  const x = input(inputs, 'x', tf.FusedBatchNorm);
  const mean = input(inputs, 'mean', tf.FusedBatchNorm);
  const variance = input(inputs, 'variance', tf.FusedBatchNorm);
  const { scale, offset } = inputs;
  const c = channels(x);
  const perChannel = [mean, variance, scale, offset].every((t) => !t || sizeOf(t.shape) === c || sizeOf(t.shape) === 1);
  if (!isFloat(x, mean, variance, scale, offset) || !perChannel || sizeOf(x.shape) === 0) return undefined;
  const eps = (attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon ?? 0.001;
  const layout = heap.layoutOf(x);
  const y = heap.out(x.shape, 'float32', layout);
  const len = (t: tf.TensorInfo | undefined): number => (t ? sizeOf(t.shape) : 1);
  heap.addon.batchNormInference(
    heap.buffer, heap.ptr(x), heap.ptr(mean), len(mean), heap.ptr(variance), len(variance),
    heap.optPtr(scale), len(scale), heap.optPtr(offset), len(offset), heap.ptr(y),
    layout, ...dims(x), eps, false,
  );
  return y;
}

function batchNormEval({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined {
  const x = input(inputs, 'x', BN_EVAL);
  const mean = input(inputs, 'mean', BN_EVAL);
  const variance = input(inputs, 'variance', BN_EVAL);
  const gamma = input(inputs, 'gamma', BN_EVAL);
  const beta = input(inputs, 'beta', BN_EVAL);
  const { residual } = inputs;
  if (!isFloat(x, mean, variance, gamma, beta, residual)) return undefined;
  const a = attrs as unknown as BnEvalAttrs;
  const c = channels(x);
  const layout = followX(heap, x, [residual]);
  const y = heap.out(x.shape, 'float32', layout);
  heap.addon.batchNormInference(
    heap.buffer, heap.ptr(x), heap.ptr(mean), c, heap.ptr(variance), c, heap.ptr(gamma), c, heap.ptr(beta), c,
    heap.ptr(y), layout, ...dims(x), a.epsilon, a.relu, heap.optPtr(residual),
  );
  return y;
}

function batchNormTrain({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo[] | undefined {
  const x = input(inputs, 'x', BN_TRAIN);
  const gamma = input(inputs, 'gamma', BN_TRAIN);
  const beta = input(inputs, 'beta', BN_TRAIN);
  const { residual } = inputs;
  if (!isFloat(x, gamma, beta, residual)) return undefined;
  const a = attrs as unknown as BnTrainAttrs;
  const c = channels(x);
  const layout = followX(heap, x, [residual]);
  const y = heap.out(x.shape, 'float32', layout);
  const mean = heap.out([c]);
  const variance = heap.out([c]);
  heap.addon.batchNormTrain(
    heap.buffer, heap.ptr(x), heap.ptr(gamma), heap.ptr(beta), heap.optPtr(residual),
    heap.ptr(y), heap.ptr(mean), heap.ptr(variance), layout, ...dims(x), a.epsilon, a.relu,
  );
  return [y, mean, variance];
}

/** Both BatchNorm gradients: train mode (batch statistics) and eval mode (globalStats: given ones). */
function batchNormGrad({ inputs, attrs, heap }: NativeKernelArgs, kernel: string, globalStats: boolean): tf.TensorInfo[] | undefined {
  const dy = input(inputs, 'dy', kernel);
  const x = input(inputs, 'x', kernel);
  const gamma = input(inputs, 'gamma', kernel);
  const mean = input(inputs, 'mean', kernel);
  const variance = input(inputs, 'variance', kernel);
  const { y } = inputs;
  const a = attrs as unknown as Pick<BnTrainAttrs, 'epsilon' | 'relu'> & { withResidual?: boolean };
  if (!isFloat(dy, x, gamma, mean, variance, y) || (a.relu && !y)) return undefined;
  const c = channels(x);
  const layout = followX(heap, x, [dy, y]);
  const dx = heap.out(x.shape, 'float32', layout);
  const dgamma = heap.out([c]);
  const dbeta = heap.out([c]);
  const dres = a.withResidual ? heap.out(x.shape, 'float32', layout) : undefined;
  heap.addon.batchNormTrainGrad(
    heap.buffer, heap.ptr(dy), heap.ptr(x), heap.optPtr(y), heap.ptr(gamma), heap.ptr(mean), heap.ptr(variance),
    heap.ptr(dx), heap.optPtr(dres), heap.ptr(dgamma), heap.ptr(dbeta), layout, ...dims(x), a.epsilon, a.relu, globalStats,
  );
  return dres ? [dx, dgamma, dbeta, dres] : [dx, dgamma, dbeta];
}

export const NATIVE_BATCHNORM_KERNELS: NativeKernel[] = [
  { kernelName: tf.FusedBatchNorm, impl: fusedBatchNorm },
  { kernelName: BN_EVAL, impl: batchNormEval },
  { kernelName: BN_TRAIN, impl: batchNormTrain },
  { kernelName: BN_TRAIN_GRAD, impl: (args) => batchNormGrad(args, BN_TRAIN_GRAD, false) },
  { kernelName: BN_EVAL_GRAD, impl: (args) => batchNormGrad(args, BN_EVAL_GRAD, true) },
];
