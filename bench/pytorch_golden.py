"""Repeats the first steps of tricklab's golden run (tests/trainer.rs, golden_losses_match_pytorch)
in PyTorch and prints the per-step losses that test expects.

The test dumps, with TRICKLAB_GOLDEN_DUMP=DIR: the initial weights (DIR/init.safetensors), each
step's batch as the network received it (DIR/x{i}.f32, DIR/targets{i}.f32: raw little-endian f32,
already normalized, smoothed and mixed) and the recipe (DIR/meta.json: the rate of each step,
momentum, Nesterov, weight decay, no_wd). This script loads the weights into the same network
(bench/tricklab_torch.py), takes the same steps with torch.optim.SGD (weight decay on every tensor,
or on conv and linear weights only under no_wd), the loss being cross-entropy against the target
rows, and prints the mean loss of each step.

It computes in float64: PyTorch's own float32 run on the CPU drifts from its float64 run by 0.4% by
the fourth step (different summation orders, amplified by the updates), so float32 PyTorch would set
the tolerance rather than test it. The float32 losses are printed too, for comparison.

Usage: python bench/pytorch_golden.py DIR
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import tricklab_torch  # noqa: E402


def losses(d, meta, dtype):
    net, config = tricklab_torch.load(os.path.join(d, "init.safetensors"))
    net = net.to(dtype).train()
    decayed = [p for n, p in net.named_parameters() if not meta["no_wd"] or (n.endswith("weight") and ".bn." not in n)]
    free = [p for n, p in net.named_parameters() if all(p is not q for q in decayed)]
    opt = torch.optim.SGD(
        [{"params": decayed, "weight_decay": meta["weight_decay"]}, {"params": free, "weight_decay": 0.0}],
        lr=0.0, momentum=meta["momentum"], nesterov=meta["nesterov"],
    )
    channels = 1 if config["dataset"] == "mnist" else 3
    size = 28 if config["dataset"] == "mnist" else 32
    b = meta["batch"]
    out = []
    for step in range(meta["steps"]):
        x = torch.from_numpy(np.fromfile(os.path.join(d, f"x{step}.f32"), "<f4").reshape(b, channels, size, size)).to(dtype)
        t = torch.from_numpy(np.fromfile(os.path.join(d, f"targets{step}.f32"), "<f4").reshape(b, -1)).to(dtype)
        for g in opt.param_groups:
            g["lr"] = meta["lrs"][step]
        loss = -(t * torch.log_softmax(net(x), 1)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    print(f"torch {torch.__version__}; per-step losses")
    for dtype in (torch.float64, torch.float32):
        print(f"{dtype}: [" + ", ".join(f"{v:.8}" for v in np.float32(losses(d, meta, dtype))) + "]")


if __name__ == "__main__":
    main()
