// A graph as a program for libs/tensor's fused eval executor: each convolution takes along the
// chain that follows it (BatchNorm, residual add, ReLU/clip, a BatchNorm after the activation),
// pools and the classifier map one to one, flatten and identity are aliases. Graphs with anything
// else (concat, sigmoid, a lone BatchNorm, ...) have no program and keep the op-by-op interpreter.
import type { InferenceActivation, InferenceBatchNorm, InferenceOp, InferenceProgram, InferenceTensor, tf } from '@flowprune/tensor';
import type { ParamReader } from '../arch/types.js';
import { consumersOf, inferShapes } from './shapes.js';
import type { BatchNormNode, Graph, GraphNode } from './types.js';

/** Why a graph has no fused program, or the program. */
export type ProgramResult = { program: InferenceProgram } | { unsupported: string };

export function inferenceProgram(graph: Graph, p: ParamReader, masks?: ReadonlyMap<string, tf.Tensor1D>): ProgramResult {
  const shapes = inferShapes(graph);
  const consumers = consumersOf(graph);
  const tensors: InferenceTensor[] = [];
  const ids = new Map<string, number>();
  const define = (name: string): number => {
    const s = shapes.get(name)!;
    tensors.push(s.length === 3 ? { rank: 4, channels: s[0], height: s[1], width: s[2] } : { rank: 2, channels: s[0] });
    ids.set(name, tensors.length - 1);
    return tensors.length - 1;
  };
  define(graph.input.name);
  const soleConsumer = (t: string): GraphNode | undefined => {
    const c = consumers.get(t);
    return c?.length === 1 && graph.output !== t ? c[0] : undefined;
  };
  const bnOf = (n: BatchNormNode): InferenceBatchNorm => ({
    mean: p(n.params.runningMean),
    variance: p(n.params.runningVar),
    gamma: p(n.params.weight),
    beta: p(n.params.bias),
    ...(masks?.get(n.prefix) ? { mask: masks.get(n.prefix)! } : {}),
    eps: n.eps,
  });
  const activationOf = (n: GraphNode | undefined): InferenceActivation | undefined =>
    n?.op === 'relu' ? { min: 0, max: Infinity } : n?.op === 'clip' ? { min: n.min, max: n.max } : undefined;

  // Which nodes each conv (and linear) chain absorbs, decided in node order; an op is emitted at
  // the position of its chain's last node, where every tensor it reads exists.
  const absorbed = new Set<GraphNode>();
  const emitAt = new Map<GraphNode, () => InferenceOp>();
  for (const node of graph.nodes) {
    if (node.op === 'conv') {
      let last: GraphNode = node;
      let bn: BatchNormNode | undefined;
      let residual: string | undefined;
      let activation: InferenceActivation | undefined;
      let post: BatchNormNode | undefined;
      for (let next = soleConsumer(last.output); next && !absorbed.has(next); next = soleConsumer(last.output)) {
        if (next.op === 'batchnorm' && !bn && !residual && !activation) bn = next;
        else if (next.op === 'add' && !residual && !activation && next.inputs[0] !== next.inputs[1]) residual = next.inputs.find((t) => t !== last.output);
        else if ((next.op === 'relu' || next.op === 'clip') && !activation) activation = activationOf(next);
        else if (next.op === 'batchnorm' && activation && !post) post = next;
        else break;
        absorbed.add(next);
        last = next;
      }
      const conv = node;
      const output = last.output;
      emitAt.set(last, () => ({
        kind: 'conv',
        input: ids.get(conv.inputs[0])!,
        output: define(output),
        ...(residual ? { residual: ids.get(residual)! } : {}),
        inChannels: conv.inChannels,
        outChannels: conv.outChannels,
        kernel: conv.kernel,
        stride: conv.stride,
        dilation: conv.dilation,
        padding: conv.padding,
        groups: conv.groups,
        weight: p(conv.weight),
        ...(conv.bias ? { bias: p(conv.bias) } : {}),
        ...(bn ? { batchNorm: bnOf(bn) } : {}),
        ...(activation ? { activation } : {}),
        ...(post ? { postBatchNorm: bnOf(post) } : {}),
      }));
    } else if (node.op === 'linear') {
      const next = soleConsumer(node.output);
      const activation = next && !absorbed.has(next) ? activationOf(next) : undefined;
      if (activation) absorbed.add(next!);
      const lin = node;
      emitAt.set(activation ? next! : node, () => ({
        kind: 'linear',
        input: ids.get(lin.inputs[0])!,
        output: define(activation ? next!.output : lin.output),
        inFeatures: lin.inFeatures,
        outFeatures: lin.outFeatures,
        weight: p(lin.weight),
        ...(lin.bias ? { bias: p(lin.bias) } : {}),
        ...(activation ? { activation } : {}),
      }));
    }
  }

  const ops: InferenceOp[] = [];
  for (const node of graph.nodes) {
    const emit = emitAt.get(node);
    if (emit) {
      ops.push(emit());
      continue;
    }
    if (absorbed.has(node) || node.op === 'conv' || node.op === 'linear') continue;
    const x = node.inputs[0]!;
    switch (node.op) {
      case 'identity':
      case 'dropout':
        ids.set(node.output, ids.get(x)!);
        break;
      case 'flatten': {
        // A flatten feeds the classifier directly: the inner product reads the map in NCHW order.
        if ((consumers.get(node.output) ?? []).some((c) => c.op !== 'linear') || graph.output === node.output)
          return { unsupported: `${node.name}: flatten not followed by linear` };
        ids.set(node.output, ids.get(x)!);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [, h, w] = shapes.get(x) as [number, number, number];
        const [, oh, ow] = shapes.get(node.output) as [number, number, number];
        const [kh, kw] = node.kernel;
        const [sh, sw] = node.stride;
        const [t, l, b, r] = node.padding;
        // ceil_mode as extra bottom/right padding, as layers.pool does for the op-by-op path.
        const extraB = Math.max(0, (oh - 1) * sh + kh - (h + t + b));
        const extraR = Math.max(0, (ow - 1) * sw + kw - (w + l + r));
        if (node.op === 'avgpool' && (extraB > 0 || extraR > 0)) return { unsupported: `${node.name}: ceil_mode average pooling` };
        const padded = t + l + b + r > 0;
        if (node.op === 'avgpool' && padded && node.countIncludePad === false) return { unsupported: `${node.name}: count_include_pad=False` };
        ops.push({
          kind: 'pool',
          input: ids.get(x)!,
          output: define(node.output),
          mode: node.op === 'maxpool' ? 'max' : 'avg',
          kernel: node.kernel,
          stride: node.stride,
          padding: [t, l, b + extraB, r + extraR],
        });
        break;
      }
      case 'globalavgpool': {
        const [, h, w] = shapes.get(x) as [number, number, number];
        ops.push({ kind: 'pool', input: ids.get(x)!, output: define(node.output), mode: 'avg', kernel: [h, w], stride: [h, w], padding: [0, 0, 0, 0] });
        break;
      }
      default:
        return { unsupported: `${node.name}: ${node.op} outside a convolution chain` };
    }
  }
  const output = ids.get(graph.output);
  if (output === undefined || tensors[output]?.rank !== 2) return { unsupported: 'the logits are not produced by a linear layer' };
  return { program: { tensors, output, ops } };
}
