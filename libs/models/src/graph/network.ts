// A Network (state_dict entries, filter layers, cost ops, forward) derived from its graph.
import type { CostOp, FilterLayer } from '../arch/types.js';
import { compileForward, type GraphForward } from './interpreter.js';
import { consumersOf, inferShapes } from './shapes.js';
import type { BatchNormNode, ConvNode, Graph, GraphNode, TensorShape } from './types.js';

/** Ops a conv's output may pass through on its way to its BatchNorm (VGG: conv → ReLU → BN). */
const PASS_THROUGH = new Set<GraphNode['op']>(['relu', 'clip', 'identity', 'dropout']);

/**
 * The BatchNorm that normalises a conv's output: reached from the conv through single-consumer
 * activations, or none.
 */
export function batchNormAfter(conv: ConvNode, consumers: Map<string, GraphNode[]>): BatchNormNode | undefined {
  let t = conv.output;
  for (;;) {
    const c = consumers.get(t);
    if (c?.length !== 1) return undefined;
    if (c[0].op === 'batchnorm') return c[0];
    if (!PASS_THROUGH.has(c[0].op)) return undefined;
    t = c[0].output;
  }
}

/** Filter layers: every conv followed by a BatchNorm, in node order (the order importance comes in). */
export function filterLayersOf(graph: Graph): FilterLayer[] {
  const consumers = consumersOf(graph);
  const layers: FilterLayer[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'conv') continue;
    const bn = batchNormAfter(node, consumers);
    if (!bn) continue;
    layers.push({
      index: layers.length,
      conv: node.weight,
      bn: bn.prefix,
      outChannels: node.outChannels,
      inChannels: node.inChannels,
      groups: node.groups,
      kernel: node.kernel[0],
      stride: node.stride[0],
      fanIn: (node.inChannels / node.groups) * node.kernel[0] * node.kernel[1],
    });
  }
  return layers;
}

const numel = (s: TensorShape) => s.reduce((a, b) => a * b, 1);

/** Module-level cost ops with their shapes, by ptflops' conventions (functional calls uncounted). */
export function costOpsOf(graph: Graph, shapes: Map<string, TensorShape> = inferShapes(graph)): CostOp[] {
  const ops: CostOp[] = [];
  for (const n of graph.nodes) {
    const out = shapes.get(n.output)!;
    const counted = !('functional' in n && n.functional);
    if (n.op === 'conv')
      ops.push({ op: 'conv', cin: n.inChannels, cout: n.outChannels, kh: n.kernel[0], kw: n.kernel[1], groups: n.groups, hOut: out[1]!, wOut: out[2]!, bias: !!n.bias });
    else if (n.op === 'batchnorm') ops.push({ op: 'bn', numel: numel(out) });
    else if ((n.op === 'relu' || n.op === 'clip') && counted) ops.push({ op: 'relu', numel: numel(out) });
    else if ((n.op === 'maxpool' || n.op === 'avgpool' || n.op === 'globalavgpool') && counted)
      ops.push({ op: 'pool', numelIn: numel(shapes.get(n.inputs[0])!) });
    else if (n.op === 'linear') ops.push({ op: 'linear', inFeatures: n.inFeatures, outFeatures: n.outFeatures });
  }
  return ops;
}

export interface GraphDerived {
  filterLayers: FilterLayer[];
  costOps: CostOp[];
  forward: GraphForward;
}

/** Everything a Network derives from its graph (checks the graph; throws GraphError). */
export function deriveFromGraph(graph: Graph): GraphDerived {
  const shapes = inferShapes(graph);
  return { filterLayers: filterLayersOf(graph), costOps: costOpsOf(graph, shapes), forward: compileForward(graph) };
}
