// Convolution kernels of the native backend: Conv2D and DepthwiseConv2dNative, forward and both
// backward passes, all running oneDNN in place on the wasm heap.
import * as tf from '@tensorflow/tfjs-core';
import { ConvPass, Layout, type NativeAddon } from './native-addon.js';
import type { Heap } from './native-heap.js';
import { input, isFloat, type NativeKernel, type NativeKernelArgs } from './native-kernel.js';

type Shape4 = [number, number, number, number];
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * Below this many input channels, backward-data stays on wasm: oneDNN 2.6 picks a pathologically
 * slow path for them (~1 s for the 3-channel stem at batch 128). Training never asks for it (the
 * input image needs no gradient); only input-gradient uses such as saliency do.
 */
const MIN_BACKWARD_DATA_CHANNELS = 8;

interface ConvAttrs {
  strides: number | [number, number];
  pad: tf.Conv2DAttrs['pad'];
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

function convInfo(inShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean): Conv2DInfo | undefined {
  if (a.dataFormat === 'NCHW') return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    depthwise,
  );
  // oneDNN derives the output size as floor((in + pads - effective filter) / stride) + 1; other
  // rounding modes can disagree with it and stay on wasm.
  const { top, bottom, left, right } = info.padInfo;
  const rows = Math.floor((info.inHeight + top + bottom - info.effectiveFilterHeight) / info.strideHeight) + 1;
  const cols = Math.floor((info.inWidth + left + right - info.effectiveFilterWidth) / info.strideWidth) + 1;
  if (rows !== info.outHeight || cols !== info.outWidth || top < 0 || bottom < 0 || left < 0 || right < 0) return undefined;
  return info;
}

/** The 18 geometry numbers the addon's convolution entry points take. */
function geometry(info: Conv2DInfo, depthwise: boolean): Parameters<NativeAddon['convPrefersBlocked']> {
  const p = info.padInfo;
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, p.bottom, p.right, depthwise ? info.inChannels : 1,
  ];
}

/**
 * Runs one pass. Activations (x, y and their gradients) use one layout per geometry, blocked where
 * oneDNN has fast kernels for it (the addon decides once per geometry): activation inputs are
 * rewritten to it in place if a previous kernel left them otherwise, and the output is in it.
 */
function run(heap: Heap, pass: ConvPass, info: Conv2DInfo, a: tf.TensorInfo, b: tf.TensorInfo, outShape: number[], depthwise: boolean): tf.TensorInfo {
  const g = geometry(info, depthwise);
  const layout = heap.addon.convPrefersBlocked(...g) ? Layout.Blocked : Layout.Nhwc;
  // Activation operands: x or dy in a; dy in b for the filter gradient.
  heap.toLayout(a, layout);
  if (pass === ConvPass.BackwardWeights) heap.toLayout(b, layout);
  const out = heap.out(outShape, 'float32', pass === ConvPass.BackwardWeights ? Layout.Nhwc : layout);
  heap.addon.conv2d(heap.buffer, pass, heap.ptr(a), heap.ptr(b), heap.ptr(out), ...g, layout, layout);
  return out;
}

function forward(kernelName: string, depthwise: boolean) {
  return ({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const x = input(inputs, 'x', kernelName);
    const filter = input(inputs, 'filter', kernelName);
    if (!isFloat(x, filter)) return undefined;
    const info = convInfo(x.shape, filter.shape, attrs as unknown as ConvAttrs, depthwise);
    return info && run(heap, ConvPass.Forward, info, x, filter, info.outShape, depthwise);
  };
}

function backwardData(kernelName: string, depthwise: boolean) {
  return ({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const dy = input(inputs, 'dy', kernelName);
    const filter = input(inputs, 'filter', kernelName);
    const a = attrs as unknown as ConvAttrs & { inputShape: Shape4 };
    if (!isFloat(dy, filter) || a.inputShape[3] < MIN_BACKWARD_DATA_CHANNELS) return undefined;
    const info = convInfo(a.inputShape, filter.shape, a, depthwise);
    return info && run(heap, ConvPass.BackwardData, info, dy, filter, a.inputShape, depthwise);
  };
}

function backwardFilter(kernelName: string, depthwise: boolean) {
  return ({ inputs, attrs, heap }: NativeKernelArgs): tf.TensorInfo | undefined => {
    const x = input(inputs, 'x', kernelName);
    const dy = input(inputs, 'dy', kernelName);
    const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
    if (!isFloat(x, dy)) return undefined;
    const info = convInfo(x.shape, a.filterShape, a, depthwise);
    return info && run(heap, ConvPass.BackwardWeights, info, x, dy, a.filterShape, depthwise);
  };
}

export const NATIVE_CONV_KERNELS: NativeKernel[] = [
  { kernelName: tf.Conv2D, impl: forward(tf.Conv2D, false) },
  { kernelName: tf.Conv2DBackpropInput, impl: backwardData(tf.Conv2DBackpropInput, false) },
  { kernelName: tf.Conv2DBackpropFilter, impl: backwardFilter(tf.Conv2DBackpropFilter, false) },
  { kernelName: tf.DepthwiseConv2dNative, impl: forward(tf.DepthwiseConv2dNative, true) },
  { kernelName: tf.DepthwiseConv2dNativeBackpropInput, impl: backwardData(tf.DepthwiseConv2dNativeBackpropInput, true) },
  { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, impl: backwardFilter(tf.DepthwiseConv2dNativeBackpropFilter, true) },
];
