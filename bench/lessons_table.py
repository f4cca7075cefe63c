"""Writes the lessons table of bench/LESSONS.md from the output of `tricklab lesson NAME --seeds N`.

Each lesson's output is one JSON line per arm per seed, then a summary line (with "verdict");
this reads those files and prints, per lesson, each arm's value of the lesson's metric in every
seed with their mean and standard deviation, each arm's test accuracy, the images trained, the
seconds per seed, and the verdict sentence, as Markdown. A lesson that also reports a measurement
without judging it (no bias decay: the norms) gets a second table: every arm's and seed's norms of
the BN scales γ and shifts β before the first step and after each epoch. Nothing in the tables is
typed by hand.

Usage: python bench/lessons_table.py OUT_DIR/*.jsonl > table.md
"""

import json
import sys


def fmt(v, pct=False):
    return "diverged" if v is None else (f"{v:.2f}" if pct else f"{v:.3f}")


def main():
    for path in sys.argv[1:]:
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
