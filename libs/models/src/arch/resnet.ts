import { GraphBuilder } from '../graph/builder.js';
import type { Graph, GraphInput } from '../graph/types.js';
import { CIFAR_INPUT } from './input.js';
import type { ArchName, ResNetConfig } from './types.js';

/** Stage widths and block counts of the BasicBlock ResNets of the paper's code. */
export interface ResNetFamily {
  arch: ArchName;
  stem: number;
  widths: number[];
  blocks: number[];
}

export const RESNET56: ResNetFamily = { arch: 'resnet56', stem: 16, widths: [16, 32, 64], blocks: [9, 9, 9] };
export const RESNET18: ResNetFamily = { arch: 'resnet18', stem: 64, widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2] };
export const RESNET34: ResNetFamily = { arch: 'resnet34', stem: 64, widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3] };

/** The unpruned config: every (conv1, conv2) pair at the stage width; projections at full width. */
export function resnetDefaultConfig(f: ResNetFamily): ResNetConfig {
  const cfg: ResNetConfig = { base: f.stem };
  f.widths.forEach((w, s) => {
    cfg[`l${s + 1}`] = Array.from({ length: 2 * f.blocks[s] }, () => w);
    if (s > 0) cfg[`l${s + 1}s`] = w;
  });
  return cfg;
}

/**
 * ResNet with BasicBlocks, as the paper's code: conv1(3→stem)+bn1+relu, stages of blocks (stride 2
 * at the first block of every stage but the first), average pool over the final map, `linear`.
 * Block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a 1x1 conv + BN where
 * stride or width changes, else identity. ReLUs and the pool are functional calls. Pruning masks
 * (ctx.masks, by BN prefix) multiply masked BN outputs; they are not part of the state_dict.
 */
export function resnetGraph(f: ResNetFamily, config: ResNetConfig, numClasses: number, input: GraphInput = CIFAR_INPUT): Graph {
  const g = new GraphBuilder(input);
  let x = g.relu(g.bn('bn1', g.conv('conv1', input.name, config.base as number, { kernel: 3, padding: 1 })), true);
  f.blocks.forEach((count, s) => {
    const widths = config[`l${s + 1}`];
    if (!Array.isArray(widths) || widths.length !== 2 * count)
      throw new Error(`${f.arch} config l${s + 1} needs ${2 * count} widths, got ${JSON.stringify(widths)}`);
    for (let i = 0; i < count; i++) {
      const name = `layer${s + 1}.${i}`;
      const stride = i === 0 && s > 0 ? 2 : 1;
      const [c1, c2] = [widths[2 * i], widths[2 * i + 1]];
      const cin = g.channelsOf(x);
      const r1 = g.relu(g.bn(`${name}.bn1`, g.conv(`${name}.conv1`, x, c1, { kernel: 3, stride, padding: 1 })), true);
      const r2 = g.bn(`${name}.bn2`, g.conv(`${name}.conv2`, r1, c2, { kernel: 3, padding: 1 }));
      const shortcut = stride !== 1 || cin !== c2 ? g.bn(`${name}.shortcut.1`, g.conv(`${name}.shortcut.0`, x, c2, { kernel: 1, stride })) : x;
      x = g.relu(g.sum(r2, shortcut), true);
    }
  });
  // avg_pool2d over the whole final map (8x8 for ResNet-56, 4x4 for ResNet-18/34 on 32x32).
  x = g.globalAvgPool(x, true);
  return g.finish(g.linear('linear', g.flatten(x), numClasses));
}
