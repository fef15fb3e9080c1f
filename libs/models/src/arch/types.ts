import type { tf } from '@flowprune/tensor';
import type { Graph } from '../graph/types.js';

export type ArchName = 'vgg13' | 'mobilenet_v1' | 'resnet56' | 'resnet18' | 'resnet34';
/** The arch of a network known only by its graph (an imported model): rebuilt from the graph in its metadata. */
export const GRAPH_ARCH = 'graph';
export const ARCH_NAMES: readonly ArchName[] = ['vgg13', 'mobilenet_v1', 'resnet56', 'resnet18', 'resnet34'];

/** VGG: widths and 'M' (2x2 max-pool), as the paper's `cfg` lists. */
export type VggConfig = (number | 'M')[];
/**
 * ResNets: `base` (stem width); per stage `lN`, the (conv1, conv2) width pairs of its blocks,
 * flattened; `lNs`, the projection-shortcut width of stages 2.. (the paper's physical config).
 */
export type ResNetConfig = Record<string, number | number[]>;
/** MobileNet-V1: stem width, then 13 pointwise widths; `[w, 2]` marks a stride-2 block. */
export type MobileNetConfig = (number | [number, number])[];
export type ArchConfig = VggConfig | ResNetConfig | MobileNetConfig;

export type ParamKind =
  | 'conv'
  | 'conv_bias'
  | 'linear_weight'
  | 'linear_bias'
  | 'bn_weight'
  | 'bn_bias'
  | 'bn_running_mean'
  | 'bn_running_var'
  | 'bn_num_batches_tracked';

/** One state_dict entry, with its PyTorch shape. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  /** Conv groups (depthwise convs have groups = channels). */
  groups?: number;
}

export const isTrainable = (k: ParamKind): boolean =>
  k === 'conv' || k === 'conv_bias' || k === 'linear_weight' || k === 'linear_bias' || k === 'bn_weight' || k === 'bn_bias';

/** A conv together with the BatchNorm after it: the unit importance is measured and pruned on. */
export interface FilterLayer {
  index: number;
  /** state_dict key of the conv weight, e.g. "features.0.weight". */
  conv: string;
  /** state_dict prefix of the BatchNorm, e.g. "features.2". */
  bn: string;
  outChannels: number;
  inChannels: number;
  groups: number;
  kernel: number;
  stride: number;
  fanIn: number;
}

/** Module-level operations, with shapes, for parameter and FLOP counting (ptflops conventions). */
export type CostOp =
  | { op: 'conv'; cin: number; cout: number; kh: number; kw: number; groups: number; hOut: number; wOut: number; bias: boolean }
  | { op: 'bn'; numel: number }
  /** nn.ReLU / nn.ReLU6 modules. */
  | { op: 'relu'; numel: number }
  /** nn.MaxPool2d / nn.AvgPool2d modules. */
  | { op: 'pool'; numelIn: number }
  | { op: 'linear'; inFeatures: number; outFeatures: number };

export interface ForwardContext {
  training: boolean;
  /** Train mode: batch mean and (biased) variance of every BatchNorm, by prefix, for the running-stat update. */
  bnStats?: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;
  /** Per-channel 0/1 masks multiplying BatchNorm outputs, by BN prefix (ResNet's masked channels). */
  masks?: Map<string, tf.Tensor1D>;
}

/** Reads a parameter in tfjs layout (conv HWIO, depthwise HWC1, linear [in, out]). */
export type ParamReader = (name: string) => tf.Tensor;

/** A network: its graph, and what callers read off it (all derived from the graph). */
export interface Network {
  arch: ArchName | typeof GRAPH_ARCH;
  numClasses: number;
  config: ArchConfig;
  graph: Graph;
  /** state_dict entries in PyTorch registration order. */
  params: ParamSpec[];
  filterLayers: FilterLayer[];
  costOps: CostOp[];
  /** NHWC float input (normalised to [-1, 1]) → logits [N, classes]. */
  forward(p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
}
