import { MOBILENET_V1_CONFIG, mobilenetV1 } from './mobilenet.js';
import { RESNET18, RESNET34, RESNET56, resnet, resnetDefaultConfig, type ResNetFamily } from './resnet.js';
import type { ArchConfig, ArchName, MobileNetConfig, Network, ResNetConfig, VggConfig } from './types.js';
import { ARCH_NAMES } from './types.js';
import { VGG13_CONFIG, vgg } from './vgg.js';

export class ArchError extends Error {
  readonly kind = 'invalid-argument';
}

export function parseArch(name: string): ArchName {
  if ((ARCH_NAMES as readonly string[]).includes(name)) return name as ArchName;
  throw new ArchError(`unknown architecture "${name}"; choose one of ${ARCH_NAMES.join(', ')}`);
}

const RESNETS: Partial<Record<ArchName, ResNetFamily>> = { resnet56: RESNET56, resnet18: RESNET18, resnet34: RESNET34 };

/** True for the BasicBlock ResNets, whose pruning masks the residual stream (PRUNING-SPEC §6.3). */
export const isResNet = (arch: ArchName): boolean => arch in RESNETS;

export function defaultConfig(arch: ArchName): ArchConfig {
  if (arch === 'vgg13') return [...VGG13_CONFIG];
  if (arch === 'mobilenet_v1') return MOBILENET_V1_CONFIG.map((e) => (Array.isArray(e) ? ([...e] as [number, number]) : e));
  return resnetDefaultConfig(RESNETS[arch]!);
}

/** The network for an architecture, class count and (pruned) channel config. */
export function buildNetwork(arch: ArchName, numClasses: number, config?: ArchConfig): Network {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ArchError(`num_classes must be an integer ≥ 2, got ${numClasses}`);
  const cfg = config ?? defaultConfig(arch);
  try {
    if (arch === 'vgg13') return vgg(cfg as VggConfig, numClasses);
    if (arch === 'mobilenet_v1') return mobilenetV1(cfg as MobileNetConfig, numClasses);
    return resnet(RESNETS[arch]!, cfg as ResNetConfig, numClasses);
  } catch (e) {
    throw new ArchError(`invalid ${arch} channel config: ${(e as Error).message}`);
  }
}
