"""Markdown tables from the JSON lines of `cargo xtask bench-gpu` (and `tricklab bench-step`,
`tricklab train`), for bench/README.md: the adapter, the kernel checks against the CPU reference,
whole steps, each pass's picked variant with its GFLOP/s beside the register kernel's, and a
training run's test accuracy per epoch. Nothing in the tables is typed by hand.

Usage: python bench/gpu_table.py BENCH_GPU.jsonl [STEP.jsonl ...] [--train RUN.jsonl ...]
"""

import json
import sys


def lines(path):
    return [json.loads(l) for l in open(path) if l.startswith("{")]


def bench(path):
    rows = lines(path)
    for r in rows:
        if r.get("measurement") == "adapter":
            print(f"Adapter: {r['name']} ({r['device_type']}, {r['backend']}, driver {r['driver']}), subgroups {r['subgroups']}.")
    checks = [r for r in rows if r.get("measurement") == "kernel check" and "pass" in r]
    bad = [r for r in checks if not r["ok"]]
    print(f"\nKernel checks against the CPU reference: {len(checks) - len(bad)} of {len(checks)} agree"
          + ("." if not bad else ": failing " + ", ".join(f"{r['pass']} {r['variant']} {r['shape']}" for r in bad)))
    print("\n| pass | shape | picked | GFLOP/s picked | GFLOP/s register | best / register |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if r.get("measurement") == "kernel":
            g = r["gflop_per_s"]
            print(f"| {r['pass']} | {r['shape']} | {r['picked']} | {g[r['picked']]:.0f} | {g['register']:.0f} | {g[r['picked']] / g['register']:.2f} |")


def steps(paths, rows=()):
    print("\n| model | batch | ms/step | first step ms | images/s | GFLOP/s | dispatches/step |")
    print("|---|---|---|---|---|---|---|")
    all_rows = list(rows) + [r for p in paths for r in lines(p)]
    for r in all_rows:
        if "tricklab_ms_per_step" in r:
            print(f"| {r['model']} | {r['batch']} | {r['tricklab_ms_per_step']:.2f} | {r['tricklab_first_step_ms']:.0f} | "
                  f"{r['images_per_s']:.0f} | {r['gflop_per_s']:.0f} | {r['dispatches_per_step']} |")


def train(paths):
    print("\n| run | epochs done | test accuracy % per epoch | images/s (last epoch) |")
    print("|---|---|---|---|")
    for p in paths:
        rows = lines(p)
        accs = ", ".join(f"{r['test_acc'] * 100:.1f}" for r in rows)
        print(f"| {p.rsplit('/', 1)[-1]} | {len(rows)} | {accs} | {rows[-1]['images_per_sec']:.0f} |")


def main():
    args = sys.argv[1:]
    cut = args.index("--train") if "--train" in args else len(args)
    first, others, runs = args[0], args[1:cut], args[cut + 1:]
    bench(first)
    steps(others, [r for r in lines(first) if r.get("measurement") == "native step"])
    if runs:
        train(runs)


if __name__ == "__main__":
    main()
