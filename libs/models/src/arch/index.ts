import { deriveFromGraph } from '../graph/network.js';
import { inferShapes } from '../graph/shapes.js';
import type { Graph, GraphInput } from '../graph/types.js';
import { CIFAR_INPUT } from './input.js';
import { MOBILENET_V1_CONFIG, mobilenetV1Graph } from './mobilenet.js';
import { RESNET18, RESNET34, RESNET56, resnetDefaultConfig, resnetGraph, type ResNetFamily } from './resnet.js';
import type { ArchConfig, ArchName, MobileNetConfig, Network, ResNetConfig, VggConfig } from './types.js';
import { ARCH_NAMES, GRAPH_ARCH } from './types.js';
import { VGG13_CONFIG, vggGraph } from './vgg.js';

export class ArchError extends Error {
  readonly kind = 'invalid-argument';
}

export function parseArch(name: string): ArchName {
  if ((ARCH_NAMES as readonly string[]).includes(name)) return name as ArchName;
  throw new ArchError(`unknown architecture "${name}"; choose one of ${ARCH_NAMES.join(', ')}`);
}

/** What an architecture contributes: its unpruned config, its graph, and its config of given widths. */
interface ArchDefinition {
  defaultConfig(): ArchConfig;
  graph(config: ArchConfig, numClasses: number, input: GraphInput): Graph;
  /** The config of the same network with every conv at `widthOf(conv weight name)` output channels. */
  configWithWidths(config: ArchConfig, widthOf: (convWeight: string) => number): ArchConfig;
}

const resnetDefinition = (f: ResNetFamily): ArchDefinition => ({
  defaultConfig: () => resnetDefaultConfig(f),
  graph: (c, n, input) => resnetGraph(f, c as ResNetConfig, n, input),
  configWithWidths: (c, widthOf) => {
    const out: ResNetConfig = { base: widthOf('conv1.weight') };
    f.blocks.forEach((count, s) => {
      out[`l${s + 1}`] = Array.from({ length: 2 * count }, (_, j) => widthOf(`layer${s + 1}.${j >> 1}.conv${(j & 1) + 1}.weight`));
      if (`l${s + 1}s` in (c as ResNetConfig)) out[`l${s + 1}s`] = widthOf(`layer${s + 1}.0.shortcut.0.weight`);
    });
    return out;
  },
});

const ARCHS: Record<ArchName, ArchDefinition> = {
  vgg13: {
    defaultConfig: () => [...VGG13_CONFIG],
    graph: (c, n, input) => vggGraph(c as VggConfig, n, input),
    configWithWidths: (c, widthOf) => {
      let idx = 0;
      return (c as VggConfig).map((v) => {
        if (v === 'M') return (idx++, v);
        const w = widthOf(`features.${idx}.weight`);
        idx += 3;
        return w;
      });
    },
  },
  mobilenet_v1: {
    defaultConfig: () => MOBILENET_V1_CONFIG.map((e) => (Array.isArray(e) ? ([...e] as [number, number]) : e)),
    graph: (c, n, input) => mobilenetV1Graph(c as MobileNetConfig, n, input),
    configWithWidths: (c, widthOf) =>
      (c as MobileNetConfig).map((e, i) => {
        const w = widthOf(i === 0 ? 'conv1.weight' : `layers.${i - 1}.conv2.weight`);
        return Array.isArray(e) ? ([w, e[1]] as [number, number]) : w;
      }),
  },
  resnet56: resnetDefinition(RESNET56),
  resnet18: resnetDefinition(RESNET18),
  resnet34: resnetDefinition(RESNET34),
};

export function defaultConfig(arch: ArchName): ArchConfig {
  return ARCHS[arch].defaultConfig();
}

/** A Network and everything derived from its graph. */
export function networkFromGraph(arch: Network['arch'], numClasses: number, config: ArchConfig, graph: Graph): Network {
  return { arch, numClasses, config, graph, params: graph.params, ...deriveFromGraph(graph) };
}

/** The network for an architecture, class count and (pruned) channel config, on `input` (CIFAR's by default). */
export function buildNetwork(arch: ArchName, numClasses: number, config?: ArchConfig, input: GraphInput = CIFAR_INPUT): Network {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ArchError(`num_classes must be an integer ≥ 2, got ${numClasses}`);
  const cfg = config ?? defaultConfig(arch);
  try {
    return networkFromGraph(arch, numClasses, cfg, ARCHS[arch].graph(cfg, numClasses, input));
  } catch (e) {
    throw new ArchError(`invalid ${arch} channel config: ${(e as Error).message}`);
  }
}

/**
 * A network known only by its graph (an imported model): its class count is the graph's output
 * width; no config (the graph is the whole description). Throws GraphError for an invalid graph.
 */
export function graphNetwork(graph: Graph): Network {
  const out = inferShapes(graph).get(graph.output)!;
  return networkFromGraph(GRAPH_ARCH, out[0], [], graph);
}

/**
 * The unpruned network of `net`'s architecture on its input. A graph-only network is its own: its
 * checkpoint does not carry the graph it was pruned from.
 */
export function unprunedNetwork(net: Network): Network {
  return net.arch === GRAPH_ARCH ? net : buildNetwork(net.arch, net.numClasses, undefined, net.graph.input);
}

/** The config of `net`'s architecture with every conv at the width `widthOf(conv weight)` gives. */
export function configWithWidths(net: Network, widthOf: (convWeight: string) => number): ArchConfig {
  // A graph-only network has no config: its (resized) graph is its whole description.
  if (net.arch === GRAPH_ARCH) return net.config;
  return ARCHS[net.arch].configWithWidths(net.config, widthOf);
}


