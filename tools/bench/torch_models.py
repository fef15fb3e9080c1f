"""The paper's CIFAR networks in PyTorch, as its code defines them (reference for `npm run bench`).

VGG: Conv3x3(no bias) -> ReLU -> BatchNorm per width, 2x2 max-pool per 'M', Linear(512, K).
ResNet-56: BasicBlocks 3x9 at widths 16/32/64, 1x1-conv + BN projection shortcut where stride or
width changes, global average pool, Linear(64, K).
MobileNet-V1: conv1 3x3 + BN + ReLU, 13 blocks of depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN +
ReLU; 2x2 average pool, Linear(1024, K).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

VGG13_CFG = [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
MOBILENET_CFG = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024]


class VGG(nn.Module):
    def __init__(self, cfg=VGG13_CFG, num_classes=10):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1, bias=False), nn.ReLU(inplace=True), nn.BatchNorm2d(v)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).view(x.size(0), -1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet56(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for stage, width in enumerate([16, 32, 64]):
            for i in range(9):
                stride = 2 if i == 0 and stage > 0 else 1
                blocks.append(BasicBlock(cin, width, stride))
                cin = width
        self.layers = nn.Sequential(*blocks)
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, out.size(3))
        return self.linear(out.view(out.size(0), -1))


class MobileBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = nn.Conv2d(cin, cout, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))


class MobileNetV1(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        blocks, cin = [], 32
        for entry in MOBILENET_CFG:
            cout, stride = entry if isinstance(entry, tuple) else (entry, 1)
            blocks.append(MobileBlock(cin, cout, stride))
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.linear = nn.Linear(1024, num_classes)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, 2)
        return self.linear(out.view(out.size(0), -1))


ARCHS = {"vgg13": VGG, "resnet56": ResNet56, "mobilenet_v1": MobileNetV1}


def build(arch: str, num_classes: int = 10) -> nn.Module:
    if arch not in ARCHS:
        raise SystemExit(f"unknown architecture {arch}; choose one of {', '.join(ARCHS)}")
    return ARCHS[arch](num_classes=num_classes)


def loss_fn(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 5.0) -> torch.Tensor:
    return F.cross_entropy(logits / temperature, labels)
