import { tf } from '@flowprune/tensor';
import { batchNorm, conv2d, linear } from '../layers.js';
import { NetBuilder } from './builder.js';
import type { ArchName, ForwardContext, Network, ParamReader, ResNetConfig } from './types.js';

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

interface Block {
  name: string;
  stride: number;
  shortcut: boolean;
}

/**
 * ResNet with BasicBlocks, as the paper's code: conv1(3→stem)+bn1+relu, stages of blocks (stride 2
 * at the first block of every stage but the first), average pool over the final map, `linear`.
 * Block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a 1x1 conv + BN where
 * stride or width changes, else identity. Pruning masks (ctx.masks, by BN prefix) multiply the
 * masked BN outputs; they are not part of the state_dict.
 */
export function resnet(f: ResNetFamily, config: ResNetConfig, numClasses: number): Network {
  const b = new NetBuilder();
  b.conv('conv1', 3, config.base as number, 3, 1, 32);
  b.bn('bn1', config.base as number, 32);
  b.filterLayer('conv1.weight', 'bn1', 3, config.base as number, 3, 1);
  const blocks: Block[] = [];
  let cin = config.base as number;
  let hw = 32;
  f.blocks.forEach((count, s) => {
    const stage = `layer${s + 1}`;
    const widths = config[`l${s + 1}`];
    if (!Array.isArray(widths) || widths.length !== 2 * count)
      throw new Error(`${f.arch} config l${s + 1} needs ${2 * count} widths, got ${JSON.stringify(widths)}`);
    for (let i = 0; i < count; i++) {
      const name = `${stage}.${i}`;
      const stride = i === 0 && s > 0 ? 2 : 1;
      const [c1, c2] = [widths[2 * i], widths[2 * i + 1]];
      const hOut = hw / stride;
      b.conv(`${name}.conv1`, cin, c1, 3, stride, hOut);
      b.bn(`${name}.bn1`, c1, hOut);
      b.filterLayer(`${name}.conv1.weight`, `${name}.bn1`, cin, c1, 3, stride);
      b.conv(`${name}.conv2`, c1, c2, 3, 1, hOut);
      b.bn(`${name}.bn2`, c2, hOut);
      b.filterLayer(`${name}.conv2.weight`, `${name}.bn2`, c1, c2, 3, 1);
      const shortcut = stride !== 1 || cin !== c2;
      if (shortcut) {
        b.conv(`${name}.shortcut.0`, cin, c2, 1, stride, hOut);
        b.bn(`${name}.shortcut.1`, c2, hOut);
        b.filterLayer(`${name}.shortcut.0.weight`, `${name}.shortcut.1`, cin, c2, 1, stride);
      }
      blocks.push({ name, stride, shortcut });
      cin = c2;
      hw = hOut;
    }
  });
  b.linear('linear', cin, numClasses);

  const forward = (p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    let h = batchNorm(conv2d(x, p('conv1.weight'), 1, 1), 'bn1', p, ctx, { relu: true });
    for (const blk of blocks) {
      const n = blk.name;
      const r1 = batchNorm(conv2d(h, p(`${n}.conv1.weight`), blk.stride, 1), `${n}.bn1`, p, ctx, { relu: true });
      const sc = blk.shortcut ? batchNorm(conv2d(h, p(`${n}.shortcut.0.weight`), blk.stride, 0), `${n}.shortcut.1`, p, ctx) : h;
      // relu(bn2(conv2(r1)) + shortcut), as one fused BatchNorm where the backend has it.
      h = batchNorm(conv2d(r1, p(`${n}.conv2.weight`), 1, 1), `${n}.bn2`, p, ctx, { residual: sc, relu: true });
    }
    // avg_pool2d over the whole final map (8x8 for ResNet-56, 4x4 for ResNet-18/34 on 32x32).
    return linear(tf.mean(h, [1, 2]) as tf.Tensor2D, 'linear', p);
  };
  return { arch: f.arch, numClasses, config, params: b.params, filterLayers: b.filterLayers, costOps: b.costOps, forward };
}
