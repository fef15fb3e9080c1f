import type { Network } from './arch/types.js';

/** Trainable parameters (conv, BN affine, linear), as `sum(p.numel() for p in net.parameters())`. */
export function countParameters(net: Network): number {
  let n = 0;
  for (const p of net.params) {
    if (p.kind === 'bn_running_mean' || p.kind === 'bn_running_var' || p.kind === 'bn_num_batches_tracked') continue;
    n += p.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** Convolution + linear multiply-accumulates for one input image (of the graph's input size). */
export function countMacs(net: Network): number {
  let macs = 0;
  for (const op of net.costOps) {
    if (op.op === 'conv') macs += op.hOut * op.wOut * op.kh * op.kw * (op.cin / op.groups) * op.cout;
    else if (op.op === 'linear') macs += op.inFeatures * op.outFeatures;
  }
  return macs;
}

/**
 * The "FLOPs" the paper prints (ptflops 0.6.2): conv and linear MACs, plus the conv bias (numel of
 * the output), 2·numel per BatchNorm, numel per nn.ReLU module and numel of the input per pooling
 * module. Functional relu/avg-pool
 * calls and ResNet's mask multiply are not counted.
 */
export function countFlops(net: Network): number {
  let flops = countMacs(net);
  for (const op of net.costOps) {
    if (op.op === 'conv' && op.bias) flops += op.cout * op.hOut * op.wOut;
    else if (op.op === 'bn') flops += 2 * op.numel;
    else if (op.op === 'relu') flops += op.numel;
    else if (op.op === 'pool') flops += op.numelIn;
  }
  return flops;
}

/** Bytes of parameters and buffers as a checkpoint stores them (4 per float, 8 per num_batches_tracked). */
function stateBytes(net: Network): number {
  let bytes = 0;
  for (const p of net.params) bytes += p.kind === 'bn_num_batches_tracked' ? 8 : 4 * p.shape.reduce((a, b) => a * b, 1);
  return bytes;
}

/**
 * The compression ratio of docs/pruning-semantics.md §10: bytes(unpruned) / bytes(pruned), the paper's
 * checkpoint file-size ratio.
 */
export function compressionRatio(unpruned: Network, pruned: Network): number {
  return stateBytes(unpruned) / stateBytes(pruned);
}
