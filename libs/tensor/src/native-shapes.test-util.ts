// Every layer geometry of the five architectures on 32x32 inputs (VGG-13, ResNet-56, ResNet-18,
// ResNet-34, MobileNet-V1), for the native kernel tests. libs/tensor cannot import libs/models
// (layering), so the table is written out: it is the de-duplicated list of libs/models'
// buildNetwork(arch).filterLayers (input size, channels, kernel, stride, groups) for each arch.
// Padding is the models' own: (k - 1) / 2 on every side.

export interface ConvShape {
  /** Input height = width. */
  hw: number;
  cin: number;
  cout: number;
  k: 1 | 3;
  stride: 1 | 2;
  depthwise: boolean;
  archs: string;
}

const conv = (hw: number, cin: number, cout: number, k: 1 | 3, stride: 1 | 2, archs: string): ConvShape => ({
  hw, cin, cout, k, stride, depthwise: false, archs,
});
const dw = (hw: number, c: number, stride: 1 | 2): ConvShape => ({
  hw, cin: c, cout: c, k: 3, stride, depthwise: true, archs: 'mobilenet_v1',
});

export const CONV_SHAPES: readonly ConvShape[] = [
  conv(32, 3, 64, 3, 1, 'vgg13,resnet18,resnet34'),
  conv(32, 64, 64, 3, 1, 'vgg13,resnet18,resnet34'),
  conv(16, 64, 128, 3, 1, 'vgg13'),
  conv(16, 128, 128, 3, 1, 'vgg13,resnet18,resnet34'),
  conv(8, 128, 256, 3, 1, 'vgg13'),
  conv(8, 256, 256, 3, 1, 'vgg13,resnet18,resnet34'),
  conv(4, 256, 512, 3, 1, 'vgg13'),
  conv(4, 512, 512, 3, 1, 'vgg13,resnet18,resnet34'),
  conv(2, 512, 512, 3, 1, 'vgg13'),
  conv(32, 3, 16, 3, 1, 'resnet56'),
  conv(32, 16, 16, 3, 1, 'resnet56'),
  conv(32, 16, 32, 3, 2, 'resnet56'),
  conv(16, 32, 32, 3, 1, 'resnet56'),
  conv(32, 16, 32, 1, 2, 'resnet56'),
  conv(16, 32, 64, 3, 2, 'resnet56'),
  conv(8, 64, 64, 3, 1, 'resnet56'),
  conv(16, 32, 64, 1, 2, 'resnet56'),
  conv(32, 64, 128, 3, 2, 'resnet18,resnet34'),
  conv(32, 64, 128, 1, 2, 'resnet18,resnet34'),
  conv(16, 128, 256, 3, 2, 'resnet18,resnet34'),
  conv(16, 128, 256, 1, 2, 'resnet18,resnet34'),
  conv(8, 256, 512, 3, 2, 'resnet18,resnet34'),
  conv(8, 256, 512, 1, 2, 'resnet18,resnet34'),
  conv(32, 3, 32, 3, 1, 'mobilenet_v1'),
  dw(32, 32, 1),
  conv(32, 32, 64, 1, 1, 'mobilenet_v1'),
  dw(32, 64, 2),
  conv(16, 64, 128, 1, 1, 'mobilenet_v1'),
  dw(16, 128, 1),
  conv(16, 128, 128, 1, 1, 'mobilenet_v1'),
  dw(16, 128, 2),
  conv(8, 128, 256, 1, 1, 'mobilenet_v1'),
  dw(8, 256, 1),
  conv(8, 256, 256, 1, 1, 'mobilenet_v1'),
  dw(8, 256, 2),
  conv(4, 256, 512, 1, 1, 'mobilenet_v1'),
  dw(4, 512, 1),
  conv(4, 512, 512, 1, 1, 'mobilenet_v1'),
  dw(4, 512, 2),
  conv(2, 512, 1024, 1, 1, 'mobilenet_v1'),
  dw(2, 1024, 1),
  conv(2, 1024, 1024, 1, 1, 'mobilenet_v1'),
];

/** [height = width, channels] of every BatchNorm input. */
export const BN_SHAPES: readonly [number, number][] = [
  [32, 16], [16, 32], [8, 64], // resnet56
  [32, 64], [16, 128], [8, 256], [4, 512], [2, 512], // vgg13, resnet18/34
  [32, 32], [16, 64], [8, 128], [4, 256], [2, 1024], // mobilenet_v1 (with the above)
];

/** [height = width, channels] of every 2x2 stride-2 max-pool input (VGG-13). */
export const MAXPOOL_SHAPES: readonly [number, number][] = [[32, 64], [16, 128], [8, 256], [4, 512], [2, 512]];

/** [in, out] features of every classifier (10 classes; 100 for CIFAR-100). */
export const LINEAR_SHAPES: readonly [number, number][] = [[512, 10], [64, 10], [1024, 10], [512, 100], [64, 100], [1024, 100]];
