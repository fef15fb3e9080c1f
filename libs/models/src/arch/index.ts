import { resnet56, resnet56Config } from './resnet-cifar.js';
import type { ArchConfig, ArchName, Network, ResNetCifarConfig, VggConfig } from './types.js';
import { ARCH_NAMES } from './types.js';
import { VGG13_CONFIG, vgg } from './vgg.js';

export class ArchError extends Error {
  readonly kind = 'invalid-argument';
}

export function parseArch(name: string): ArchName {
  if ((ARCH_NAMES as readonly string[]).includes(name)) return name as ArchName;
  throw new ArchError(`unknown architecture "${name}"; choose one of ${ARCH_NAMES.join(', ')}`);
}

export function defaultConfig(arch: ArchName): ArchConfig {
  switch (arch) {
    case 'vgg13':
      return [...VGG13_CONFIG];
    case 'resnet56':
      return resnet56Config();
    default:
      throw new ArchError(`architecture ${arch} is not implemented yet`);
  }
}

/** The network for an architecture, class count and (pruned) channel config. */
export function buildNetwork(arch: ArchName, numClasses: number, config?: ArchConfig): Network {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ArchError(`num_classes must be an integer ≥ 2, got ${numClasses}`);
  const cfg = config ?? defaultConfig(arch);
  switch (arch) {
    case 'vgg13':
      return vgg(cfg as VggConfig, numClasses);
    case 'resnet56':
      return resnet56(cfg as ResNetCifarConfig, numClasses);
    default:
      throw new ArchError(`architecture ${arch} is not implemented yet`);
  }
}
