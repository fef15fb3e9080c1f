import { tf } from '@flowprune/tensor';
import { batchNorm, conv2d, linear } from '../layers.js';
import { NetBuilder } from './builder.js';
import type { ForwardContext, Network, ParamReader, ResNetCifarConfig } from './types.js';

const BLOCKS_PER_STAGE = 9;

export function resnet56Config(): ResNetCifarConfig {
  const stage = (w: number) => Array.from({ length: 2 * BLOCKS_PER_STAGE }, () => w);
  return { base: 16, l1: stage(16), l2s: 32, l2: stage(32), l3s: 64, l3: stage(64) };
}

interface Block {
  name: string;
  stride: number;
  shortcut: boolean;
}

/**
 * The paper's ResNet-56 for CIFAR: conv1(3→16)+bn1+relu, three stages of nine BasicBlocks
 * (16/32/64 wide, stride 2 at the first block of stages 2 and 3), global average pool, `linear`.
 * Block: relu(mask ⊙ bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a 1x1 conv +
 * BN where stride or width changes, else identity. Masks come from pruning (ctx.masks) and are
 * not part of the state_dict.
 */
export function resnet56(config: ResNetCifarConfig, numClasses: number): Network {
  const b = new NetBuilder();
  b.conv('conv1', 3, config.base, 3, 1, 32);
  b.bn('bn1', config.base, 32);
  b.filterLayer('conv1.weight', 'bn1', 3, config.base, 3, 1);
  const blocks: Block[] = [];
  let cin = config.base;
  let hw = 32;
  const stages: [string, number[], number][] = [
    ['layer1', config.l1, 1],
    ['layer2', config.l2, 2],
    ['layer3', config.l3, 2],
  ];
  for (const [stage, widths, firstStride] of stages) {
    if (widths.length !== 2 * BLOCKS_PER_STAGE)
      throw new Error(`resnet56 config ${stage} needs ${2 * BLOCKS_PER_STAGE} widths, got ${widths.length}`);
    for (let i = 0; i < BLOCKS_PER_STAGE; i++) {
      const name = `${stage}.${i}`;
      const stride = i === 0 ? firstStride : 1;
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
  }
  b.linear('linear', cin, numClasses);

  const masked = (h: tf.Tensor4D, key: string, ctx: ForwardContext): tf.Tensor4D => {
    const m = ctx.masks?.get(key);
    return m ? tf.mul(h, m) : h;
  };
  const forward = (p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    let h = tf.relu(batchNorm(conv2d(x, p('conv1.weight'), 1, 1), 'bn1', p, ctx));
    for (const blk of blocks) {
      const n = blk.name;
      const r1 = tf.relu(batchNorm(conv2d(h, p(`${n}.conv1.weight`), blk.stride, 1), `${n}.bn1`, p, ctx));
      const r2 = masked(batchNorm(conv2d(r1, p(`${n}.conv2.weight`), 1, 1), `${n}.bn2`, p, ctx), n, ctx);
      const sc = blk.shortcut
        ? masked(batchNorm(conv2d(h, p(`${n}.shortcut.0.weight`), blk.stride, 0), `${n}.shortcut.1`, p, ctx), `${n}.shortcut`, ctx)
        : h;
      h = tf.relu(tf.add(r2, sc)) as tf.Tensor4D;
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return linear(pooled, 'linear', p);
  };
  return { arch: 'resnet56', numClasses, config, params: b.params, filterLayers: b.filterLayers, costOps: b.costOps, forward };
}
