"""Regenerate the models that ship with the app: ``assets/models/*.safetensors`` + index + table.

Usage (from the repository root)::

    python scripts/make_pretrained.py                 # every model, ~2-4 min on a 2-core CPU
    python scripts/make_pretrained.py --only digits-learned8-haar

Every model is trained by :func:`multires.training.train` with a fixed seed on the task split of
seed 0 (the split the app uses), on one CPU thread (so the weights do not depend on the core
count), and saved as one self-contained checkpoint. Alongside, ``index.json`` lists every model
(machine readable) and ``MODELS.md`` is the same as a markdown table.

The set is chosen for comparisons the app shows:

* digits x {fading, uniform M=8, learned M=8} x {filters learned from Haar init, Haar frozen}
  (learned TREESELECT only with learned filters), plus fading from random init;
* signals (Donoho-Johnstone classes, length 1024): fading, Haar init;
* memory (white-noise recall, length 256): fading, uniform and learned at the same M = J + 1 = 9;
* GunPoint (UCR, 150-sample hand-movement recordings, 2 classes: gun drawn or finger pointed; the
  archive's own train/test split): {fading, uniform M=9, learned M=9} x {filters learned from Haar,
  frozen at Haar, learned from a random start} -- the real-data models the explorer pages open on;
* psMNIST (length 784): the same nine, M = 11.

The psMNIST models are trained by the recipe ``multires-train`` runs (:func:`multires.training.fit`:
the best epoch on the 500 validation digits; the test split is read once, at the end); the GunPoint
ones by one run each (the best epoch on a validation carve of the training split).

``--only-task ucr:GunPoint`` regenerates one task's models.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from multires.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from multires.data.tasks import load_task  # noqa: E402
from multires.training import TrainConfig, fit, train  # noqa: E402

OUT_DIR = ROOT / "assets" / "models"
TASK_SEED = 0  # the app's split (ui.train_data.TASK_SEED)
SEED = 0
MAX_MODEL_BYTES = 2**20
# digits: 1 + 2 levels coarse-to-fine on the uniform grid (a6, b6, b5 x2, b4 x4) = 8 slots.
DIGITS_M = 8
# GunPoint (length 150, k = 2): depth J = 8, so fading keeps 9 slots; uniform/learned get the same.
GUNPOINT_M = 9
# psMNIST (length 784, k = 2): depth J = 10, so fading keeps 11 slots; uniform/learned get the same.
PSMNIST_M = 11
#: The three filter starts of the real-data models: (wavelet, frozen, file suffix, words).
_STARTS = (("haar", False, "haar", "filters learned from Haar init"),
           ("haar", True, "haar-frozen", "Haar filters kept fixed"),
           (None, False, "random", "filters learned from a random start"))
# memory (length 256, Haar): depth J = 8, so fading keeps J + 1 = 9 slots; uniform/learned get the same.
MEMORY_M = 9


@dataclass(frozen=True)
class Spec:
    name: str  # file stem, shown as the model's name in the app
    task: str
    config: TrainConfig
    description: str
    recipe: bool = False  # train with multires.fit (the CLI's recipe: protocol, refit) instead of one run


def _every_rule_and_start(stem: str, task: str, m: int, *, recipe: bool, words: str, **train) -> list[Spec]:
    """``task`` as fading, uniform M=m and learned M=m x filters learned from Haar, frozen at Haar, random."""
    specs = []
    for select, memory in (("fading", None), ("uniform", m), ("learned", m)):
        label = select if memory is None else f"{select}{memory}"
        for wavelet, frozen, suffix, how in _STARTS:
            specs.append(Spec(
                f"{stem}-{label}-{suffix}", task,
                TrainConfig(tree_select=select, memory_size=memory, wavelet=wavelet, freeze_filters=frozen,
                            seed=SEED, **train),
                f"{words}, {select} TREESELECT" + (f" with {memory} slots" if memory else "") + f", {how}",
                recipe=recipe,
            ))
    return specs


def _specs() -> list[Spec]:
    digits = dict(epochs=15, seed=SEED)
    specs = []
    for select, memory in (("fading", None), ("uniform", DIGITS_M)):
        for frozen in (False, True):
            label = select if memory is None else f"{select}{memory}"
            specs.append(Spec(
                f"digits-{label}-haar" + ("-frozen" if frozen else ""), "digits",
                TrainConfig(tree_select=select, memory_size=memory, wavelet="haar", freeze_filters=frozen, **digits),
                f"Digits, {select} TREESELECT, Haar filters " + ("kept fixed" if frozen else "learned from Haar init"),
            ))
    specs.append(Spec(
        f"digits-learned{DIGITS_M}-haar", "digits",
        TrainConfig(tree_select="learned", memory_size=DIGITS_M, wavelet="haar", **digits),
        f"Digits, learned TREESELECT (M={DIGITS_M}, as uniform), filters learned from Haar init",
    ))
    specs.append(Spec(
        "digits-fading-random", "digits", TrainConfig(tree_select="fading", wavelet=None, **digits),
        "Digits, fading TREESELECT, filters learned from random init (k=2)",
    ))
    specs.append(Spec(
        "signals-fading-haar", "signals", TrainConfig(tree_select="fading", wavelet="haar", epochs=8, seed=SEED),
        "Signals (8 Donoho-Johnstone classes, length 1024), fading, filters learned from Haar init",
    ))
    for select, memory in (("fading", None), ("uniform", MEMORY_M), ("learned", MEMORY_M)):
        label = select if memory is None else f"{select}{memory}"
        specs.append(Spec(
            f"memory-{label}-haar", "memory",
            TrainConfig(tree_select=select, memory_size=memory, wavelet="haar", epochs=8, seed=SEED),
            f"White-noise recall (length 256, lags 1..128), {select} TREESELECT with {MEMORY_M} slots, Haar init",
        ))
    # The TREESELECT comparison of benchmarks/bench_treeselect.py: filters frozen at Haar and a narrow
    # single block, so the choice of kept coefficients is the only difference between the three.
    narrow = dict(wavelet="haar", freeze_filters=True, d_model=8, n_layers=1, norm="layer", epochs=15,
                  batch_size=64, lr=3e-3, seed=SEED)
    for select, memory in (("fading", None), ("uniform", MEMORY_M), ("learned", MEMORY_M)):
        label = select if memory is None else f"{select}{memory}"
        specs.append(Spec(
            f"memory-{label}-haar-frozen-narrow", "memory",
            TrainConfig(tree_select=select, memory_size=memory, **narrow),
            f"White-noise recall, {select} TREESELECT with {MEMORY_M} slots, Haar frozen, 8 channels x 1 block: "
            "only the kept coefficients differ",
        ))
    # Real data: every rule x every filter start. GunPoint: the app's default explorer models, one run each
    # (the best validation epoch; made before the recipe existed and kept so the app's defaults stay put).
    # psMNIST (length 784, J = 10: fading keeps 11 slots, uniform/learned get the same): trained by the recipe
    # (best epoch on the 500 validation digits) at a size that keeps the nine runs to about 15 minutes on one
    # thread; the long-cpu preset (benchmarks/bench_long.py) trains longer.
    specs += _every_rule_and_start("gunpoint", "ucr:GunPoint", GUNPOINT_M, recipe=False,
                                   words="GunPoint (hand movements: gun drawn or finger pointed, 150 samples)")
    specs += _every_rule_and_start("psmnist", "psmnist", PSMNIST_M, recipe=True,
                                   words="psMNIST (handwritten digits read pixel by pixel in a fixed shuffled "
                                         "order, 784 samples)",
                                   d_model=32, n_layers=2, epochs=6, min_steps=0, batch_size=32)
    return specs


def _row(spec: Spec, metrics: dict, size: int) -> dict:
    config = spec.config
    return {
        "name": spec.name,
        "file": f"{spec.name}.safetensors",
        "task": spec.task,
        "description": spec.description,
        "tree_select": config.tree_select,
        "memory_size": config.memory_size,
        "wavelet": config.wavelet or "random",
        "frozen": config.freeze_filters,
        "metric_name": metrics["metric_name"],
        "test_metric": metrics["test_metric"],
        "n_parameters": metrics["n_parameters"],
        "memory_slots_per_step": metrics["memory_slots_per_step"],
        "d_model": config.d_model,
        "n_layers": config.n_layers,
        "epochs": config.epochs,
        "seed": config.seed,
        "train_time_s": metrics["train_time_s"],
        "size_bytes": size,
    }


def _parameters(row: dict) -> str:
    trained = row.get("n_parameters_trained", row["n_parameters"])
    return f"{row['n_parameters']:,}" + (f" (trained: {trained:,})" if trained != row["n_parameters"] else "")


def _markdown(rows: list[dict]) -> str:
    lines = [
        "# Shipped models",
        "",
        "Regenerate with `python scripts/make_pretrained.py` (fixed seeds, task split of seed 0, one CPU thread).",
        "Test metric: accuracy for `digits`, `signals`, `ucr:GunPoint` and `psmnist`; mean R² over the recalled lags "
        "for `memory`.",
        "Memory slots per step: coefficients each channel keeps per time step (M). Parameters: of the shipped",
        "file (a learned-selection model stores only the candidate slots some channel keeps; trained: all",
        "candidates). Training time: this machine, one thread, as measured when the models were made (the",
        "learned-selection models were regenerated while other jobs shared the CPU: slower than alone).",
        "",
        "| name | task | TREESELECT rule | init | frozen? | test metric | parameters | memory slots / step "
        "| training time (s) | file size (KB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        strategy = r["tree_select"] + (f" (M={r['memory_size']})" if r["memory_size"] else "")
        metric = (f"{100 * r['test_metric']:.1f} % accuracy" if r["metric_name"] == "accuracy"
                  else f"R² {r['test_metric']:.3f}")
        lines.append(
            f"| {r['name']} | {r['task']} | {strategy} | {r['wavelet']} | {'yes' if r['frozen'] else 'no'} "
            f"| {metric} | {_parameters(r)} | {r['memory_slots_per_step']} | {r['train_time_s']:.1f} "
            f"| {r['size_bytes'] / 1024:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="names to regenerate (the index keeps the others)")
    parser.add_argument("--only-task", help="regenerate only this task's models, e.g. ucr:GunPoint")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: reproducible weights)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    specs = _specs()
    if args.only:
        unknown = set(args.only) - {s.name for s in specs}
        if unknown:
            parser.error(f"unknown model names {sorted(unknown)}; known: {[s.name for s in specs]}")
    if args.only_task:
        if args.only_task not in {s.task for s in specs}:
            parser.error(f"no shipped models of task {args.only_task!r}; tasks: {sorted({s.task for s in specs})}")
        args.only = [s.name for s in specs if s.task == args.only_task]
    index_path = args.out_dir / "index.json"
    old = {r["name"]: r for r in json.loads(index_path.read_text())["models"]} if index_path.exists() else {}
    tasks: dict[str, object] = {}
    rows = []
    start = time.perf_counter()
    for spec in specs:
        if args.only and spec.name not in args.only:
            if spec.name in old:
                rows.append(old[spec.name])
            continue
        task = tasks.setdefault(spec.task, load_task(spec.task, seed=TASK_SEED))
        result = (fit if spec.recipe else train)(task, spec.config)
        metrics = result.metrics()
        metrics.update(name=spec.name, description=spec.description, data_seed=TASK_SEED)
        path = save_checkpoint(args.out_dir / f"{spec.name}.safetensors", result.net, metrics)
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise SystemExit(f"{path} is {size} bytes, over the {MAX_MODEL_BYTES} budget of a shipped model")
        # A learned-selection checkpoint keeps only the candidates some channel uses: the shipped
        # model has fewer parameters than were trained. The index lists both.
        trained = metrics["n_parameters"]
        metrics["n_parameters"] = load_checkpoint(path)[0].n_parameters()
        rows.append(_row(spec, metrics, size) | {"n_parameters_trained": trained})
        print(f"{spec.name:28s} {metrics['metric_name']} {metrics['test_metric']:.4f}  "
              f"{metrics['train_time_s']:6.1f} s  {size / 1024:6.0f} KB", flush=True)
    index = {"format": "wavelet-memory-explorer-models", "task_seed": TASK_SEED, "models": rows}
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    (args.out_dir / "MODELS.md").write_text(_markdown(rows))
    print(f"{len(rows)} models in {args.out_dir} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
