// A graph with new layer widths: what surgery leaves of a network, for any graph.
import { graphParams } from './builder.js';
import { isDepthwise, nodeOutputShape } from './shapes.js';
import type { ConvNode, Graph, GraphNode, LinearNode, TensorShape } from './types.js';

/**
 * The graph with every conv and linear layer producing `widthOf(node)` outputs; input widths,
 * depthwise convs (their channels are their input's) and BatchNorms follow from the inputs.
 * State_dict entries keep the graph's order, with the new shapes.
 */
export function resizeGraph(graph: Graph, widthOf: (node: ConvNode | LinearNode) => number): Graph {
  const shapes = new Map<string, TensorShape>([[graph.input.name, [graph.input.channels, graph.input.height, graph.input.width]]]);
  const nodes = graph.nodes.map((n): GraphNode => {
    const ins = n.inputs.map((t) => shapes.get(t)!);
    let m: GraphNode = n;
    if (n.op === 'conv') {
      const cin = ins[0][0];
      m = isDepthwise(n) ? { ...n, inChannels: cin, outChannels: cin, groups: cin } : { ...n, inChannels: cin, outChannels: widthOf(n) };
    } else if (n.op === 'batchnorm') m = { ...n, channels: ins[0][0] };
    else if (n.op === 'linear') m = { ...n, inFeatures: ins[0][0], outFeatures: widthOf(n) };
    shapes.set(m.output, nodeOutputShape(m, ins));
    return m;
  });
  const resized = new Map(graphParams(nodes).map((p) => [p.name, p]));
  return { ...graph, nodes, params: graph.params.map((p) => resized.get(p.name) ?? p) };
}
