// Channel-dependency groups derived from a network's graph (the DepGraph idea of Torch-Pruning):
// channels that must be removed together, with every tensor slice that holds them.
//
// Every channel of every tensor is an element; operations couple elements (union-find):
// BatchNorm, activations, pools and identities tie out[c] to in[c]; a depthwise conv ties its output
// channel to its input channel; add and broadcast-mul tie their inputs' channels; concat ties out[o+c]
// to input[c] at the input's offset; flatten keeps channel c as a block of H·W features. The classes
// of elements are the coupled channels; classes that live in the same tensors form one group.
import { consumersOf, inferShapes, isDepthwise, type Graph, type GraphNode } from '@flowprune/models';

/** The slice of one parameter tensor that a group's channels index. */
export interface GroupSlice {
  /** state_dict name. */
  param: string;
  /** 0: output rows (conv/linear weights, biases, BatchNorm vectors); 1: input columns of a consumer. */
  dim: 0 | 1;
  /** Per group channel: the index along `dim` (the first of `span` consecutive ones). */
  index: number[];
  /** Entries per channel along `dim`: H·W for a linear layer reading a flattened H×W map, else 1. */
  span: number;
}

export interface ChannelGroup {
  id: number;
  /** Number of coupled channels. */
  size: number;
  slices: GroupSlice[];
  /** Conv and linear nodes whose output channels the group holds (more than one: coupled by an add). */
  producers: string[];
  /** BatchNorm prefixes normalising the group's channels (where masks apply). */
  norms: string[];
  /** Per group channel, its index in each tensor holding it (by tensor name). */
  tensors: Map<string, number[]>;
  /** Why the group cannot be pruned, if it cannot: it touches the image input or the logits, or an op
   *  that cannot drop channels (a grouped conv). */
  blocked?: string;
}

export interface DependencyGraph {
  groups: ChannelGroup[];
  /** The group and channel of each tensor channel: tensor → per channel [group id, group channel]. */
  channelOf: Map<string, [number, number][]>;
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(a: number): number {
    while (this.parent[a] !== a) a = this.parent[a] = this.parent[this.parent[a]];
    return a;
  }
  union(a: number, b: number): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** The channel-dependency groups of a graph, in the order their first tensor is produced. */
export function dependencyGroups(graph: Graph): DependencyGraph {
  const shapes = inferShapes(graph);
  // Element ids: one per channel of every tensor (flat tensors: channel = block of `span` features).
  const base = new Map<string, number>();
  const channels = new Map<string, number>();
  const spanOf = new Map<string, number>();
  let total = 0;
  const addTensor = (t: string, c: number, span = 1) => {
    base.set(t, total);
    channels.set(t, c);
    spanOf.set(t, span);
    total += c;
  };
  addTensor(graph.input.name, graph.input.channels);
  for (const n of graph.nodes) {
    const out = shapes.get(n.output)!;
    const x = shapes.get(n.inputs[0])!;
    const inSpan = spanOf.get(n.inputs[0])!;
    // Channel c of a flattened map is the feature block [c·H·W, (c+1)·H·W) (NCHW order).
    if (n.op === 'flatten') addTensor(n.output, x.length === 3 ? x[0] : channels.get(n.inputs[0])!, x.length === 3 ? x[1] * x[2] : inSpan);
    else if (passesSpan(n)) addTensor(n.output, out[0] / inSpan, inSpan);
    else addTensor(n.output, out[0]);
  }
  const uf = new UnionFind(total);
  const el = (t: string, c: number) => base.get(t)! + c;
  const tie = (a: string, b: string, offset = 0) => {
    for (let c = 0; c < channels.get(b)!; c++) uf.union(el(a, offset + c), el(b, c));
  };
  const blocked = new Map<number, string>();
  const block = (t: string, why: string) => {
    for (let c = 0; c < channels.get(t)!; c++) blocked.set(el(t, c), why);
  };
  block(graph.input.name, 'it holds the image input');
  for (const n of graph.nodes) {
    switch (n.op) {
      case 'conv':
        if (isDepthwise(n)) tie(n.output, n.inputs[0]);
        else if (n.groups > 1) {
          block(n.output, `grouped conv ${n.name}`);
          block(n.inputs[0], `grouped conv ${n.name}`);
        }
        break;
      case 'linear':
        break;
      case 'concat': {
        let offset = 0;
        for (const t of n.inputs) {
          tie(n.output, t, offset);
          offset += channels.get(t)!;
        }
        break;
      }
      case 'add':
      case 'mul':
        tie(n.output, n.inputs[0]);
        tie(n.output, n.inputs[1]);
        break;
      default:
        tie(n.output, n.inputs[0]);
    }
  }
  block(graph.output, 'it holds the network output');

  // Classes → groups: classes found in the same tensors (and the same parameter slices) form a group.
  const tensorsOfClass = new Map<number, Map<string, number>>();
  for (const [t, b] of base)
    for (let c = 0; c < channels.get(t)!; c++) {
      const r = uf.find(b + c);
      let m = tensorsOfClass.get(r);
      if (!m) tensorsOfClass.set(r, (m = new Map()));
      m.set(t, c);
    }
  const groupOfKey = new Map<string, ChannelGroup>();
  const groups: ChannelGroup[] = [];
  const channelOf = new Map<string, [number, number][]>();
  for (const [t] of base) channelOf.set(t, []);
  const roots = [...tensorsOfClass.keys()].sort((a, b) => a - b);
  for (const r of roots) {
    const members = tensorsOfClass.get(r)!;
    const key = [...members.keys()].join('|');
    let g = groupOfKey.get(key);
    if (!g) {
      g = { id: groups.length, size: 0, slices: [], producers: [], norms: [], tensors: new Map([...members.keys()].map((t) => [t, []])) };
      groupOfKey.set(key, g);
      groups.push(g);
    }
    for (const [t, c] of members) {
      g.tensors.get(t)!.push(c);
      channelOf.get(t)![c] = [g.id, g.size];
      const why = blocked.get(el(t, c));
      if (why && !g.blocked) g.blocked = why;
    }
    g.size++;
  }
  const consumers = consumersOf(graph);
  for (const g of groups) describeSlices(graph, g, consumers, spanOf);
  return { groups, channelOf };
}

/** Ops whose output keeps the input's feature blocks (a flat tensor through dropout/identity/activations). */
function passesSpan(n: GraphNode): boolean {
  return n.op !== 'conv' && n.op !== 'linear' && n.op !== 'flatten' && n.op !== 'concat';
}

/** The parameter slices of a group: producers' rows, BatchNorm vectors, consumers' columns. */
function describeSlices(graph: Graph, g: ChannelGroup, consumers: Map<string, GraphNode[]>, spanOf: Map<string, number>): void {
  const nodeOf = new Map(graph.nodes.map((n) => [n.output, n]));
  for (const [t, index] of g.tensors) {
    const producer = nodeOf.get(t);
    if (producer?.op === 'conv' || producer?.op === 'linear') {
      g.producers.push(producer.name);
      g.slices.push({ param: producer.weight, dim: 0, index, span: 1 });
      if (producer.bias) g.slices.push({ param: producer.bias, dim: 0, index, span: 1 });
    } else if (producer?.op === 'batchnorm') {
      g.norms.push(producer.prefix);
      const p = producer.params;
      for (const name of [p.weight, p.bias, p.runningMean, p.runningVar]) g.slices.push({ param: name, dim: 0, index, span: 1 });
    }
    for (const c of consumers.get(t) ?? []) {
      if (c.op === 'conv' && c.groups === 1) g.slices.push({ param: c.weight, dim: 1, index, span: 1 });
      else if (c.op === 'linear') {
        const span = spanOf.get(t)!;
        g.slices.push({ param: c.weight, dim: 1, index: index.map((i) => i * span), span });
      }
    }
  }
}
