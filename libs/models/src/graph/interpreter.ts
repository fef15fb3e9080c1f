// The forward pass of a graph on tfjs. Conv → BatchNorm → (add) → ReLU chains become one call of the
// fused BatchNorm (libs/tensor), so native kernels and the float64 decision scopes see the same ops
// as a hand-written forward.
import { tf } from '@flowprune/tensor';
import type { ForwardContext, ParamReader } from '../arch/types.js';
import { batchNorm, conv, linear, pool } from '../layers.js';
import { consumersOf, inferShapes, producersOf } from './shapes.js';
import type { BatchNormNode, Graph, GraphNode } from './types.js';

/** A BatchNorm with what follows it folded in: a residual input and/or a ReLU. */
interface FusedBatchNorm {
  bn: BatchNormNode;
  residual?: string;
  relu: boolean;
  output: string;
}

type Step = { node: GraphNode } | { fused: FusedBatchNorm };

/** The execution order: graph nodes, with BatchNorm chains fused at the position of their last node. */
function executionSteps(graph: Graph): Step[] {
  const consumers = consumersOf(graph);
  const producers = producersOf(graph);
  const soleConsumer = (t: string): GraphNode | undefined => {
    const c = consumers.get(t);
    return c?.length === 1 && graph.output !== t ? c[0] : undefined;
  };
  const skipped = new Set<GraphNode>();
  const fusedAt = new Map<GraphNode, FusedBatchNorm>();
  const fuse = (bn: BatchNormNode, residual: string | undefined, through: GraphNode): void => {
    const next = soleConsumer(through.output);
    const relu = next?.op === 'relu';
    const last = relu ? next : through;
    skipped.add(bn);
    if (through !== bn) skipped.add(through);
    fusedAt.set(last, { bn, residual, relu, output: last.output });
  };
  for (const node of graph.nodes) {
    if (node.op !== 'add' || node.inputs[0] === node.inputs[1]) continue;
    // bn(x) + residual: the first input that is a BatchNorm read only by this add carries the add.
    const i = node.inputs.findIndex((t) => producers.get(t)?.op === 'batchnorm' && soleConsumer(t) === node);
    if (i >= 0) fuse(producers.get(node.inputs[i]) as BatchNormNode, node.inputs[1 - i], node);
  }
  for (const node of graph.nodes)
    if (node.op === 'batchnorm' && !skipped.has(node) && soleConsumer(node.output)?.op === 'relu') fuse(node, undefined, node);
  const steps: Step[] = [];
  for (const node of graph.nodes) {
    const f = fusedAt.get(node);
    if (f) steps.push({ fused: f });
    else if (!skipped.has(node)) steps.push({ node });
  }
  return steps;
}

export type GraphForward = (p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor2D;

/** NHWC input → logits; tensors live in tfjs' NHWC layout, flatten reorders to PyTorch's NCHW. */
export function compileForward(graph: Graph): GraphForward {
  const shapes = inferShapes(graph);
  const steps = executionSteps(graph);
  return (p, x, ctx) => {
    const values = new Map<string, tf.Tensor>([[graph.input.name, x]]);
    const get = (t: string) => values.get(t)!;
    const map = (t: string) => get(t) as tf.Tensor4D;
    for (const step of steps) {
      if ('fused' in step) {
        const { bn, residual, relu, output } = step.fused;
        const post = { ...(residual ? { residual: map(residual) } : {}), ...(relu ? { relu } : {}) };
        values.set(output, batchNorm(map(bn.inputs[0]), bn, p, ctx, post));
        continue;
      }
      const n = step.node;
      values.set(n.output, run(n));
    }
    return get(graph.output) as tf.Tensor2D;

    function run(n: GraphNode): tf.Tensor {
      const x0 = get(n.inputs[0]);
      switch (n.op) {
        case 'conv':
          return conv(x0 as tf.Tensor4D, n, p);
        case 'batchnorm':
          return batchNorm(x0 as tf.Tensor4D, n, p, ctx);
        case 'relu':
          return tf.relu(x0);
        case 'clip':
          return tf.clipByValue(x0, n.min, n.max);
        case 'sigmoid':
          return tf.sigmoid(x0);
        case 'mul':
          return tf.mul(x0, get(n.inputs[1]));
        case 'add':
          return tf.add(x0, get(n.inputs[1]));
        case 'concat':
          return tf.concat(n.inputs.map(map), 3);
        case 'maxpool':
        case 'avgpool': {
          const [, h, w] = shapes.get(n.output)!;
          return pool(x0 as tf.Tensor4D, n, h!, w!);
        }
        case 'globalavgpool':
          return tf.mean(x0, [1, 2], true);
        case 'flatten': {
          if (x0.rank !== 4) return x0;
          const [b, h, w] = x0.shape;
          // NHWC → NCHW before flattening, unless the map is 1×1 (then both orders agree).
          return tf.reshape(h === 1 && w === 1 ? x0 : tf.transpose(x0, [0, 3, 1, 2]), [b, -1]);
        }
        case 'linear':
          return linear(x0 as tf.Tensor2D, n, p);
        case 'identity':
        case 'dropout':
          return x0;
      }
    }
  };
}
