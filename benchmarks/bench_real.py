"""Benchmark: MultiresConv on real sequences vs aeon's MiniRocket and 1-NN DTW, same splits, same run.

Usage (from the repository root)::

    python benchmarks/bench_real.py                                    # every dataset, 3 seeds (hours)
    python benchmarks/bench_real.py --datasets ucr:ItalyPowerDemand,ucr:GunPoint --seeds 0
    python benchmarks/bench_real.py --baselines-only                   # refresh assets/studies/baselines.csv

    python benchmarks/bench_real.py --quick --datasets ucr:ArrowHead,ucr:GunPoint   # recipe + baselines only

    # runs made separately (other datasets, or at other times), then one joined report
    python benchmarks/bench_real.py --quick --datasets ucr:ItalyPowerDemand,ucr:GunPoint,ucr:ArrowHead --out artifacts/bench_real/a
    python benchmarks/bench_real.py --quick --datasets ucr:OSULeaf,ucr:ACSF1 --out artifacts/bench_real/b
    python benchmarks/bench_real.py --report-only --out artifacts/bench_real/a --also artifacts/bench_real/b

Run one at a time: on the 2-core machine of docs/benchmarks.md, two fits side by side (one core each)
took 4-7 times as long as one alone, so parallel runs save no time and make the fit times meaningless.
One quiet pass over the five UCR sets, three seeds, takes about 70 minutes there (ACSF1 about 13 min a
seed, the other four together about 9 min a seed: the cross-validation trains every fold at three tree depths).

What is measured, per dataset (every bundled UCR dataset, smnist, psmnist) and seed
    * ``fading``: the default recipe, :func:`multires.training.fit` with ``TrainConfig()`` (what
      ``multires-train`` runs: cross-validation on the training split chooses the tree depth and
      the epoch budget, refit on all of it; holdout on the MNIST tasks, see multires/training/recipe.py), the test
      split scored once at the end; ``--quick`` measures only this row and the baselines;
    * ``learned``: the same recipe with ``tree_select="learned", memory_size=--learned-memory``
      (M=8 was the better learned budget of the shipped UCR study, assets/studies/ucr.csv);
    * ``uniform@D``: uniform with M = D, the distinct coefficients per layer the learned model
      ended with (rounded), so hand-made rules get the learned layer's budget counted per layer;
    * ``MiniRocket`` (aeon, 10,000 kernels, seeded) and ``1-NN DTW`` (aeon, full window on UCR;
      on smnist/psmnist a Sakoe-Chiba window of ``--dtw-window`` and a stratified subsample of
      ``--dtw-max-train`` fit / ``--dtw-max-test`` test series, because full DTW over 5,000 series
      of length 784 takes hours on 2 cores). Baselines fit on train + validation (the official
      train split for UCR) and are scored once on the test split; nothing is tuned on test.
    Times are wall-clock seconds in this process (fit and predict for baselines; training and
    evaluation for MultiresConv), the thread policy's torch threads (one unless ``MULTIRES_THREADS``; ``--threads``). MiniRocket's first fit in a
    fresh environment includes numba's compilation; a warm-up fit on a tiny task runs first.

Targets (issue 22; PASS/FAIL printed, with the numbers and the ratios)
    1. MultiresConv (the default recipe) >= 1-NN DTW on every UCR dataset (mean over seeds);
    2. mean gap to MiniRocket over the UCR datasets <= 5 points;
    3. psMNIST >= MiniRocket and sMNIST >= .97 (when those tasks are measured);
    4. ArrowHead: the default recipe within 5 minutes per seed (wall time of fit());
    5. learned >= the better of fading and uniform@D (equal distinct coefficients per layer; not with --quick).
    Each row also records the run-cost estimate printed before it (``estimate_s``) and the machine's
    load average, so wall times can be read against the estimate.

Writes ``artifacts/bench_real/results.csv``, ``summary.json`` and the means table into
``docs/benchmarks.md``; baseline rows also go to
``assets/studies/baselines.csv`` (merged: rows of other datasets are kept), which the Study and
Compare pages draw as reference lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from multires.data.baselines import dtw_1nn, minirocket  # noqa: E402
from multires.data.tasks import UCR_DATASETS, load_task  # noqa: E402
from multires.study.trial import memory_budget  # noqa: E402
from multires.training import TrainConfig, fit, plan_run  # noqa: E402
from multires.training.threads import apply_thread_policy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Report, markdown_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINES_CSV = ROOT / "assets" / "studies" / "baselines.csv"
MNIST_TASKS = ("smnist", "psmnist")
MINIROCKET_GAP = 0.05  # target 2: mean gap to MiniRocket at most 5 points
SMNIST_TARGET = 0.97
ARROWHEAD_SECONDS = 300.0


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=None,
                   help="comma-separated task names (default: every ucr:<Name>, smnist, psmnist)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--learned-memory", type=int, default=8, help="M of the learned setting (default 8)")
    p.add_argument("--dtw-window", type=float, default=0.1, help="Sakoe-Chiba window on smnist/psmnist")
    p.add_argument("--dtw-max-train", type=int, default=500, help="DTW fit series on smnist/psmnist")
    p.add_argument("--dtw-max-test", type=int, default=250, help="DTW test series on smnist/psmnist")
    p.add_argument("--baselines-only", action="store_true", help="measure only MiniRocket and 1-NN DTW")
    p.add_argument("--quick", action="store_true", help="only the default recipe and the baselines (no learned/uniform)")
    p.add_argument("--config", default="{}", help="JSON of TrainConfig options for the recipe rows (default: {})")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: the thread policy, multires.training.threads: 1 unless MULTIRES_THREADS)")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "bench_real"))
    p.add_argument("--also", default="",
                   help="comma-separated output directories of other bench_real runs (e.g. run in parallel on other "
                        "datasets) whose results.csv rows join this run's summary (rows of datasets measured here win)")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: summarise the results.csv of --out and --also and write the report")
    p.add_argument("--baselines-csv", default=str(BASELINES_CSV),
                   help="where baseline rows are merged (default assets/studies/baselines.csv); '' to skip")
    args = p.parse_args()
    known = tuple(f"ucr:{n}" for n in UCR_DATASETS) + MNIST_TASKS
    args.datasets = known if args.datasets is None else tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    unknown = [d for d in args.datasets if d not in known]
    if unknown:
        p.error(f"unknown dataset(s) {unknown}; allowed: {', '.join(known)}")
    try:
        args.seeds = tuple(int(s) for s in args.seeds.split(","))
    except ValueError:
        p.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    return args


def _model_row(task, config: TrainConfig, method: str, seed: int) -> dict:
    plan = plan_run(task, config)  # what multires-train prints: a few steps timed first
    estimate = plan.seconds
    load = os.getloadavg()[0]
    result = fit(task, config, plan=plan)
    net = result.net.members[0] if hasattr(result.net, "members") else result.net
    return {"task": task.name, "method": method, "seed": seed, "accuracy": float(result.test["metric"]),
            "fit_s": result.wall_time, "estimate_s": estimate, "load_avg_1min": load, "predict_s": None,
            **memory_budget(net), "n_parameters": result.net.n_parameters(),
            "steps": sum(m.steps for m in result.members), "protocol": result.protocol.name,
            "budget_epochs": result.budget_epochs}


def _baseline_rows(task, name: str, seed: int, args: argparse.Namespace, with_dtw: bool) -> list[dict]:
    rows = [{"task": name, "method": "MiniRocket", "seed": seed, **minirocket(task, seed=seed), "window": None}]
    if with_dtw:  # deterministic: once per dataset
        mnist = name in MNIST_TASKS
        dtw = dtw_1nn(task, window=args.dtw_window if mnist else None,
                      max_train=args.dtw_max_train if mnist else None, max_test=args.dtw_max_test if mnist else None)
        rows.append({"task": name, "method": "1-NN DTW", "seed": seed, **dtw})
    return rows


def _warm_up() -> None:
    """Compile MiniRocket's numba kernels on a tiny task so its timings are fits, not compilation."""
    task = load_task("ucr:ItalyPowerDemand", seed=0)
    minirocket(task, seed=0, n_kernels=84)


def _flush(rows: list[dict], out: Path) -> None:
    """Write the rows measured so far (a run stopped part-way keeps its finished datasets and seeds)."""
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)


def _joined(table: pd.DataFrame, dirs: list[Path]) -> pd.DataFrame:
    """``table`` plus the rows of other runs' results.csv for datasets ``table`` does not hold."""
    parts = [table]
    for d in dirs:
        other = pd.read_csv(d / "results.csv")
        parts.append(other[~other["task"].isin(set().union(*(set(p["task"]) for p in parts)))])
    return pd.concat(parts, ignore_index=True)


def run(args: argparse.Namespace) -> pd.DataFrame:
    rows: list[dict] = []
    for i, seed in enumerate(args.seeds):  # seed-major: a run stopped early holds every dataset's first seeds
        for name in args.datasets:
            if rows:  # what the earlier seeds and datasets measured survives a stopped run
                _flush(rows, Path(args.out))
            task = load_task(name, seed=seed)
            rows += _baseline_rows(task, name, seed, args, with_dtw=i == 0)
            _report(rows[-2 if i == 0 else -1:])
            if args.baselines_only:
                continue
            options = json.loads(args.config)
            fading = _model_row(task, TrainConfig(seed=seed, **options), "MultiresConv fading", seed)
            if args.quick:
                rows.append(fading)
                _report(rows[-1:])
                continue
            learned = _model_row(task, TrainConfig(seed=seed, tree_select="learned", memory_size=args.learned_memory),
                                 f"MultiresConv learned M={args.learned_memory}", seed)
            distinct = max(1, int(round(learned["distinct_slots_mean"])))
            uniform = _model_row(task, TrainConfig(seed=seed, tree_select="uniform", memory_size=distinct),
                                 "MultiresConv uniform@D", seed)
            rows += [fading, learned, uniform]
            _report(rows[-3:])
    return pd.DataFrame(rows)


def _report(rows: list[dict]) -> None:
    for r in rows:
        print(f"  {r['task']:<22} seed {r['seed']}  {r['method']:<28} acc {r['accuracy']:.4f}  "
              f"fit {r['fit_s']:.1f} s" + (f"  predict {r['predict_s']:.1f} s" if r.get("predict_s") else ""),
              flush=True)


def summarise(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Mean accuracy per dataset and method, the differences, and the three targets."""
    means = table.pivot_table(index="task", columns="method", values="accuracy", aggfunc="mean")
    verdict: dict = {}
    if "MultiresConv fading" not in means:
        return means, verdict
    means["fading - DTW"] = means["MultiresConv fading"] - means["1-NN DTW"]
    means["fading - MiniRocket"] = means["MultiresConv fading"] - means["MiniRocket"]
    means["fading / DTW"] = means["MultiresConv fading"] / means["1-NN DTW"]
    means["fading / MiniRocket"] = means["MultiresConv fading"] / means["MiniRocket"]
    ucr = [t for t in means.index if t.startswith("ucr:")]
    if ucr:
        verdict["1: >= 1-NN DTW on every UCR dataset"] = bool((means.loc[ucr, "fading - DTW"] >= 0).all())
        gap = -float(means.loc[ucr, "fading - MiniRocket"].mean())
        verdict[f"2: mean gap to MiniRocket <= 5 points (measured {100 * gap:.1f})"] = gap <= MINIROCKET_GAP
    if "psmnist" in means.index:
        verdict["3a: psMNIST >= MiniRocket"] = bool(means.loc["psmnist", "fading - MiniRocket"] >= 0)
    if "smnist" in means.index:
        verdict[f"3b: sMNIST >= {SMNIST_TARGET}"] = bool(means.loc["smnist", "MultiresConv fading"] >= SMNIST_TARGET)
    arrow = table[(table["task"] == "ucr:ArrowHead") & (table["method"] == "MultiresConv fading")]
    if len(arrow):
        verdict[f"4: ArrowHead within 5 min per seed (max {arrow['fit_s'].max():.0f} s)"] = bool(
            (arrow["fit_s"] <= ARROWHEAD_SECONDS).all())
    learned = next((c for c in means.columns if c.startswith("MultiresConv learned")), None)
    if learned is not None:
        means["learned - best hand-made@D"] = means[learned] - means[["MultiresConv fading",
                                                                      "MultiresConv uniform@D"]].max(axis=1)
        verdict["5: learned >= better hand-made rule at equal distinct coefficients"] = bool(
            (means["learned - best hand-made@D"] >= 0).all())
    return means, verdict


def _save_baselines(table: pd.DataFrame, path: Path) -> None:
    """Merge this run's baseline rows into ``path``: rows of the datasets measured now are replaced."""
    cols = ["task", "method", "seed", "accuracy", "fit_s", "predict_s", "n_train", "n_test", "window"]
    baselines = table.loc[table["method"].isin(["MiniRocket", "1-NN DTW"]), cols]
    if path.exists():
        old = pd.read_csv(path)
        baselines = pd.concat([old[~old["task"].isin(set(baselines["task"]))], baselines], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    baselines.to_csv(path, index=False, float_format="%.6g")


def _short(task: str) -> str:
    return task[4:] if task.startswith("ucr:") else task


def _seeds_per_dataset(table: pd.DataFrame) -> str:
    mine = table[table["method"] == "MultiresConv fading"]
    return ", ".join(f"{_short(t)} {sorted(int(v) for v in g['seed'])}" for t, g in mine.groupby("task"))


def _loads(table: pd.DataFrame) -> str:
    loads = table.loc[table["method"] == "MultiresConv fading", "load_avg_1min"].dropna()
    return f"{loads.min():.1f}-{loads.max():.1f}" if len(loads) else "(not recorded)"


def _fit_times(table: pd.DataFrame) -> str:
    """Mean wall time of the default recipe's fit per dataset, in words."""
    times = table[table["method"] == "MultiresConv fading"].groupby("task")["fit_s"].mean()
    return ", ".join(f"{_short(t)} {v:.0f} s" for t, v in times.items())


def main() -> int:
    args = _args()
    report = Report("real")
    threads = apply_thread_policy(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    start = time.perf_counter()
    out = Path(args.out)
    if args.report_only:
        table = pd.read_csv(out / "results.csv")
        args.seeds = tuple(sorted(int(s) for s in table["seed"].unique()))
    else:
        print(f"datasets {', '.join(args.datasets)}; seeds {args.seeds}; threads {torch.get_num_threads()}")
        _warm_up()
        table = run(args)
        _flush(table.to_dict("records"), out)
    table = _joined(table, [Path(d) for d in args.also.split(",") if d.strip()])
    args.datasets = tuple(table["task"].unique())
    if args.baselines_csv and not args.report_only:
        _save_baselines(table, Path(args.baselines_csv))
    means, verdict = summarise(table)
    print("\nMean test accuracy over seeds (differences in accuracy, 0.01 = 1 point):")
    print(means.round(4).to_string())
    for target, ok in verdict.items():
        print(f"{'PASS' if ok else 'FAIL'}  {target}")
    summary = {"datasets": list(args.datasets), "seeds": list(args.seeds), "wall_time_s": time.perf_counter() - start,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.node(),
               "cpu_count": os.cpu_count(), "load_average_at_end": os.getloadavg(), "quick": args.quick,
               "means": json.loads(means.to_json(orient="index")), "targets": verdict}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    lines = [f"# bench_real {summary['date']} on {summary['machine']} ({summary['cpu_count']} CPUs, load average "
             f"at the end {', '.join(f'{v:.1f}' for v in summary['load_average_at_end'])}); seeds {list(args.seeds)}", "",
             "```", means.round(4).to_string(), "```", ""] + [f"* {'PASS' if ok else 'FAIL'} {t}" for t, ok in verdict.items()]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print(f"\nwall time {summary['wall_time_s']:.0f} s; wrote {out}/results.csv, summary.json" +
          (f" and {args.baselines_csv}" if args.baselines_csv and not args.report_only else ""))
    report.write(
        markdown_table(("dataset", *means.columns), [(task, *(f"{v:.3f}" for v in row))
                                                    for task, row in means.iterrows()], "l" + "r" * len(means.columns)),
        f"Mean test accuracy over the seeds measured (differences: 0.01 = 1 point); seeds of the default recipe "
        f"per dataset: {_seeds_per_dataset(table)}; its mean fit times (cross-validation and refit) "
        f"{_fit_times(table)}, at a 1-minute load average of {_loads(table)} when each fit started "
        f"(a load above the machine's {os.cpu_count()} cores means it was shared and the times are longer than on a "
        f"quiet one; on this 2-core machine two fits side by side took 4-7 times as long as one alone).",
        "\n".join(f"- {'PASS' if ok else 'FAIL'}: {target}" for target, ok in verdict.items()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
