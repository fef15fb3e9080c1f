// Shape inference (PyTorch's output-size rules) and the structural checks every graph passes.
import type { ConvNode, Graph, GraphNode, TensorShape } from './types.js';

export class GraphError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

const fail = (node: GraphNode, msg: string): never => {
  throw new GraphError(`node ${node.name} (${node.op}): ${msg}`);
};

/** A depthwise conv: groups = in channels = out channels, each channel filtered on its own. */
export const isDepthwise = (n: ConvNode): boolean => n.groups > 1 && n.groups === n.inChannels && n.outChannels === n.inChannels;

const isMap = (s: TensorShape): s is [number, number, number] => s.length === 3;

/** floor((n + padBefore + padAfter − dilation·(k − 1) − 1) / stride) + 1, PyTorch's conv size. */
function convSize(n: number, k: number, s: number, p0: number, p1: number, d: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

/** PyTorch's pooling size; with ceil_mode the last window must start inside the (left-padded) input. */
function poolSize(n: number, k: number, s: number, p0: number, p1: number, ceil: boolean): number {
  const span = n + p0 + p1 - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + p0) out -= 1;
  return out;
}

/** The output shape of one node, given its inputs' shapes. */
export function nodeOutputShape(node: GraphNode, inputs: TensorShape[]): TensorShape {
  const arity = node.op === 'add' || node.op === 'mul' ? 2 : node.op === 'concat' ? -1 : 1;
  if (arity > 0 && inputs.length !== arity) fail(node, `needs ${arity} input(s), got ${inputs.length}`);
  if (arity < 0 && inputs.length < 1) fail(node, 'needs at least one input');
  const x = inputs[0];
  const map = (s: TensorShape): [number, number, number] => (isMap(s) ? s : fail(node, `needs a [C, H, W] map, got [${s}]`));
  switch (node.op) {
    case 'conv': {
      const [c, h, w] = map(x);
      if (c !== node.inChannels) fail(node, `expects ${node.inChannels} input channels, got ${c}`);
      if (node.inChannels % node.groups !== 0 || node.outChannels % node.groups !== 0)
        fail(node, `groups ${node.groups} must divide in (${node.inChannels}) and out (${node.outChannels}) channels`);
      const [pt, pl, pb, pr] = node.padding;
      const out: TensorShape = [
        node.outChannels,
        convSize(h, node.kernel[0], node.stride[0], pt, pb, node.dilation[0]),
        convSize(w, node.kernel[1], node.stride[1], pl, pr, node.dilation[1]),
      ];
      if (out[1] < 1 || out[2] < 1) fail(node, `a ${h}x${w} input leaves no output`);
      return out;
    }
    case 'batchnorm': {
      const [c] = map(x);
      if (c !== node.channels) fail(node, `has ${node.channels} channels, its input ${c}`);
      return x;
    }
    case 'relu':
    case 'clip':
    case 'sigmoid':
    case 'identity':
    case 'dropout':
      return x;
    case 'add': {
      if (x.join() !== inputs[1].join()) fail(node, `inputs differ in shape: [${x}] and [${inputs[1]}]`);
      return x;
    }
    case 'mul': {
      const [a, b] = [map(x), map(inputs[1])];
      const fits = (p: number, q: number) => p === q || q === 1;
      if (a[0] !== b[0] || !fits(a[1], b[1]) || !fits(a[2], b[2])) fail(node, `cannot broadcast [${b}] onto [${a}]`);
      return a;
    }
    case 'concat': {
      const maps = inputs.map(map);
      if (maps.some((s) => s[1] !== maps[0][1] || s[2] !== maps[0][2])) fail(node, `inputs differ in spatial size: ${maps.map((s) => `[${s}]`).join(' ')}`);
      return [maps.reduce((a, s) => a + s[0], 0), maps[0][1], maps[0][2]];
    }
    case 'maxpool':
    case 'avgpool': {
      const [c, h, w] = map(x);
      const [pt, pl, pb, pr] = node.padding;
      const out: TensorShape = [
        c,
        poolSize(h, node.kernel[0], node.stride[0], pt, pb, node.ceilMode),
        poolSize(w, node.kernel[1], node.stride[1], pl, pr, node.ceilMode),
      ];
      if (out[1] < 1 || out[2] < 1) fail(node, `a ${h}x${w} input leaves no output`);
      return out;
    }
    case 'globalavgpool':
      return [map(x)[0], 1, 1];
    case 'flatten':
      return [x.reduce((a, b) => a * b, 1)];
    case 'linear': {
      if (x.length !== 1) fail(node, `needs a flat [features] input, got [${x}] (flatten first)`);
      if (x[0] !== node.inFeatures) fail(node, `expects ${node.inFeatures} features, got ${x[0]}`);
      return [node.outFeatures];
    }
  }
}

/** Every tensor's shape (without the batch), checking names, order and sizes; throws GraphError. */
export function inferShapes(graph: Graph): Map<string, TensorShape> {
  const { input } = graph;
  const shapes = new Map<string, TensorShape>([[input.name, [input.channels, input.height, input.width]]]);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((t) => shapes.get(t) ?? fail(node, `reads ${t}, which no earlier node produces`));
    if (shapes.has(node.output)) fail(node, `output ${node.output} is produced twice`);
    shapes.set(node.output, nodeOutputShape(node, ins));
  }
  const out = shapes.get(graph.output);
  if (!out) throw new GraphError(`graph output ${graph.output} is not produced by any node`);
  if (out.length !== 1) throw new GraphError(`graph output ${graph.output} must be [classes] logits, got [${out}]`);
  return shapes;
}

/** Nodes reading each tensor, in node order. */
export function consumersOf(graph: Graph): Map<string, GraphNode[]> {
  const consumers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes)
    for (const t of node.inputs) {
      const list = consumers.get(t) ?? [];
      if (!list.includes(node)) list.push(node);
      consumers.set(t, list);
    }
  return consumers;
}

/** The node producing each tensor. */
export function producersOf(graph: Graph): Map<string, GraphNode> {
  return new Map(graph.nodes.map((n) => [n.output, n]));
}
