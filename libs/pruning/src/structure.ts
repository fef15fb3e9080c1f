// What the pruning rules need to know about a network, read off its graph and dependency groups.
import { consumersOf, isDepthwise, type ConvNode, type Network } from '@flowprune/models';
import { dependencyGroups, type ChannelGroup, type DependencyGraph } from './dependency.js';

/** A filter layer's place in the dependency structure. */
export interface LayerRole {
  /** The group holding the layer's output channels, and the group channel of each output channel. */
  group: ChannelGroup;
  channels: number[];
  conv: ConvNode;
  /** Depthwise: its channels are its input's; `source` is the filter layer producing them, if any. */
  depthwise: boolean;
  source?: number;
  /** Its BatchNorm output is added to another tensor directly (a residual branch output or projection). */
  feedsAdd: boolean;
}

export interface PruningStructure {
  deps: DependencyGraph;
  layers: LayerRole[];
  /** Groups whose channels several non-depthwise convs produce, coupled by adds (a residual stream). */
  residualGroups: Set<ChannelGroup>;
}

const cache = new WeakMap<Network, PruningStructure>();

/** The dependency groups of a network and the role of each filter layer in them (cached per network). */
export function pruningStructure(net: Network): PruningStructure {
  const hit = cache.get(net);
  if (hit) return hit;
  const deps = dependencyGroups(net.graph);
  const consumers = consumersOf(net.graph);
  const convByWeight = new Map(net.graph.nodes.flatMap((n) => (n.op === 'conv' ? [[n.weight, n] as const] : [])));
  const layerOfConv = new Map(net.filterLayers.map((l, i) => [convByWeight.get(l.conv)!.name, i]));
  const bnByPrefix = new Map(net.graph.nodes.flatMap((n) => (n.op === 'batchnorm' ? [[n.prefix, n] as const] : [])));
  const nodeByName = new Map(net.graph.nodes.map((n) => [n.name, n]));
  const nonDepthwiseProducers = (g: ChannelGroup) =>
    g.producers.filter((p) => {
      const n = nodeByName.get(p)!;
      return !(n.op === 'conv' && isDepthwise(n));
    });
  const residualGroups = new Set(deps.groups.filter((g) => nonDepthwiseProducers(g).length > 1));
  const layers = net.filterLayers.map((l): LayerRole => {
    const conv = convByWeight.get(l.conv)!;
    const [gid] = deps.channelOf.get(conv.output)![0];
    const group = deps.groups[gid];
    const channels = deps.channelOf.get(conv.output)!.map(([, c]) => c);
    const depthwise = isDepthwise(conv);
    const sourceConv = depthwise ? nonDepthwiseProducers(group)[0] : undefined;
    const source = sourceConv !== undefined ? layerOfConv.get(sourceConv) : undefined;
    const bnOut = bnByPrefix.get(l.bn)!.output;
    const feedsAdd = (consumers.get(bnOut) ?? []).some((c) => c.op === 'add');
    return { group, channels, conv, depthwise, ...(source !== undefined ? { source } : {}), feedsAdd };
  });
  const s = { deps, layers, residualGroups };
  cache.set(net, s);
  return s;
}
