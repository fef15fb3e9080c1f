// A flowprune graph (libs/models) as an ONNX model: one ONNX node per graph node, weights as
// initializers under their PyTorch state_dict names, BatchNorm kept as BatchNormalization (VGG's
// BatchNorm follows its ReLU, so it cannot be folded into the conv before it), NCHW input with a
// symbolic batch. Masked channels (pruned ResNets) are folded into their BatchNorm's scale and bias,
// which is what flowprune's own forward does with them (libs/models/src/layers.ts).
import type { Graph, GraphNode, Model, StateDict } from '@flowprune/models';
import {
  attribute,
  floatAttribute,
  floatTensor,
  floatValueInfo,
  GraphProto,
  ModelProto,
  node,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OnnxError,
  type NodeProto,
  type TensorProto,
} from './onnx-file.js';
import { flowpruneMetadata } from './rebuild.js';

export interface OnnxExportOptions {
  /** Per-channel 0/1 masks by BatchNorm prefix, folded into that BatchNorm's scale and bias. */
  masks?: ReadonlyMap<string, Float32Array>;
  /** metadata_props of the file (flowprune writes arch, num_classes and config). */
  metadata?: Record<string, string>;
  /** The graph's name in the file. */
  name?: string;
}

/** The symbolic batch dimension of the input and output. */
const BATCH_DIM = 'batch';

/** The ONNX model of a graph with its weights (PyTorch layout, by state_dict name). */
export function graphToOnnx(graph: Graph, weights: StateDict, opts: OnnxExportOptions = {}): ModelProto {
  const masks = opts.masks ?? new Map<string, Float32Array>();
  const bnPrefixes = new Set(graph.nodes.flatMap((n) => (n.op === 'batchnorm' ? [n.prefix] : [])));
  for (const prefix of masks.keys())
    if (!bnPrefixes.has(prefix)) throw new OnnxError(`mask "${prefix}" names no BatchNorm of the graph; masks are keyed by BatchNorm prefix`);

  const initializers = new Map<string, TensorProto>();
  const weight = (name: string, scale?: Float32Array): string => {
    if (initializers.has(name)) return name;
    const t = weights.get(name);
    if (!t) throw new OnnxError(`weights have no tensor "${name}" (the graph reads it)`);
    if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new OnnxError(`weights: "${name}" must be F32, got ${t.dtype}`);
    let data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
    if (scale) data = data.map((v, i) => v * scale[i]);
    initializers.set(name, floatTensor(name, t.shape, data));
    return name;
  };
  const scalar = (name: string, v: number): string => {
    initializers.set(name, floatTensor(name, [], Float32Array.of(v)));
    return name;
  };

  const toOnnx = (n: GraphNode): NodeProto => {
    const out = [n.output];
    switch (n.op) {
      case 'conv':
        return node('Conv', n.name, [n.inputs[0], weight(n.weight), ...(n.bias ? [weight(n.bias)] : [])], out, [
          attribute('kernel_shape', n.kernel),
          attribute('strides', n.stride),
          attribute('pads', n.padding),
          attribute('dilations', n.dilation),
          attribute('group', n.groups),
        ]);
      case 'batchnorm': {
        const mask = masks.get(n.prefix);
        if (mask && mask.length !== n.channels) throw new OnnxError(`mask "${n.prefix}" has ${mask.length} entries for ${n.channels} channels`);
        const p = n.params;
        return node('BatchNormalization', n.name, [n.inputs[0], weight(p.weight, mask), weight(p.bias, mask), weight(p.runningMean), weight(p.runningVar)], out, [
          floatAttribute('epsilon', n.eps),
        ]);
      }
      case 'relu':
        return node('Relu', n.name, n.inputs, out);
      case 'clip':
        return node('Clip', n.name, [n.inputs[0], scalar(`${n.name}.min`, n.min), scalar(`${n.name}.max`, n.max)], out);
      case 'sigmoid':
        return node('Sigmoid', n.name, n.inputs, out);
      case 'mul':
        return node('Mul', n.name, n.inputs, out);
      case 'add':
        return node(n.inputs.length === 2 ? 'Add' : 'Sum', n.name, n.inputs, out);
      case 'concat':
        return node('Concat', n.name, n.inputs, out, [attribute('axis', n.axis)]);
      case 'maxpool':
      case 'avgpool':
        return node(n.op === 'maxpool' ? 'MaxPool' : 'AveragePool', n.name, n.inputs, out, [
          attribute('kernel_shape', n.kernel),
          attribute('strides', n.stride),
          attribute('pads', n.padding),
          attribute('ceil_mode', n.ceilMode ? 1 : 0),
          ...(n.op === 'avgpool' ? [attribute('count_include_pad', n.countIncludePad === false ? 0 : 1)] : []),
        ]);
      case 'globalavgpool':
        return node('GlobalAveragePool', n.name, n.inputs, out);
      case 'flatten':
        return node('Flatten', n.name, n.inputs, out, [attribute('axis', 1)]);
      case 'linear':
        return node('Gemm', n.name, [n.inputs[0], weight(n.weight), ...(n.bias ? [weight(n.bias)] : [])], out, [attribute('transB', 1)]);
      case 'identity':
      case 'dropout':
        return node('Identity', n.name, n.inputs, out);
    }
  };
  const nodes = graph.nodes.map(toOnnx);

  const tensors = new Set([graph.input.name, ...graph.nodes.map((n) => n.output)]);
  const clash = [...initializers.keys()].find((k) => tensors.has(k));
  if (clash) throw new OnnxError(`"${clash}" names both a weight and a tensor of the graph`);
  const last = graph.nodes.find((n) => n.output === graph.output);
  if (!last) throw new OnnxError(`no node produces the graph's output "${graph.output}"`);
  const { channels, height, width } = graph.input;
  return ModelProto.fromPartial({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'flowprune',
    graph: GraphProto.fromPartial({
      name: opts.name ?? 'flowprune',
      node: nodes,
      initializer: [...initializers.values()],
      input: [floatValueInfo(graph.input.name, [BATCH_DIM, channels, height, width])],
      output: [floatValueInfo(graph.output, last.op === 'linear' ? [BATCH_DIM, last.outFeatures] : undefined)],
    }),
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** A flowprune model as ONNX: its graph, weights, masks and the metadata that rebuilds it (modelFromOnnx). */
export function modelToOnnx(model: Model): ModelProto {
  return graphToOnnx(model.net.graph, model.stateDict(), { masks: model.masks, metadata: flowpruneMetadata(model), name: model.net.arch });
}
