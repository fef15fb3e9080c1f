import { GraphBuilder } from '../graph/builder.js';
import type { Graph, GraphInput } from '../graph/types.js';
import { CIFAR_INPUT } from './input.js';
import type { MobileNetConfig } from './types.js';

/** Stem width, then each block's pointwise width; [w, 2] marks a stride-2 block. */
export const MOBILENET_V1_CONFIG: MobileNetConfig = [32, 64, [128, 2], 128, [256, 2], 256, [512, 2], 512, 512, 512, 512, 512, [1024, 2], 1024];

/**
 * The paper's MobileNet-V1: conv1(3→stem, 3x3)+bn1+relu; 13 blocks of depthwise 3x3 (stride s,
 * groups = channels) + bn1 + relu, then pointwise 1x1 + bn2 + relu; F.avg_pool2d(2); `linear`.
 * ReLUs and the pool are functional calls (uncounted by ptflops).
 */
export function mobilenetV1Graph(config: MobileNetConfig, numClasses: number, input: GraphInput = CIFAR_INPUT): Graph {
  if (config.length !== 14) throw new Error(`mobilenet_v1 config needs 14 entries (stem + 13 blocks), got ${config.length}`);
  const g = new GraphBuilder(input);
  let x = g.relu(g.bn('bn1', g.conv('conv1', input.name, config[0] as number, { kernel: 3, padding: 1 })), true);
  config.slice(1).forEach((entry, i) => {
    const [cout, stride] = Array.isArray(entry) ? entry : [entry, 1];
    const name = `layers.${i}`;
    const cin = g.channelsOf(x);
    x = g.relu(g.bn(`${name}.bn1`, g.conv(`${name}.conv1`, x, cin, { kernel: 3, stride, padding: 1, groups: cin })), true);
    x = g.relu(g.bn(`${name}.bn2`, g.conv(`${name}.conv2`, x, cout, { kernel: 1 })), true);
  });
  const [, h, w] = g.shapeOf(x);
  if (h !== 2 || w !== 2) throw new Error(`mobilenet_v1 config leaves a ${h}x${w} map; the 2x2 average pool needs 2x2 (four stride-2 blocks on 32x32)`);
  x = g.pool('avgpool', x, { kernel: 2, functional: true });
  return g.finish(g.linear('linear', g.flatten(x), numClasses));
}
