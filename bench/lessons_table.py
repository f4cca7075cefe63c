"""Writes the lessons table of bench/LESSONS.md from the output of `tricklab lesson NAME --seeds N`.

Each lesson's output is one JSON line per arm per seed, then a summary line (with "verdict");
this reads those files and prints, per lesson, each arm's value of the lesson's metric in every
seed with their mean and standard deviation, each arm's test accuracy, the images trained, the
seconds per seed, and the verdict sentence, as Markdown. A lesson that also reports a measurement
without judging it (no bias decay: the norms) gets a second table: every arm's and seed's norms of
the BN scales γ and shifts β before the first step and after each epoch. Nothing in the tables is
typed by hand.

Usage: python bench/lessons_table.py [--paired] OUT_DIR/*.jsonl > table.md\n(--paired adds each pair of arms' paired difference: mean, 95% t interval, sign test.)
"""

import json
import math
import sys


def t_cdf(t, df):
    """Student's t distribution function, by Simpson's rule on its density (enough digits here)."""
    if t < 0:
        return 1.0 - t_cdf(-t, df)
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    n = 2000
    h = t / n
    f = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    s = f(0) + f(t) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n))
    return 0.5 + s * h / 3


def t_quantile(p, df):
    lo, hi = 0.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def paired(summary):
    """Every pair of arms over the seeds: the mean paired difference with its 95% t interval, how
    many seeds went each way, and the two-sided sign test's p-value."""
    arms = summary["arms"]
    out = []
    for i in range(len(arms)):
        for j in range(i):
            a, b = arms[i], arms[j]
            d = [x - y for x, y in zip(a["values"], b["values"]) if x is not None and y is not None]
            n = len(d)
            if n < 2:
                continue
            mean = sum(d) / n
            sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
            half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
            up, down = sum(x > 0 for x in d), sum(x < 0 for x in d)
            m, k = up + down, min(up, down)
            p = min(1.0, 2 * sum(math.comb(m, r) for r in range(k + 1)) / 2 ** m) if m else 1.0
            out.append(f"| {a['name']} − {b['name']} | {mean:+.3f} | [{mean - half:+.3f}, {mean + half:+.3f}] | "
                       f"{up} up, {down} down | {p:.4f} |")
    return out


def fmt(v, pct=False):
    return "diverged" if v is None else (f"{v:.2f}" if pct else f"{v:.3f}")


def main():
    for path in [a for a in sys.argv[1:] if not a.startswith('--')]:
        lines = [json.loads(l) for l in open(path) if l.startswith("{")]
        summary = next(l for l in lines if "verdict" in l)
        arms = [l for l in lines if "verdict" not in l]
        seeds = summary["seeds"]
        secs = {}
        for a in arms:
            secs[a["seed"]] = secs.get(a["seed"], 0.0) + a["seconds"]
        print(f"### `{summary['lesson']}`: {summary['metric']}")
        print()
        print(f"{summary['training_images']:,} training images per seed; training time per seed "
              + ", ".join(f"{secs[s]:.0f} s" for s in seeds) + f" (seeds {', '.join(map(str, seeds))}).")
        print()
        print("| arm | " + " | ".join(f"seed {s}" for s in seeds) + " | mean ± sd | test accuracy % per seed |")
        print("|---|" + "---|" * len(seeds) + "---|---|")
        for a in summary["arms"]:
            vals = " | ".join(fmt(v) for v in a["values"])
            accs = ", ".join(fmt(v, True) for v in a["test_acc"])
            print(f"| {a['name']} | {vals} | {fmt(a['mean'])} ± {fmt(a['std'])} | {accs} |")
        print()
        if summary.get("reported"):
            print_norms(summary, arms)
        print(f"Verdict ({summary['held']} of {len(seeds)} seeds): {summary['verdict']}")
        if "--paired" in sys.argv:
            print()
            print("| paired difference | mean | 95% interval (t) | seeds | sign test p |")
            print("|---|---|---|---|---|")
            print("\n".join(paired(summary)))
        print()


def print_norms(summary, arms):
    """Every arm's and seed's γ and β norms, before the first step and after each epoch."""
    epochs = max(len(a["epoch_norms"]) for a in arms)
    after = " | ".join(f"after epoch {e}" for e in range(1, epochs + 1))
    print(f"Also measured, not judged: the {summary['reported']}, and of all BN β, before the first step "
          "and after each epoch.")
    print()
    print(f"| arm | seed | norm | start | {after} |")
    print("|---|---|---|---|" + "---|" * epochs)
    for a in sorted(arms, key=lambda a: (a["arm"], a["seed"])):
        for key, sym in (("gamma", "γ"), ("beta", "β")):
            norms = " | ".join(f"{e[key]:.3f}" for e in a["epoch_norms"])
            print(f"| {a['name']} | {a['seed']} | {sym} | {a['start_norms'][key]:.3f} | {norms} |")
    print()


if __name__ == "__main__":
    main()
