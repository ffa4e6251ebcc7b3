"""Benchmark: training speed quiet vs loaded (default), and what init and TREESELECT change (``--variants``).

Usage (from the repository root)::

    python benchmarks/bench_training.py                # quiet vs loaded, digits + 6 real datasets (~5-8 min)
    python benchmarks/bench_training.py --quick        # the same with shorter caps (~2-3 min)
    python benchmarks/bench_training.py --threads 1 2  # ... for each thread count
    python benchmarks/bench_training.py --variants     # 6 variants x 1 seed, about 1-2 min
    python benchmarks/bench_training.py --variants --seeds 3

Each mode writes its table into its own section of ``docs/benchmarks.md``.

Default: quiet vs loaded, in the same run
    Threads: the project's policy (:mod:`multires.training.threads`, 1 unless ``MULTIRES_THREADS``) or
    ``--threads``; printed. Each measurement runs twice: *quiet* (the machine as it is; the load
    average is printed) and *loaded*, beside ``--burners`` (default 1) busy-looping Python
    processes (``benchmarks/_loadgen.py``).

    * **digits, time to 95 %**: what ``python -m multires.training --task digits`` trains
      (``TrainConfig()``, the CLI's defaults), with the test split as the validation split (see
      below); the time is the training time at the first epoch end with test accuracy >= 95 %
      (the run stops there). Target: loaded <= 1.5x quiet (PASS/FAIL).
    * **time per epoch** on ucr:GunPoint, ucr:ItalyPowerDemand, ucr:ArrowHead, ucr:OSULeaf,
      ucr:ACSF1 and smnist with ``TrainConfig()``: the median duration of whole epochs (training
      steps plus the end-of-epoch validation) over about 12 s of training (4 with ``--quick``;
      at least one epoch). smnist (3,500 sequences of 784) is timed on 512 of them: median step
      time x its 219 steps per epoch, validation not included, marked ``~``.

``--variants``: time to 95 % of six digits variants
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

    Variants (all the trainer's defaults: d_model 48, 2 layers, batch 16, lr 0.01, AdamW + warm-up
    + cosine): fading / Haar init (the default model); uniform M=8 / Haar init; learned
    TREESELECT M=8 / Haar init; fading / Haar frozen (the fixed-wavelet baseline); fading /
    random init; fading / random frozen (random fixed filters).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from multires.data.tasks import load_task  # noqa: E402
from multires.training import TrainConfig, TrainingWarning, train  # noqa: E402
from multires.training.threads import apply_thread_policy, resolve_threads  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import Burner, load_average  # noqa: E402
from _report import Report  # noqa: E402

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


def digits_for_test_accuracy():
    """digits with the test split as validation split (the per-epoch val metric is test accuracy)."""
    digits = load_task("digits", seed=0)
    return dataclasses.replace(digits, x_val=digits.x_test, y_val=digits.y_test)


def run_variants(args: argparse.Namespace) -> int:
    """The six digits variants' table (time to 95 %, final accuracy)."""
    task = digits_for_test_accuracy()
    train(task, TrainConfig(d_model=4, epochs=1, min_steps=0))  # warm-up: first-call costs are not training time

    defaults = TrainConfig()
    print(f"digits: {len(task.y_train)} train / {len(task.y_test)} test sequences of length {task.length}; "
          f"d_model {defaults.d_model}, {defaults.n_layers} layers, {defaults.epochs} epochs (>= {defaults.min_steps} steps), batch "
          f"{defaults.batch_size}, lr {defaults.lr}; budget {args.budget:g} s; torch threads "
          f"{torch.get_num_threads()}; seeds 0..{args.seeds - 1}; load average {load_average()}\n")
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


def time_to_target(task, cap_s: float) -> float | None:
    """Training seconds of ``TrainConfig()`` until the first epoch end at >= 95 % test accuracy (stops there)."""
    reached: list[float] = []

    def watch(p) -> bool:
        if p.val_metric is not None and p.val_metric >= TARGET:
            reached.append(p.elapsed)
            return True  # stop: the time is taken
        return False

    train(task, TrainConfig(max_seconds=cap_s, select_best=False), watch)
    return reached[0] if reached else None


#: Above this many training sequences, the epoch is timed on a subset (see :func:`epoch_time`).
SUBSET = 512


def _subset(task):
    """``task`` cut to ``SUBSET`` train, ``SUBSET // 8`` validation and 16 test sequences."""
    return dataclasses.replace(task, x_train=task.x_train[:SUBSET], y_train=task.y_train[:SUBSET],
                               x_val=task.x_val[: SUBSET // 8], y_val=task.y_val[: SUBSET // 8],
                               x_test=task.x_test[:16], y_test=task.y_test[:16])


def epoch_time(task, cap_s: float) -> tuple[float, bool]:
    """Median whole-epoch duration of ``TrainConfig()`` within ``cap_s`` s; (seconds, extrapolated).

    Tasks with more than ``SUBSET`` training sequences (smnist: 3,500 of length 784) train on a
    subset, and their epoch time is the median step time times the full task's steps per epoch
    (validation not included, marked extrapolated): a whole epoch, and the final evaluation
    :func:`train` does over all splits, would not fit in the benchmark's time.
    """
    full_steps = -(-len(task.y_train) // TrainConfig().batch_size)
    small = len(task.y_train) > SUBSET
    ends: list[float] = []
    steps: list[float] = []

    def watch(p) -> bool:
        steps.append(p.elapsed)
        if p.val_metric is not None:
            ends.append(p.elapsed)
        return (small or len(ends) >= 1) and p.elapsed >= cap_s

    with warnings.catch_warnings():  # short runs: BatchNorm statistics cannot converge, and that is fine here
        warnings.simplefilter("ignore", TrainingWarning)
        train(_subset(task) if small else task, TrainConfig(max_seconds=cap_s * 3), watch)  # the cap is a backstop
    if ends and not small:
        return statistics.median([b - a for a, b in zip([0.0, *ends], ends)]), False
    step_s = statistics.median([b - a for a, b in zip(steps, steps[1:])] or steps)
    return step_s * full_steps, True


REAL_DATASETS = ["ucr:GunPoint", "ucr:ItalyPowerDemand", "ucr:ArrowHead", "ucr:OSULeaf", "ucr:ACSF1", "smnist"]


def run_quiet_vs_loaded(args: argparse.Namespace) -> int:
    """Digits time to 95 % and real datasets' time per epoch, quiet and loaded, per thread count."""
    threads = args.threads or [resolve_threads(None)]
    policy = resolve_threads(None)
    digits = digits_for_test_accuracy()
    real = {name: load_task(name, seed=0) for name in REAL_DATASETS}
    apply_thread_policy(threads[0])
    train(digits, TrainConfig(d_model=4, epochs=1, min_steps=0))  # warm-up: first-call costs are not training time
    digits_cap, epoch_cap = (60.0, 4.0) if args.quick else (120.0, 12.0)
    print(f"TrainConfig() (the CLI's defaults); threads measured {threads} (policy: {policy}); 'loaded' = "
          f"{args.burners} busy process(es) beside; {os.cpu_count()} CPUs; load average at start {load_average()}"
          + (" [QUICK]" if args.quick else "") + "\n")
    results: dict = {}
    for count in threads:
        apply_thread_policy(count)
        for column in ("quiet", "loaded"):
            before = load_average()
            with Burner(args.burners if column == "loaded" else 0):
                t95 = time_to_target(digits, digits_cap)
                print(f"  threads={count} {column}: digits time to 95 % {t95}", file=sys.stderr, flush=True)
                epochs = {name: epoch_time(task, epoch_cap) for name, task in real.items()}
                print(f"  threads={count} {column}: epochs {epochs}", file=sys.stderr, flush=True)
            results[(count, column)] = {"t95": t95, "epochs": epochs, "load": (before, load_average())}
    return _report(threads, policy, results, digits_cap)


def _fmt_s(value: float | None, approx: bool = False) -> str:
    return "never" if value is None else f"{'~' if approx else ''}{value:.2f}"


def _report(threads: list[int], policy: int, results: dict, digits_cap: float) -> int:
    columns = [(c, col) for c in threads for col in ("quiet", "loaded")]
    print("| measurement (s) |" + "".join(f" {c} thr. {col} |" for c, col in columns))
    print("|---|" + "---:|" * len(columns))
    print(f"| digits: time to {TARGET:.0%} test acc. |"
          + "".join(f" {_fmt_s(results[k]['t95'])} |" for k in columns))
    for name in REAL_DATASETS:
        print(f"| {name}: time per epoch |" + "".join(f" {_fmt_s(*results[k]['epochs'][name])} |" for k in columns))
    print(f"\n~ = extrapolated: median step time x steps per epoch (smnist: timed on {SUBSET} of its sequences).")
    print("\nLoad average (1, 5, 15 min) before / after each column:\n")
    for (count, column), result in results.items():
        print(f"- {count} thread(s), {column}: {result['load'][0]} / {result['load'][1]}")
    if policy not in threads:
        return 0
    quiet, loaded = results[(policy, "quiet")]["t95"], results[(policy, "loaded")]["t95"]
    ok = quiet is not None and loaded is not None and loaded <= 1.5 * quiet
    ratio = f"{loaded / quiet:.2f}x" if quiet and loaded else f"not reached within {digits_cap:g} s"
    print(f"\nTarget (policy: {policy} thread(s)):\n\n- [{'PASS' if ok else 'FAIL'}] digits time to 95 %: "
          f"loaded / quiet = {ratio} <= 1.5x")
    for name in REAL_DATASETS:
        q, l = results[(policy, "quiet")]["epochs"][name][0], results[(policy, "loaded")]["epochs"][name][0]
        print(f"- {name}: epoch time loaded / quiet = {l / q:.2f}x")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", action="store_true", help="the six digits variants instead (time to 95 %%)")
    parser.add_argument("--quick", action="store_true", help="shorter caps, for a smoke run")
    parser.add_argument("--burners", type=int, default=1, help="busy processes beside the 'loaded' column (default 1)")
    parser.add_argument("--budget", type=float, default=20.0, help="--variants: seconds of training per run (default 20)")
    parser.add_argument("--seeds", type=int, default=1, help="--variants: seeds 0..N-1 per variant (default 1)")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="torch thread counts (default: the policy's, multires.training.threads; --variants uses the first)")
    args = parser.parse_args(argv)
    if args.variants:
        apply_thread_policy(args.threads[0] if args.threads else None)
        report = Report("training-variants")
        with report.capture():
            status = run_variants(args)
    else:
        report = Report("training-speed")
        with report.capture():
            status = run_quiet_vs_loaded(args)
    report.write()
    return status


if __name__ == "__main__":
    sys.exit(main())
