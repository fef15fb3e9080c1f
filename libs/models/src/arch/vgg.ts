import { tf } from '@flowprune/tensor';
import { batchNorm, conv2d, linear } from '../layers.js';
import { NetBuilder } from './builder.js';
import type { ForwardContext, Network, ParamReader, VggConfig } from './types.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Graph, GraphInput } from '../graph/types.js';

/** CIFAR's 3×32×32 images, the input every built-in architecture was written for. */
export const CIFAR_INPUT: GraphInput = { name: 'input', channels: 3, height: 32, width: 32 };

export const VGG13_CONFIG: VggConfig = [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'];

/**
 * The paper's VGG as a graph: `features` is Conv3x3(no bias) → ReLU → BatchNorm per width (BN after
 * the ReLU), a 2x2 max-pool per 'M', then `classifier` = Linear(last width, classes) on the flattened map.
 */
export function vggGraph(config: VggConfig, numClasses: number, input: GraphInput = CIFAR_INPUT): Graph {
  const g = new GraphBuilder(input);
  let x = input.name;
  let idx = 0;
  for (const v of config) {
    if (v === 'M') {
      x = g.pool('maxpool', x, { kernel: 2, stride: 2 });
      idx += 1;
      continue;
    }
    x = g.conv(`features.${idx}`, x, v, { kernel: 3, padding: 1 });
    x = g.relu(x);
    x = g.bn(`features.${idx + 2}`, x);
    idx += 3;
  }
  x = g.flatten(x);
  return g.finish(g.linear('classifier', x, numClasses));
}

/**
 * The paper's VGG: `features` is Conv3x3(no bias) → ReLU → BatchNorm per width (BN after the ReLU),
 * a 2x2 max-pool per 'M', then `classifier` = Linear(last width, classes) on the 1x1 map.
 */
export function vgg(config: VggConfig, numClasses: number): Network {
  const b = new NetBuilder();
  type Step = { kind: 'conv'; conv: string; bn: string } | { kind: 'pool' };
  const steps: Step[] = [];
  let idx = 0;
  let cin = 3;
  let hw = 32;
  for (const v of config) {
    if (v === 'M') {
      b.maxPool(cin * hw * hw);
      hw /= 2;
      steps.push({ kind: 'pool' });
      idx += 1;
      continue;
    }
    const conv = b.conv(`features.${idx}`, cin, v, 3, 1, hw);
    b.reluModule(v * hw * hw);
    b.bn(`features.${idx + 2}`, v, hw);
    b.filterLayer(conv, `features.${idx + 2}`, cin, v, 3, 1);
    steps.push({ kind: 'conv', conv, bn: `features.${idx + 2}` });
    cin = v;
    idx += 3;
  }
  if (hw !== 1) throw new Error(`VGG config ${JSON.stringify(config)} leaves a ${hw}x${hw} map; it needs five 'M'`);
  b.linear('classifier', cin, numClasses);

  const forward = (p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    let h = x;
    for (const s of steps) {
      if (s.kind === 'pool') h = tf.maxPool(h, 2, 2, 'valid');
      else h = batchNorm(tf.relu(conv2d(h, p(s.conv), 1, 1)), s.bn, p, ctx);
    }
    return linear(tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D, 'classifier', p);
  };
  return { arch: 'vgg13', numClasses, config, params: b.params, filterLayers: b.filterLayers, costOps: b.costOps, forward };
}
