// Describes a network as a Graph: one call per layer, tensor names and state_dict names generated
// the PyTorch way (module prefix + ".weight").
// PyTorch's BatchNorm2d default, which the tensor kernels default to as well: one definition.
import { BN_EPS } from '@flowprune/tensor';
import type { ParamSpec } from '../arch/types.js';
import { nodeOutputShape } from './shapes.js';
import type { BatchNormNode, ConvNode, Graph, GraphInput, GraphNode, Padding4, Pair, PoolNode, TensorShape } from './types.js';

export interface ConvOptions {
  kernel: number | Pair;
  stride?: number | Pair;
  /** Symmetric padding per side (number or [ph, pw]) or explicit [top, left, bottom, right]. */
  padding?: number | Pair | Padding4;
  dilation?: number | Pair;
  groups?: number;
  bias?: boolean;
}

export interface PoolOptions {
  kernel: number | Pair;
  stride?: number | Pair;
  padding?: number | Pair | Padding4;
  ceilMode?: boolean;
  functional?: boolean;
}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);
const pad4 = (v: number | Pair | Padding4): Padding4 => {
  if (typeof v === 'number') return [v, v, v, v];
  return v.length === 2 ? [v[0], v[1], v[0], v[1]] : v;
};

/** Collects nodes while an architecture is described; `finish` derives the state_dict entries. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly shapes = new Map<string, TensorShape>();
  private counter = 0;

  constructor(readonly input: GraphInput) {
    this.shapes.set(input.name, [input.channels, input.height, input.width]);
  }

  /** Shape (without the batch) of a tensor produced so far. */
  shapeOf(x: string): TensorShape {
    const s = this.shapes.get(x);
    if (s === undefined) throw new Error(`unknown tensor ${x}`);
    return s;
  }

  /** Channel count of a map (features of a flat tensor). */
  channelsOf(x: string): number {
    return this.shapeOf(x)[0];
  }

  /** Appends a node; its output shape is checked and inferred as it goes (GraphError on misfit). */
  private add(node: GraphNode): string {
    this.shapes.set(node.output, nodeOutputShape(node, node.inputs.map((t) => this.shapeOf(t))));
    this.nodes.push(node);
    return node.output;
  }

  private auto(op: string): string {
    return `${op}_${this.counter++}`;
  }

  /** Conv2d registered as `prefix` (weight `prefix.weight`, bias `prefix.bias`). */
  conv(prefix: string, x: string, outChannels: number, o: ConvOptions): string {
    const node: ConvNode = {
      name: prefix,
      op: 'conv',
      inputs: [x],
      output: prefix,
      inChannels: this.channelsOf(x),
      outChannels,
      kernel: pair(o.kernel),
      stride: pair(o.stride ?? 1),
      padding: pad4(o.padding ?? 0),
      dilation: pair(o.dilation ?? 1),
      groups: o.groups ?? 1,
      weight: `${prefix}.weight`,
      ...(o.bias ? { bias: `${prefix}.bias` } : {}),
    };
    return this.add(node);
  }

  /** BatchNorm2d registered as `prefix`. */
  bn(prefix: string, x: string, eps = BN_EPS): string {
    const c = this.channelsOf(x);
    const node: BatchNormNode = {
      name: prefix,
      op: 'batchnorm',
      inputs: [x],
      output: prefix,
      channels: c,
      prefix,
      eps,
      params: {
        weight: `${prefix}.weight`,
        bias: `${prefix}.bias`,
        runningMean: `${prefix}.running_mean`,
        runningVar: `${prefix}.running_var`,
        numBatchesTracked: `${prefix}.num_batches_tracked`,
      },
    };
    return this.add(node);
  }

  /** ReLU; `functional` for F.relu (not counted by ptflops). */
  relu(x: string, functional = false): string {
    const name = this.auto('relu');
    return this.add({ name, op: 'relu', inputs: [x], output: name, ...(functional ? { functional } : {}) });
  }

  clip(x: string, min: number, max: number, functional = false): string {
    const name = this.auto('clip');
    return this.add({ name, op: 'clip', inputs: [x], output: name, min, max, ...(functional ? { functional } : {}) });
  }

  sigmoid(x: string): string {
    const name = this.auto('sigmoid');
    return this.add({ name, op: 'sigmoid', inputs: [x], output: name });
  }

  mul(a: string, b: string): string {
    const name = this.auto('mul');
    return this.add({ name, op: 'mul', inputs: [a, b], output: name });
  }

  sum(a: string, b: string): string {
    const name = this.auto('add');
    return this.add({ name, op: 'add', inputs: [a, b], output: name });
  }

  concat(xs: string[]): string {
    const name = this.auto('concat');
    return this.add({ name, op: 'concat', axis: 1, inputs: xs, output: name });
  }

  pool(op: 'maxpool' | 'avgpool', x: string, o: PoolOptions): string {
    const name = this.auto(op);
    const node: PoolNode = {
      name,
      op,
      inputs: [x],
      output: name,
      kernel: pair(o.kernel),
      stride: pair(o.stride ?? o.kernel),
      padding: pad4(o.padding ?? 0),
      ceilMode: o.ceilMode ?? false,
      ...(op === 'avgpool' ? { countIncludePad: true } : {}),
      ...(o.functional ? { functional: true } : {}),
    };
    return this.add(node);
  }

  globalAvgPool(x: string, functional = false): string {
    const name = this.auto('globalavgpool');
    return this.add({ name, op: 'globalavgpool', inputs: [x], output: name, ...(functional ? { functional } : {}) });
  }

  flatten(x: string): string {
    const name = this.auto('flatten');
    return this.add({ name, op: 'flatten', inputs: [x], output: name });
  }

  /** nn.Linear registered as `prefix`; always with a bias unless told. */
  linear(prefix: string, x: string, outFeatures: number, bias = true): string {
    return this.add({
      name: prefix,
      op: 'linear',
      inputs: [x],
      output: prefix,
      inFeatures: this.channelsOf(x),
      outFeatures,
      weight: `${prefix}.weight`,
      ...(bias ? { bias: `${prefix}.bias` } : {}),
    });
  }

  identity(x: string, op: 'identity' | 'dropout' = 'identity'): string {
    const name = this.auto(op);
    return this.add({ name, op, inputs: [x], output: name });
  }

  finish(output: string): Graph {
    return { input: { ...this.input }, nodes: [...this.nodes], output, params: graphParams(this.nodes) };
  }
}

/** The state_dict entries of the nodes, in node order (PyTorch's registration order for our builders). */
export function graphParams(nodes: readonly GraphNode[]): ParamSpec[] {
  const params: ParamSpec[] = [];
  for (const n of nodes) {
    if (n.op === 'conv') {
      params.push({ name: n.weight, shape: [n.outChannels, n.inChannels / n.groups, n.kernel[0], n.kernel[1]], kind: 'conv', groups: n.groups });
      if (n.bias) params.push({ name: n.bias, shape: [n.outChannels], kind: 'conv_bias' });
    } else if (n.op === 'batchnorm') {
      params.push(
        { name: n.params.weight, shape: [n.channels], kind: 'bn_weight' },
        { name: n.params.bias, shape: [n.channels], kind: 'bn_bias' },
        { name: n.params.runningMean, shape: [n.channels], kind: 'bn_running_mean' },
        { name: n.params.runningVar, shape: [n.channels], kind: 'bn_running_var' },
      );
      if (n.params.numBatchesTracked) params.push({ name: n.params.numBatchesTracked, shape: [], kind: 'bn_num_batches_tracked' });
    } else if (n.op === 'linear') {
      params.push({ name: n.weight, shape: [n.outFeatures, n.inFeatures], kind: 'linear_weight' });
      if (n.bias) params.push({ name: n.bias, shape: [n.outFeatures], kind: 'linear_bias' });
    }
  }
  return params;
}
