// A graph with new parameter shapes (after channels were removed from its weights): every node's
// channel counts read off its own parameters. Built-in architectures rebuild from a config instead;
// imported graphs have no config, their graph is the whole description.
import { graphParams } from './builder.js';
import type { Graph, GraphNode } from './types.js';

export class GraphResizeError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'GraphResizeError';
  }
}

/** `shapeOf(param)` gives the new PyTorch shape of a parameter (state_dict name) — all of them, or those that changed. */
export function resizeGraph(graph: Graph, shapeOf: (param: string) => readonly number[] | undefined): Graph {
  const shape = (node: GraphNode, name: string, rank: number, old: number[]): number[] => {
    const s = shapeOf(name) ?? old;
    if (s.length !== rank || s.some((d) => !Number.isInteger(d) || d < 1)) throw new GraphResizeError(`node ${node.name}: new shape [${s}] of ${name} is not a ${rank}-D shape of positive sizes`);
    return [...s];
  };
  const nodes = graph.nodes.map((n): GraphNode => {
    if (n.op === 'conv') {
      const [out, inPerGroup] = shape(n, n.weight, 4, [n.outChannels, n.inChannels / n.groups, ...n.kernel]);
      // Depthwise convs keep one group per channel; other grouped convs keep their group count.
      const depthwise = n.groups > 1 && n.groups === n.inChannels;
      const groups = depthwise ? (inPerGroup === 1 ? out / (n.outChannels / n.groups) : NaN) : n.groups;
      if (!Number.isInteger(groups) || groups < 1) throw new GraphResizeError(`node ${n.name}: [${out}, ${inPerGroup}] is no longer a depthwise weight`);
      return { ...n, outChannels: out, inChannels: inPerGroup * groups, groups };
    }
    if (n.op === 'batchnorm') return { ...n, channels: shape(n, n.params.weight, 1, [n.channels])[0] };
    if (n.op === 'linear') {
      const [outFeatures, inFeatures] = shape(n, n.weight, 2, [n.outFeatures, n.inFeatures]);
      return { ...n, outFeatures, inFeatures };
    }
    return n;
  });
  return { ...graph, nodes, params: graphParams(nodes) };
}
