// A network as a graph of typed nodes over named tensors (PyTorch semantics, NCHW shapes; the
// interpreter runs it in tfjs' NHWC). Weights are referred to by their PyTorch state_dict names.
import type { ParamSpec } from '../arch/types.js';

/** [top, left, bottom, right], as PyTorch/ONNX pads (ONNX order is [top, left, bottom, right]). */
export type Padding4 = [number, number, number, number];
export type Pair = [number, number];

/** The image input, NCHW without the batch: channels × height × width. */
export interface GraphInput {
  name: string;
  channels: number;
  height: number;
  width: number;
}

interface NodeBase {
  /** Unique node name (for errors and ONNX node names). */
  name: string;
  /** Names of the tensors it reads (graph input or other nodes' outputs). */
  inputs: string[];
  /** Name of the tensor it produces. */
  output: string;
}

export interface ConvNode extends NodeBase {
  op: 'conv';
  inChannels: number;
  outChannels: number;
  /** [kh, kw] */
  kernel: Pair;
  /** [sh, sw] */
  stride: Pair;
  padding: Padding4;
  /** [dh, dw] */
  dilation: Pair;
  /** Depthwise: groups = inChannels (= outChannels for multiplier 1). */
  groups: number;
  /** state_dict name of the weight, PyTorch layout [out, in/groups, kh, kw]. */
  weight: string;
  /** state_dict name of the bias [out], if any. */
  bias?: string;
}

/** The state_dict names of a BatchNorm's tensors. */
export interface BatchNormParams {
  weight: string;
  bias: string;
  runningMean: string;
  runningVar: string;
  /** PyTorch keeps a counter; ONNX-imported models may have none. */
  numBatchesTracked?: string;
}

export interface BatchNormNode extends NodeBase {
  op: 'batchnorm';
  channels: number;
  /** PyTorch module prefix ("features.2"); masks and batch statistics are keyed by it. */
  prefix: string;
  params: BatchNormParams;
  eps: number;
}

/**
 * ptflops counts nn.ReLU / nn.MaxPool2d modules but not functional calls (F.relu, F.avg_pool2d);
 * `functional: true` marks the latter so FLOP counts stay as the paper printed them.
 */
interface CountedNode extends NodeBase {
  functional?: boolean;
}

export interface ReluNode extends CountedNode {
  op: 'relu';
}

/** clip(x, min, max); ReLU6 is clip(0, 6). */
export interface ClipNode extends CountedNode {
  op: 'clip';
  min: number;
  max: number;
}

export interface SigmoidNode extends NodeBase {
  op: 'sigmoid';
}

/** Elementwise product with broadcasting ([N,C,1,1] × [N,C,H,W]: SE-style channel attention). */
export interface MulNode extends NodeBase {
  op: 'mul';
}

/** Elementwise sum of equally shaped inputs (residual connections). */
export interface AddNode extends NodeBase {
  op: 'add';
}

/** Concatenation along the channel axis (NCHW axis 1), inputs in order. */
export interface ConcatNode extends NodeBase {
  op: 'concat';
  axis: 1;
}

export interface PoolNode extends CountedNode {
  op: 'maxpool' | 'avgpool';
  kernel: Pair;
  stride: Pair;
  padding: Padding4;
  ceilMode: boolean;
  /** avgpool: whether padded zeros count in the divisor (PyTorch default true). */
  countIncludePad?: boolean;
}

/** Mean over the whole spatial map, keeping [N, C, 1, 1]. */
export interface GlobalAvgPoolNode extends CountedNode {
  op: 'globalavgpool';
}

/** [N, C, H, W] → [N, C·H·W] in NCHW order (torch.flatten(x, 1) / x.view(N, -1)). */
export interface FlattenNode extends NodeBase {
  op: 'flatten';
}

export interface LinearNode extends NodeBase {
  op: 'linear';
  inFeatures: number;
  outFeatures: number;
  /** state_dict name of the weight, PyTorch layout [out, in]. */
  weight: string;
  bias?: string;
}

/** Passes its input through (Identity; Dropout at inference). */
export interface IdentityNode extends NodeBase {
  op: 'identity' | 'dropout';
}

export type GraphNode =
  | ConvNode
  | BatchNormNode
  | ReluNode
  | ClipNode
  | SigmoidNode
  | MulNode
  | AddNode
  | ConcatNode
  | PoolNode
  | GlobalAvgPoolNode
  | FlattenNode
  | LinearNode
  | IdentityNode;

export type GraphOp = GraphNode['op'];

/**
 * A network: nodes in topological order (each reads the graph input or earlier outputs), the
 * logits tensor `output` ([N, classes]), and the state_dict entries in registration order.
 */
export interface Graph {
  input: GraphInput;
  nodes: GraphNode[];
  output: string;
  params: ParamSpec[];
}

/** Shape of a tensor without the batch: [C, H, W] for maps, [F] for features. */
export type TensorShape = [number, number, number] | [number];
