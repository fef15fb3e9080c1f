import { GraphBuilder } from '../graph/builder.js';
import type { Graph, GraphInput } from '../graph/types.js';
import { CIFAR_INPUT } from './input.js';
import type { VggConfig } from './types.js';

export const VGG13_CONFIG: VggConfig = [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'];

/**
 * The paper's VGG: `features` is Conv3x3(no bias) → ReLU → BatchNorm per width (BN after the ReLU),
 * a 2x2 max-pool per 'M', then `classifier` = Linear(last width, classes) on the 1x1 map.
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
  const [, h, w] = g.shapeOf(x);
  if (h !== 1 || w !== 1) throw new Error(`VGG config ${JSON.stringify(config)} leaves a ${h}x${w} map; the classifier needs 1x1 (five 'M' on 32x32)`);
  return g.finish(g.linear('classifier', g.flatten(x), numClasses));
}
