"""Benchmark: how fast the default digits model learns, and what init and TREESELECT change.

Usage (from the repository root)::

    python benchmarks/bench_training.py                # 6 variants x 1 seed, about 1-2 min
    python benchmarks/bench_training.py --seeds 3      # mean over seeds 0, 1, 2
    python benchmarks/bench_training.py --threads 1

What is measured
    Each variant is :func:`multires.training.train` on ``load_task("digits", seed=0)`` with a
    time budget of ``--budget`` seconds (``TrainConfig.max_seconds``, default 20): the run ends
    after its budget in steps (the default: 15 epochs, at least 300 steps; digits has 79 steps per
    epoch) or at the time budget, whichever comes first (the learning rate anneals to ~0 either
    way). To see the *test* accuracy at every epoch's end without touching the trainer, the
    benchmark hands ``train`` a copy of the task whose validation split is the test split, so
    ``Progress.val_metric`` at an epoch's end is the test accuracy then; *time to 95 %* is the
    training time (``Progress.elapsed``: the loop, including those evaluations; model build
    excluded) at the first epoch end with test accuracy >= 95 %. Because validation *is* the test
    split here, best-epoch selection is switched off (``select_best=False``): *final* is the test
    accuracy of the last epoch's model, never one picked by its test score.

Variants (all the trainer's defaults: d_model 48, 2 layers, batch 16, lr 0.01, AdamW + warm-up + cosine)
    fading / Haar init (the default model); uniform M=8 / Haar init; learned TREESELECT M=8 / Haar
    init; fading / Haar frozen (the fixed-wavelet baseline); fading / random init; fading / random
    frozen (random fixed filters).

Threads: ``--threads`` (default: what the app uses, ``min(2, cpu_count)``), printed. On a loaded
machine one thread can be much faster than two (OpenMP threads wait on each other).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from multires.tasks import load_task  # noqa: E402
from multires.training import TrainConfig, train  # noqa: E402

TARGET = 0.95
VARIANTS = [
    ("fading, Haar init (default)", dict()),
    ("uniform M=8, Haar init", dict(tree_select="uniform", memory_size=8)),
    ("learned M=8, Haar init", dict(tree_select="learned", memory_size=8)),
    ("fading, Haar frozen", dict(freeze_filters=True)),
    ("fading, random init", dict(wavelet=None)),
    ("fading, random frozen", dict(wavelet=None, freeze_filters=True)),
]


def run(task, overrides: dict, seed: int, budget: float) -> dict:
    """One training run; returns time/epochs to TARGET (None if never), final accuracy, time."""
    config = TrainConfig(**overrides, seed=seed, max_seconds=budget, select_best=False)  # val is test here
    reached: dict[str, float] = {}

    def watch(p) -> bool:
        if p.val_metric is not None and p.val_metric >= TARGET and "time" not in reached:
            reached.update(time=p.elapsed, epochs=p.epoch + 1)
        return False

    start = time.perf_counter()
    result = train(task, config, watch)
    return {
        "time_to_target": reached.get("time"),
        "epochs_to_target": reached.get("epochs"),
        "final": result.test["accuracy"],
        "train_time": result.train_time,
        "wall_time": time.perf_counter() - start,
        "epochs_done": result.epochs_done,
        "stopped": result.stopped,
        "params": result.net.n_parameters(),
    }


def _fmt_time(values: list[float | None]) -> str:
    hits = [v for v in values if v is not None]
    if not hits:
        return "never"
    text = f"{statistics.mean(hits):.1f}"
    return text if len(hits) == len(values) else f"{text} ({len(hits)}/{len(values)} runs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Digits training benchmark (time to 95 %, init, TREESELECT).")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of training per run (default 20)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per variant (default 1)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    digits = load_task("digits", seed=0)
    # Validation split := test split, so the per-epoch validation metric is the test accuracy.
    task = dataclasses.replace(digits, x_val=digits.x_test, y_val=digits.y_test)
    train(task, TrainConfig(d_model=4, epochs=1, min_steps=0))  # warm-up: first-call costs are not training time

    defaults = TrainConfig()
    print(f"digits: {len(digits.y_train)} train / {len(digits.y_test)} test sequences of length {digits.length}; "
          f"d_model {defaults.d_model}, {defaults.n_layers} layers, {defaults.epochs} epochs (>= {defaults.min_steps} steps), batch "
          f"{defaults.batch_size}, lr {defaults.lr}; budget {args.budget:g} s; torch threads "
          f"{torch.get_num_threads()}; seeds 0..{args.seeds - 1}; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    print(f"| variant | time to {TARGET:.0%} test acc. (s) | epochs to {TARGET:.0%} | final test acc. "
          "| training time (s) | epochs done | parameters |")
    print("|---|---|---|---|---|---|---|")
    for name, overrides in VARIANTS:
        runs = [run(task, overrides, seed, args.budget) for seed in range(args.seeds)]
        finals = [r["final"] for r in runs]
        final = f"{100 * statistics.mean(finals):.1f} %"
        if len(finals) > 1:
            final += f" ({100 * min(finals):.1f}-{100 * max(finals):.1f})"
        epochs = [r["epochs_to_target"] for r in runs if r["epochs_to_target"] is not None]
        done = statistics.mean(r["epochs_done"] for r in runs)
        budget_note = " (budget hit)" if any(r["stopped"] for r in runs) else ""
        print(f"| {name} | {_fmt_time([r['time_to_target'] for r in runs])} "
              f"| {statistics.mean(epochs):.1f} | {final} " if epochs else
              f"| {name} | never | - | {final} ", end="")
        print(f"| {statistics.mean(r['train_time'] for r in runs):.1f} | {done:g}{budget_note} | {runs[0]['params']:,} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
