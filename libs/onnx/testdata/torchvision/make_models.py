#!/usr/bin/env python3
"""Small torchvision CNNs exported to ONNX by PyTorch, with PyTorch's own outputs beside them.

The importer's tests (libs/onnx/src/torchvision.test.ts) read what this script writes. The
architectures are torchvision's own code (0.14, Debian python3-torchvision); only their widths are
narrowed so the files stay small:
  * DenseNet and MobileNet-V2 take their widths as arguments;
  * ResNet-18, VGG-11-BN and SqueezeNet-1.1 hard-code theirs, so while they are built, the torch.nn
    layer classes their modules use are swapped for subclasses that divide every channel/feature
    count by DIVISOR (image channels and the class count excepted). Their forward code is unchanged.
BatchNorm statistics and affine parameters and the biases are randomised (fresh ones would be 0/1
everywhere, which tests nothing and lets PyTorch deduplicate the initializers). Export: eval mode, opset 13,
training=TrainingMode.PRESERVE (keeps BatchNormalization nodes, as the issue asks), no constant
folding. Run: /usr/bin/python3 libs/onnx/testdata/torchvision/make_models.py [out_dir]
"""
import base64
import contextlib
import json
import os
import sys

import torch
import torchvision
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
CLASSES = 10


@contextlib.contextmanager
def narrowed(module, divisor, image_channels):
    """Divides channel/feature counts of the nn layers `module` builds by `divisor`."""
    def scale(c, keep):
        return c if c in keep else max(1, c // divisor)

    class Conv2d(nn.Conv2d):
        def __init__(self, cin, cout, *a, **k):
            groups = k.pop('groups', 1)
            cin2 = image_channels if cin == 3 else scale(cin, ())
            cout2 = scale(cout, (CLASSES,))
            super().__init__(cin2, cout2, *a, groups=cin2 if groups == cin and groups > 1 else groups, **k)

    class BatchNorm2d(nn.BatchNorm2d):
        def __init__(self, c, *a, **k):
            super().__init__(scale(c, ()), *a, **k)

    class Linear(nn.Linear):
        def __init__(self, fin, fout, *a, **k):
            super().__init__(scale(fin, ()), scale(fout, (CLASSES,)), *a, **k)

    saved = module.nn
    patched = type('nn', (), {})()
    for name in dir(nn):
        setattr(patched, name, getattr(nn, name))
    patched.Conv2d, patched.BatchNorm2d, patched.Linear = Conv2d, BatchNorm2d, Linear
    module.nn = patched
    try:
        yield
    finally:
        module.nn = saved


def build(name):
    m = torchvision.models
    if name == 'resnet18':
        with narrowed(m.resnet, 8, 1):
            return m.resnet18(num_classes=CLASSES), (1, 28, 28)
    if name == 'vgg11_bn':
        with narrowed(m.vgg, 32, 3):
            net = m.vgg11_bn(num_classes=CLASSES)
        # torchvision's classifier reads 7x7 maps through AdaptiveAvgPool2d((7, 7)); smaller images
        # would need it to upsample, which PyTorch cannot export: VGG keeps its 224x224 input.
        return net, (3, 224, 224)
    if name == 'squeezenet1_1':
        with narrowed(m.squeezenet, 4, 3):
            # 56x56: the last ceil-mode max pool's window overhangs the map (a 64x64 image would divide evenly).
            return m.squeezenet1_1(num_classes=CLASSES), (3, 56, 56)
    if name == 'mobilenet_v2':
        return m.mobilenet_v2(num_classes=CLASSES, width_mult=0.25), (3, 32, 32)
    if name == 'densenet121':
        # DenseNet-121's block structure (6, 12, 24, 16) is long; its widths are arguments.
        return m.DenseNet(growth_rate=4, block_config=(2, 3, 4, 2), num_init_features=8, bn_size=2, num_classes=CLASSES), (3, 32, 32)
    raise ValueError(name)


def randomise(net, gen):
    """BatchNorm statistics and affine parameters, and biases (torchvision zeroes them)."""
    for mod in net.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
            mod.bias.data.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
        if isinstance(mod, nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def b64(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype('<f4').tobytes()).decode()


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    names = sys.argv[2:] or ['resnet18', 'vgg11_bn', 'squeezenet1_1', 'mobilenet_v2', 'densenet121']
    for name in names:
        net, chw = build(name)
        randomise(net, gen)
        net.eval()
        x = torch.randn(1 if chw[1] > 64 else 2, *chw, generator=gen)
        with torch.no_grad():
            y = net(x)
        path = os.path.join(OUT, f'{name}.onnx')
        torch.onnx.export(net, x, path, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
        ref = {'model': f'{name}.onnx', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
               'params': sum(p.numel() for p in net.parameters()),
               'input': {'shape': list(x.shape), 'f32le': b64(x)}, 'output': {'shape': list(y.shape), 'f32le': b64(y)}}
        with open(os.path.join(OUT, f'{name}.reference.json'), 'w') as f:
            json.dump(ref, f, indent=1)
            f.write('\n')
        print(name, chw, ref['params'], os.path.getsize(path))


if __name__ == '__main__':
    main()
