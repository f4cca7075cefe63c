"""PyTorch (CPU) timing of one ResNet-20 training step, the same step `tricklab bench-step` times.

The network is written out to match `src/nn/models.rs` (`resnet20`): a bias-free 3x3 stem conv
3->16 + BN + ReLU, three stages of three basic blocks (16, 32, 64 channels; the first block of
stages 2 and 3 has stride 2 and a 1x1 stride-2 conv + BN shortcut), each block
conv-BN-ReLU-conv-BN, add, ReLU; global average pool; a 64->10 linear layer. Xavier-uniform conv
and linear weights, BN eps 1e-5 and momentum 0.1. A step is forward, softmax cross-entropy with
one-hot targets, backward and SGD (momentum 0.9, weight decay 1e-4) on random 32x32x3 data.

`--mkldnn off` turns PyTorch's oneDNN convolutions off (its own im2col + GEMM instead), a second
data point: on this shared 2-core machine one 16->16 3x3 conv at batch 8 once ran 4x faster that
way, while whole steps were sometimes faster and sometimes far slower than with oneDNN.

Prints one JSON line: {"ms_per_step": median, "first_step_ms", "batch", "threads", "mkldnn", "torch"}.
Usage: python bench/pytorch_resnet20.py [--batch 8] [--steps 10] [--threads N] [--mkldnn on|off]
"""

import argparse
import json
import os
import statistics
import time

import torch
from torch import nn


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv0 = conv_bn(cin, cout, 3, stride)
        self.conv1 = conv_bn(cout, cout, 3, 1)
        self.down = None if (stride == 1 and cin == cout) else conv_bn(cin, cout, 1, stride)

    def forward(self, x):
        y = self.conv1(torch.relu(self.conv0(x)))
        shortcut = x if self.down is None else self.down(x)
        return torch.relu(y + shortcut)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 1)
        blocks, cin = [], 16
        for stage, c in enumerate([16, 32, 64]):
            for b in range(3):
                blocks.append(BasicBlock(cin, c, 2 if stage > 0 and b == 0 else 1))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--mkldnn", choices=["on", "off"], default="on")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.mkldnn == "on"
    torch.manual_seed(7)

    started = time.perf_counter()
    model = ResNet20()
    params = sum(p.numel() for p in model.parameters())
    assert 260_000 <= params <= 280_000, params  # He et al. 2016: about 0.27M
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.rand(args.batch, 3, 32, 32) * 2 - 1
    labels = torch.randint(0, 10, (args.batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), labels)
        loss.backward()
        opt.step()
        return loss.item()

    step()
    first_ms = (time.perf_counter() - started) * 1e3
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t) * 1e3)
    assert loss == loss, "the loss is NaN"
    print(json.dumps({
        "model": "resnet20",
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "ms_per_step": round(statistics.median(times), 3),
        "first_step_ms": round(first_ms, 1),
        "mkldnn": args.mkldnn,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
