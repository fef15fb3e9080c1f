// The profile suite compares flowprune's kernels with PyTorch's operators by category: both
// frameworks' names of the same work must land in the same category.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { categoryOf } from './bench-profile.js';

const SAME_WORK: [string, string[]][] = [
  ['conv forward', ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'aten::mkldnn_convolution', 'aten::_slow_conv2d_forward', 'aten::thnn_conv2d']],
  ['conv backward', ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'aten::convolution_backward', 'aten::mkldnn_convolution_backward_weights']],
  ['batchnorm', ['FlowpruneBatchNormTrain', 'FlowpruneBatchNormTrainGrad', 'FusedBatchNorm', 'aten::native_batch_norm', 'aten::native_batch_norm_backward']],
  ['pooling', ['MaxPool', 'MaxPoolGrad', 'AvgPool', 'aten::max_pool2d_with_indices', 'aten::adaptive_avg_pool2d']],
  ['classifier', ['BatchMatMul', 'aten::mm', 'aten::addmm']],
  ['elementwise & rest', ['Add', 'Multiply', 'Relu', 'Identity', 'aten::add', 'aten::threshold_backward', 'aten::clamp_min', 'aten::add_', 'aten::mul_', 'Optimizer.step#SGD.step']],
];

for (const [category, names] of SAME_WORK) {
  test(`${category}: ${names.length} tfjs kernel and PyTorch operator names`, () => {
    for (const name of names) assert.equal(categoryOf(name), category, name);
  });
}
