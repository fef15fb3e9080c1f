// Gradients of the gradient kernels, so that tf.grad can differentiate through a backward pass
// (Hessian-vector products: GraSP / grad_preserve). tfjs-core registers second-order rules for
// Conv2DBackpropInput but not for the kernels below, and a nested tf.grad through any of them
// fails with "gradient function not found". All are linear in their upstream-gradient input, so
// their own gradients are the adjoint linear maps; every rule here is checked in
// second-order-gradients.test.ts against a finite difference of first-order gradients.
//
// Registered on import (backend independent). They only run while an outer gradient tape is
// recording a backward pass, so first-order training is unaffected.
import * as tf from '@tensorflow/tfjs-core';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
const engine = () => tf.engine();

/** Conv2DBackpropFilter(x, dy) → dW. Bilinear in (x, dy): d/dx is a transposed conv of dy by ddW, d/ddy a conv of x by ddW. */
const conv2DBackpropFilterGrad: tf.GradConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const w = ddw as tf.Tensor4D;
    return {
      x: () =>
        engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, {
          strides: a.strides,
          pad: a.pad,
          dataFormat: a.dataFormat,
          dimRoundingMode: a.dimRoundingMode,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      dy: () => tf.conv2d(x, w, a.strides, a.pad as Exclude<Pad, number>, a.dataFormat, 1, a.dimRoundingMode as Rounding),
    };
  },
};

/** DepthwiseConv2dNativeBackpropFilter(x, dy) → dW, the depthwise analogue of the rule above. */
const depthwiseBackpropFilterGrad: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    const w = ddw as tf.Tensor4D;
    return {
      x: () =>
        engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter: w }, {
          strides: a.strides,
          pad: a.pad,
          dilations: a.dilations,
          dimRoundingMode: a.dimRoundingMode,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      dy: () => tf.depthwiseConv2d(x, w, a.strides, a.pad as Exclude<Pad, number>, 'NHWC', a.dilations, a.dimRoundingMode as Rounding),
    };
  },
};

/** DepthwiseConv2dNativeBackpropInput(dy, filter) → dx: d/ddy is the forward depthwise conv, d/dfilter the filter gradient. */
const depthwiseBackpropInputGrad: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    const d = ddx as tf.Tensor4D;
    return {
      dy: () => tf.depthwiseConv2d(d, filter, a.strides, a.pad as Exclude<Pad, number>, 'NHWC', a.dilations, a.dimRoundingMode as Rounding),
      filter: () =>
        engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: d, dy }, {
          strides: a.strides,
          pad: a.pad,
          dilations: a.dilations,
          dimRoundingMode: a.dimRoundingMode,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  },
};

const samePair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/**
 * MaxPoolGrad(dy, x, y) routes each dy to its window's argmax, a selection matrix Pᵀ. Its adjoint P
 * picks ddx at the argmax of every window. For non-overlapping windows (stride = size, 'valid', the
 * only pooling of the paper's nets) P·ddx = sumPool(mask ⊙ ddx), where mask = MaxPoolGrad(1, x, y)
 * marks exactly the positions the kernel itself chose, ties included. x and y only select, so their
 * gradients are zero almost everywhere.
 */
const maxPoolGradGrad: tf.GradConfig = {
  kernelName: tf.MaxPoolGrad,
  inputsToSave: ['dy', 'input', 'output'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, input, output] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.MaxPoolGradAttrs;
    const [fh, fw] = samePair(a.filterSize);
    const [sh, sw] = samePair(a.strides);
    if (fh !== sh || fw !== sw || a.pad !== 'valid')
      throw new Error(`second-order MaxPoolGrad supports non-overlapping 'valid' pooling only (filter ${fh}x${fw}, stride ${sh}x${sw}, pad ${String(a.pad)})`);
    return {
      dy: () => {
        const mask = engine().runKernel(tf.MaxPoolGrad, { dy: tf.onesLike(dy), input, output }, attrs) as tf.Tensor4D;
        return tf.mul(tf.avgPool(tf.mul<tf.Tensor4D>(mask, ddx as tf.Tensor4D), [fh, fw], [sh, sw], 'valid'), fh * fw);
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};

/** AvgPoolGrad(dy, x) = Pᵀdy with P the average pool: its adjoint is the average pool itself. */
const avgPoolGradGrad: tf.GradConfig = {
  kernelName: tf.AvgPoolGrad,
  inputsToSave: ['input'],
  gradFunc: (ddx, saved, attrs) => {
    const [input] = saved as [tf.Tensor4D];
    const a = attrs as unknown as tf.AvgPoolGradAttrs;
    return {
      dy: () => tf.avgPool(ddx as tf.Tensor4D, a.filterSize, a.strides, a.pad as Exclude<Pad, number>),
      input: () => tf.zerosLike(input),
    };
  },
};

/**
 * Comparisons are piecewise constant: zero gradient. First-order rules use them as masks (e.g. the
 * Max gradient inside logSumExp compares x with the max; Clip's, as in ReLU6, ANDs two of them), so
 * a backward pass taped for a second one contains them.
 */
const comparisonGrads: tf.GradConfig[] = [tf.Equal, tf.NotEqual, tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual, tf.LogicalAnd].map((kernelName) => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, saved) => {
    const [a, b] = saved;
    return { a: () => tf.zerosLike(a).toFloat(), b: () => tf.zerosLike(b).toFloat() };
  },
}));

/**
 * tfjs-core's Exp rule multiplies by the saved *output*. A saved output is a clone taped before the
 * op that produced it, so the tape filter of an outer gradient drops it and the second-order term
 * through it silently vanishes (measured: the Hessian of log-sum-exp came out wrong by ~100 %).
 * This rule saves the input and recomputes exp(x) instead: same first-order value, one more exp
 * over the logits per backward pass. It replaces core's rule (the others keep theirs; the softmax
 * family, Sigmoid, Tanh and Elu have the same flaw but flowprune's networks and loss do not use them).
 */
const expGrad: tf.GradConfig = {
  kernelName: tf.Exp,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) };
  },
};

const CONFIGS = [conv2DBackpropFilterGrad, depthwiseBackpropFilterGrad, depthwiseBackpropInputGrad, maxPoolGradGrad, avgPoolGradGrad, ...comparisonGrads];

export const SECOND_ORDER_GRADIENTS: readonly string[] = [...CONFIGS, expGrad].map((c) => c.kernelName);

for (const config of CONFIGS) {
  // tfjs-core may gain its own rule in a later version: keep it then.
  if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}
tf.registerGradient(expGrad);
