// DepthwiseConv2dNativeBackpropFilter / ...BackpropInput for the wasm backend (which has neither),
// built from wasm's XNNPACK depthwise convolution. Channel multiplier 1 only (what flowprune uses).
import * as tf from '@tensorflow/tfjs-core';
import { transposedConv } from './wasm-transposed-conv.js';
import { cropForConv, pair, wrapInput, type Pair } from './wasm-kernel-util.js';

const { computeConv2DInfo } = tf.backend_util;

type Pad = tf.DepthwiseConv2dNativeBackpropFilterAttrs['pad'];
type Rounding = 'floor' | 'round' | 'ceil';

function checkSupported(kernel: string, filterShape: number[], dilations: number | Pair | undefined): void {
  if (filterShape[3] !== 1) {
    throw new Error(`${kernel} on wasm supports channel multiplier 1 only (filter shape [${filterShape.join(',')}])`);
  }
  const [dh, dw] = pair(dilations ?? 1);
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm supports dilation 1 only (got [${dh},${dw}])`);
}

/**
 * dW[kh,kw,c] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, c] * dy[n,oh,ow,c]: a depthwise
 * correlation of x laid out as [1,H,W,n*c] with dy as an [oh,ow,n*c,1] filter at dilation = stride,
 * followed by a sum over n. Every multiply is needed (no wasted FLOPs), but XNNPACK has no
 * fast path for such large depthwise kernels, so this runs well below forward-conv speed.
 */
function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | Pair,
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  const info = computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, true);
  const [n, h, w, c] = x.shape;
  const [oh, ow] = [dy.shape[1], dy.shape[2]];
  const [kh, kw] = filterShape;
  const { top, left } = info.padInfo;
  const bottom = (oh - 1) * info.strideHeight + kh - top - h;
  const right = (ow - 1) * info.strideWidth + kw - left - w;
  const xs = tf.reshape<tf.Rank.R4>(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
  const dys = tf.reshape<tf.Rank.R4>(tf.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, 1]);
  const { t, pad: convPad } = cropForConv(xs, [top, bottom], [left, right]);
  const g = tf.depthwiseConv2d(t, dys, 1, convPad, 'NHWC', [info.strideHeight, info.strideWidth]);
  return tf.reshape<tf.Rank.R4>(tf.sum(tf.reshape(g, [kh, kw, n, c]), 2), [kh, kw, c, 1]);
}

/** dx via transposedConv: each phase is a stride-1 depthwise conv of dy with flipped filter taps. */
function depthwiseInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | Pair,
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  const info = computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, true);
  const [kh, kw, c] = filter.shape;
  const s: Pair = [info.strideHeight, info.strideWidth];
  return transposedConv(dy, inputShape, [kh, kw], s, [info.padInfo.top, info.padInfo.left], (d, first, st, p) => {
    const taps = tf.stridedSlice(filter, [first[0], first[1], 0, 0], [kh, kw, c, 1], [st[0], st[1], 1, 1]);
    return tf.depthwiseConv2d(d, tf.reverse(taps, [0, 1]) as tf.Tensor4D, 1, p);
  });
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as tf.DepthwiseConv2dNativeBackpropFilterInputs;
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    if (!x || !dy) throw new Error(`${tf.DepthwiseConv2dNativeBackpropFilter}: missing input`);
    checkSupported(tf.DepthwiseConv2dNativeBackpropFilter, a.filterShape, a.dilations);
    const kb = backend as tf.KernelBackend;
    return tf.tidy(() =>
      depthwiseFilterGrad(wrapInput(x, kb), wrapInput(dy, kb), a.filterShape, a.strides, a.pad, a.dimRoundingMode),
    );
  },
};

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as tf.DepthwiseConv2dNativeBackpropInputInputs;
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    if (!dy || !filter) throw new Error(`${tf.DepthwiseConv2dNativeBackpropInput}: missing input`);
    checkSupported(tf.DepthwiseConv2dNativeBackpropInput, filter.shape, a.dilations);
    const kb = backend as tf.KernelBackend;
    return tf.tidy(() =>
      depthwiseInputGrad(wrapInput(dy, kb), wrapInput(filter, kb), a.inputShape, a.strides, a.pad, a.dimRoundingMode),
    );
  },
};
