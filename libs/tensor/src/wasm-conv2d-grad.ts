// Conv2DBackpropFilter and Conv2DBackpropInput for the wasm backend, expressed as forward
// convolutions so the work runs in XNNPACK. Measured numbers: tools/bench/tensor-train-step.ts.
import * as tf from '@tensorflow/tfjs-core';
import { transposedConv } from './wasm-transposed-conv.js';
import { cropForConv, wrapInput, type Pair } from './wasm-kernel-util.js';

const { computeConv2DInfo } = tf.backend_util;

function requireNhwc(kernel: string, dataFormat: 'NHWC' | 'NCHW'): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports dataFormat 'NHWC' only (got '${dataFormat}')`);
  }
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co].
 * Read with ci as the batch, (oh,ow) as filter taps and n as the contracted channel, this is a
 * forward convolution of x^T [ci,H,W,n] with dy^T [oh,ow,n,co] at dilation = stride.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | Pair,
  pad: tf.Conv2DBackpropFilterAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
  const [kh, kw] = filterShape;
  const { top, left } = info.padInfo;
  // Signed bottom/right padding that makes the dilated correlation produce exactly kh x kw
  // outputs; negative means the forward conv never read those trailing rows.
  const bottom = (info.outHeight - 1) * info.strideHeight + kh - top - info.inHeight;
  const right = (info.outWidth - 1) * info.strideWidth + kw - left - info.inWidth;
  const xt = tf.transpose(x, [3, 1, 2, 0]);
  const dyt = tf.transpose(dy, [1, 2, 0, 3]);
  const { t, pad: convPad } = cropForConv(xt, [top, bottom], [left, right]);
  const g = tf.conv2d(t, dyt, 1, convPad, 'NHWC', [info.strideHeight, info.strideWidth]);
  return tf.transpose(g, [1, 2, 0, 3]);
}

/** dx via transposedConv: each phase convolves dy with flipped, in/out-swapped filter taps. */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | Pair,
  pad: tf.Conv2DBackpropInputAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
  const [kh, kw, ci, co] = filter.shape;
  const s: Pair = [info.strideHeight, info.strideWidth];
  return transposedConv(dy, inputShape, [kh, kw], s, [info.padInfo.top, info.padInfo.left], (d, first, st, p) => {
    const taps = tf.stridedSlice(filter, [first[0], first[1], 0, 0], [kh, kw, ci, co], [st[0], st[1], 1, 1]);
    const flipped = tf.transpose(tf.reverse(taps, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(d, flipped, 1, p);
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as tf.Conv2DBackpropFilterInputs;
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    requireNhwc(tf.Conv2DBackpropFilter, a.dataFormat);
    if (!x || !dy) throw new Error(`${tf.Conv2DBackpropFilter}: missing input`);
    const kb = backend as tf.KernelBackend;
    return tf.tidy(() =>
      conv2dFilterGrad(wrapInput(x, kb), wrapInput(dy, kb), a.filterShape, a.strides, a.pad, a.dimRoundingMode),
    );
  },
};

export function conv2DBackpropInputConfig(fallback: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    // The stock kernel binds its wasm function in setupFunc, which the engine only runs for
    // kernels registered when the backend initialises: forward it so the fallback works.
    ...(fallback?.setupFunc ? { setupFunc: fallback.setupFunc } : {}),
    kernelFunc: (args) => {
      const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (a.dataFormat !== 'NHWC' && fallback) return fallback.kernelFunc(args);
      requireNhwc(tf.Conv2DBackpropInput, a.dataFormat);
      const { dy, filter } = args.inputs as tf.Conv2DBackpropInputInputs;
      if (!dy || !filter) throw new Error(`${tf.Conv2DBackpropInput}: missing input`);
      const kb = args.backend as tf.KernelBackend;
      return tf.tidy(() =>
        conv2dInputGrad(wrapInput(dy, kb), wrapInput(filter, kb), a.inputShape, a.strides, a.pad, a.dimRoundingMode),
      );
    },
  };
}
