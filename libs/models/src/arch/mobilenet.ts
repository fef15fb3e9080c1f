import { tf } from '@flowprune/tensor';
import { batchNorm, conv2d, depthwiseConv2d, linear } from '../layers.js';
import { NetBuilder } from './builder.js';
import type { ForwardContext, MobileNetConfig, Network, ParamReader } from './types.js';

/** Stem width, then each block's pointwise width; [w, 2] marks a stride-2 block. */
export const MOBILENET_V1_CONFIG: MobileNetConfig = [32, 64, [128, 2], 128, [256, 2], 256, [512, 2], 512, 512, 512, 512, 512, [1024, 2], 1024];

/**
 * The paper's MobileNet-V1: conv1(3→stem, 3x3)+bn1+relu; 13 blocks of depthwise 3x3 (stride s,
 * groups = channels) + bn1 + relu, then pointwise 1x1 + bn2 + relu; 2x2 average pool; `linear`.
 */
export function mobilenetV1(config: MobileNetConfig, numClasses: number): Network {
  if (config.length !== 14) throw new Error(`mobilenet_v1 config needs 14 entries (stem + 13 blocks), got ${config.length}`);
  const b = new NetBuilder();
  const stem = config[0] as number;
  b.conv('conv1', 3, stem, 3, 1, 32);
  b.bn('bn1', stem, 32);
  b.filterLayer('conv1.weight', 'bn1', 3, stem, 3, 1);
  const blocks: { name: string; stride: number }[] = [];
  let cin = stem;
  let hw = 32;
  config.slice(1).forEach((entry, i) => {
    const [cout, stride] = Array.isArray(entry) ? entry : [entry, 1];
    const name = `layers.${i}`;
    const hOut = hw / stride;
    b.conv(`${name}.conv1`, cin, cin, 3, stride, hOut, cin);
    b.bn(`${name}.bn1`, cin, hOut);
    b.filterLayer(`${name}.conv1.weight`, `${name}.bn1`, cin, cin, 3, stride, cin);
    b.conv(`${name}.conv2`, cin, cout, 1, 1, hOut);
    b.bn(`${name}.bn2`, cout, hOut);
    b.filterLayer(`${name}.conv2.weight`, `${name}.bn2`, cin, cout, 1, 1);
    blocks.push({ name, stride });
    cin = cout;
    hw = hOut;
  });
  if (hw !== 2) throw new Error(`mobilenet_v1 config leaves a ${hw}x${hw} map; the 2x2 average pool needs 2x2 (four stride-2 blocks)`);
  b.linear('linear', cin, numClasses);

  const forward = (p: ParamReader, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    let h = batchNorm(conv2d(x, p('conv1.weight'), 1, 1), 'bn1', p, ctx, { relu: true });
    for (const blk of blocks) {
      const n = blk.name;
      h = batchNorm(depthwiseConv2d(h, p(`${n}.conv1.weight`), blk.stride, 1), `${n}.bn1`, p, ctx, { relu: true });
      h = batchNorm(conv2d(h, p(`${n}.conv2.weight`), 1, 0), `${n}.bn2`, p, ctx, { relu: true });
    }
    return linear(tf.mean(h, [1, 2]) as tf.Tensor2D, 'linear', p);
  };
  return { arch: 'mobilenet_v1', numClasses, config, params: b.params, filterLayers: b.filterLayers, costOps: b.costOps, forward };
}
