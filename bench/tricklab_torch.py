"""Loads a tricklab safetensors file into the same network in PyTorch.

A file saved by `tricklab train --save` (or exported from the page) holds every parameter under its
layer name (`stem0.conv.weight`, `block0.0.bn.weight`, `fc.bias`, ...), each batch norm's
`running_mean` / `running_var`, and the training config as JSON in the metadata
(`tricklab_config`). `load(path)` rebuilds the model that config describes, with the module names
tricklab uses, and loads the tensors into it; the result is an ordinary `torch.nn.Module`.

Covered: mnist_resnet and resnet20/32/56, with width_mult, ResNet-C and ResNet-D (the models built
from basic blocks; see src/nn/models.rs). Needs the `torch` and `safetensors` packages.
"""

import json
import math

import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn


def scaled(c, mult):
    """tricklab's width rule: c * mult rounded (half away from zero) to a multiple of 4, at least 4."""
    return max(4, int(math.floor(c * mult / 4 + 0.5)) * 4)


class ConvBN(nn.Module):
    """A bias-free conv (padding k // 2) and its batch norm, named `conv` and `bn` like tricklab's."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus the shortcut, then ReLU. The shortcut is the identity, a strided
    1x1 conv + BN (`down`), or under ResNet-D a 2x2 ceil-mode average pool then a 1x1 conv + BN."""

    def __init__(self, cin, cout, stride, resnet_d):
        super().__init__()
        self.add_module("0", ConvBN(cin, cout, 3, stride))
        self.add_module("1", ConvBN(cout, cout, 3, 1))
        self.pool = resnet_d and stride == 2
        self.down = None
        if stride != 1 or cin != cout:
            self.down = ConvBN(cin, cout, 1, 1 if self.pool else stride)

    def forward(self, x):
        y = self._modules["1"](F.relu(self._modules["0"](x)))
        if self.down is None:
            return F.relu(y + x)
        s = F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False) if self.pool else x
        return F.relu(y + self.down(s))


class ResNet(nn.Module):
    """Stem (one 3x3 conv, or three under ResNet-C), basic blocks, global average pool, linear."""

    def __init__(self, in_channels, stem, blocks, classes, resnet_c, resnet_d):
        super().__init__()
        self.stems = 3 if resnet_c else 1
        c = in_channels
        for i in range(self.stems):
            self.add_module(f"stem{i}", ConvBN(c, stem, 3, 1))
            c = stem
        for b, (cout, stride) in enumerate(blocks):
            self.add_module(f"block{b}", BasicBlock(c, cout, stride, resnet_d))
            c = cout
        self.blocks = len(blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        for i in range(self.stems):
            x = F.relu(self._modules[f"stem{i}"](x))
        for b in range(self.blocks):
            x = self._modules[f"block{b}"](x)
        return self.fc(x.mean((2, 3)))


def build(config):
    """The network a tricklab config trains (a dict with the config's fields)."""
    w = lambda c: scaled(c, config["width_mult"])
    channels = 1 if config["dataset"] == "mnist" else 3
    model = config["model"]
    if model == "mnist_resnet":
        stem, blocks = w(16), [(w(24), 2), (w(48), 2), (w(96), 2)]
    elif model in ("resnet20", "resnet32", "resnet56"):
        n = (int(model[6:]) - 2) // 6
        stem = w(16)
        blocks = [(w(c), 2 if i > 0 and b == 0 else 1) for i, c in enumerate([16, 32, 64]) for b in range(n)]
    else:
        raise ValueError(f"{model} is not a ResNet of basic blocks; this loader covers mnist_resnet and resnet20/32/56")
    return ResNet(channels, stem, blocks, 10, config["resnet_c"], config["resnet_d"])


def load(path):
    """(model, config) from a tricklab safetensors file; the model is in eval mode."""
    with safe_open(path, framework="pt") as f:
        config = json.loads(f.metadata()["tricklab_config"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    net = build(config)
    state = net.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith("num_batches_tracked")]
    extra = [k for k in tensors if k not in state]
    if missing or extra:
        raise ValueError(f"{path}: tensors do not match {config['model']}: missing {missing[:5]}, unexpected {extra[:5]}")
    net.load_state_dict(tensors, strict=False)
    return net.eval(), config
