"""Cross-validation on the TRAINING split behind each regularisation choice of the default recipe.

For each dataset, the official training split (the task's train + validation parts) is cut by
``StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)``; in every fold each variant
trains the default recipe's full budget (last weights, no epoch selection, so no variant gets an
optimistic pick) and is scored on the held-out fold. The ensemble row averages the probabilities
of the baseline and a second seed. The test split is never loaded into any run (the fold tasks'
test slot holds the held-out fold). A variant is kept in the default only if its mean held-out
accuracy beats the baseline's over the datasets.

    MULTIRES_THREADS=1 nice -n 10 python benchmarks/cv_recipe.py --dataset ArrowHead --out cv_arrowhead.json

Rows are appended to ``--out`` (JSON lines) as they finish, so a cut run still reports its folds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from multires.data.tasks import load_task  # noqa: E402
from multires.training import TrainConfig, train  # noqa: E402
from multires.training.batchnorm import recalibrate_batchnorm  # noqa: E402
from multires.training.threads import apply_thread_policy, resolve_threads  # noqa: E402

VARIANTS: dict[str, dict] = {
    "baseline": {},
    "crop+jitter": {"augment": "crop+jitter"},
    "scale": {"augment": "scale"},
    "label_smoothing_0.1": {"label_smoothing": 0.1},
    "weight_decay_0.1": {"weight_decay": 0.1},
    "steps_1500": {"min_steps": 1500},
    "wide_96x3": {"d_model": 96, "n_layers": 3},
    "lr_0.003": {"lr": 0.003},
    "db4": {"wavelet": "db4"},
    "uniform_32": {"tree_select": "uniform", "memory_size": 32},
    "learned_16": {"tree_select": "learned", "memory_size": 16},
    **{f"depth_{j}": {"depth": j} for j in (2, 3, 4, 5, 6, 7)},
}


def _probs(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net.eval()(x).softmax(dim=-1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="UCR name, e.g. ArrowHead")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    parser.add_argument("--ensemble", action="store_true", help="also a second baseline seed and the 2-seed average")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    apply_thread_policy(resolve_threads(None))
    task = load_task(f"ucr:{args.dataset}", seed=0)
    x = torch.cat([task.x_train, task.x_val])
    y = torch.cat([task.y_train, task.y_val])
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    names = [v for v in args.variants.split(",") if v]
    header = {"dataset": args.dataset, "folds": args.folds, "seed": args.seed, "n_train_split": len(y),
              "machine": platform.node(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "load_average": os.getloadavg()}
    with args.out.open("a") as f:
        f.write(json.dumps({"header": header}) + "\n")
    for fold, (tr, va) in enumerate(splitter.split(np.zeros(len(y)), y.numpy())):
        tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
        fold_task = dataclasses.replace(task, x_train=x[tr_t], y_train=y[tr_t], x_val=x[va_t], y_val=y[va_t],
                                        x_test=x[va_t], y_test=y[va_t])
        probs = {}
        for name in names + (["seed+1"] if args.ensemble else []):
            options = VARIANTS.get(name, {})
            seed = args.seed + 1 if name == "seed+1" else args.seed
            start = time.perf_counter()
            config = TrainConfig(select_best=False, seed=seed, device="cpu", **options)
            result = train(fold_task, config)
            probs[name] = _probs(result.net, fold_task.x_val)
            acc = float((probs[name].argmax(1) == fold_task.y_val).double().mean())
            row = {"dataset": args.dataset, "fold": fold, "variant": name, "held_out_accuracy": acc,
                   "train_accuracy_eval_mode": result.train["metric"], "seconds": time.perf_counter() - start}
            if config.transforms_inputs:  # BatchNorm statistics of clean training series
                recalibrate_batchnorm(result.net, fold_task.x_train)
                recal = _probs(result.net, fold_task.x_val)
                extra = {**row, "variant": name + "+recalibrated",
                         "held_out_accuracy": float((recal.argmax(1) == fold_task.y_val).double().mean())}
                with args.out.open("a") as f:
                    f.write(json.dumps(extra) + "\n")
                print(json.dumps(extra), flush=True)
            if name == "seed+1" and "baseline" in probs:
                ens = (probs["baseline"] + probs[name]) / 2
                row_e = {**row, "variant": "ensemble_2_seeds",
                         "held_out_accuracy": float((ens.argmax(1) == fold_task.y_val).double().mean())}
                rows = [row, row_e]
            else:
                rows = [row]
            with args.out.open("a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
                    print(json.dumps(r), flush=True)
    return 0


def summarise(paths: list[str]) -> None:
    """Mean held-out accuracy per dataset and variant (``python benchmarks/cv_recipe.py summary FILES``)."""
    rows = [json.loads(line) for p in paths for line in open(p) if '"variant"' in line]
    for dataset in sorted({r["dataset"] for r in rows}):
        print(dataset)
        for variant in dict.fromkeys(r["variant"] for r in rows if r["dataset"] == dataset):
            accs = [r["held_out_accuracy"] for r in rows if r["dataset"] == dataset and r["variant"] == variant]
            print(f"  {variant:22s} {np.mean(accs):.3f}  (folds: {len(accs)}; {', '.join(f'{a:.3f}' for a in accs)})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "summary":
        summarise(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
