export * from './arch/types.js';
export * from './arch/index.js';
export { VGG13_CONFIG } from './arch/vgg.js';
export { resnet56Config } from './arch/resnet-cifar.js';
export * from './counts.js';
export * from './layout.js';
export * from './model.js';
export * from './safetensors.js';
export { BN_EPS } from './layers.js';
