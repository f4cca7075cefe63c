"""Each kernel variant's GFLOP/s in one `cargo xtask bench-gpu` run against another's, pass by
pass and shape by shape: the median, lowest and highest ratio (second run / first), and the whole
steps side by side. For before/after checks of a change to the kernels on the same adapter.

Usage: python bench/compare_kernels.py BEFORE.jsonl AFTER.jsonl
"""

import json
import statistics
import sys


def rows(path):
    return [json.loads(l) for l in open(path) if l.startswith("{")]


def main():
    before, after = rows(sys.argv[1]), rows(sys.argv[2])
    kernels = lambda rs: {(r["pass"], r["shape"]): r["gflop_per_s"] for r in rs if r.get("measurement") == "kernel"}
    a, b = kernels(before), kernels(after)
    print("| variant | pass × shape pairs | median after/before | lowest | highest |")
    print("|---|---|---|---|---|")
    for v in ["register", "register-8x8", "register-16x8", "register-16x16", "wide", "tiled", "subgroup"]:
        r = [b[k][v] / a[k][v] for k in a if k in b and a[k].get(v) and b[k].get(v)]
        if r:
            print(f"| {v} | {len(r)} | {statistics.median(r):.3f} | {min(r):.2f} | {max(r):.2f} |")
    steps = lambda rs: {r["model"]: r["tricklab_ms_per_step"] for r in rs if "tricklab_ms_per_step" in r}
    sa, sb = steps(before), steps(after)
    print("\n| model | ms/step before | ms/step after | after/before |")
    print("|---|---|---|---|")
    for m in sa:
        if m in sb:
            print(f"| {m} | {sa[m]:.2f} | {sb[m]:.2f} | {sb[m] / sa[m]:.3f} |")


if __name__ == "__main__":
    main()
