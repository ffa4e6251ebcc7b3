"""Command line trainer: ``python -m multires.training``, in one process or as ``torchrun`` ranks.

One process::

    python -m multires.training --task digits --tree-select fading --wavelet haar --seed 0 --out runs/x
    python -m multires.training --task ucr:GunPoint --out runs/gunpoint
    python -m multires.training --task ucr:GunPoint --preset paper --out runs/gunpoint-paper

``--task`` is handed to :func:`multires.data.tasks.load_task` as typed (a built-in name, ``ucr:NAME``,
``smnist``, ``psmnist``, or ``TRAIN.tsv,TEST.tsv``); an unknown one exits with status 2 and
``load_task``'s message. ``--preset paper`` is the official classification recipe (see
:mod:`multires.training.config`); options given explicitly override the preset's values. The budget is
``--epochs`` raised until the run has ``--min-steps`` optimizer steps, and ``--max-seconds`` bounds
it in time (the learning rate still anneals to about 0 by then). The saved model is the best
validation epoch's; ``metrics.json`` records ``test_accuracy`` (classification), ``best_epoch``,
the eval-mode training score and any training warnings.

Several processes (data parallel, CPU ``gloo`` or CUDA ``nccl``, detected from the environment
``torchrun`` sets: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``)::

    torchrun --nproc_per_node=2 -m multires.training --task digits --out runs/ddp

Both run the same loop, :func:`multires.training.train`; under ``torchrun`` it gets
:class:`multires.training.DistributedHooks` (DDP wrapping, ``DistributedSampler`` shards,
``all_reduce``-averaged metrics). Threads: :mod:`multires.training.threads`' policy (1 per process unless
``MULTIRES_THREADS``; under ``torchrun`` at most ``cpu_count // LOCAL_WORLD_SIZE``), or ``--threads N``.
``--batch-size`` is the global batch, split over the ranks. Only
rank 0 shows the progress bar and writes ``OUT/model.safetensors`` plus the human-readable sidecars
``OUT/config.json`` and ``OUT/metrics.json``. Nothing is written when training fails.

Before training (one process) it times a warm-up and three optimizer steps of the run's own model
(:mod:`multires.training.calibrate`, a few seconds), prints the plan with the time they predict, and
refuses a plan more than twice past ``--max-seconds`` unless ``--force``; ``--no-calibrate`` plans with
the work-count model of :mod:`multires.training.runcost` instead.

Exit status: 0 on success (also when ``--max-seconds`` stopped the run early), 1 when training
failed (:class:`multires.training.TrainingError`), 2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable, get_args

import torch
import torch.distributed as dist
from tqdm import tqdm

from ..checkpoint.io import check_writable_dir, save_run
from ..data.tasks.registry import load_task
from ..options import (
    AUGMENTS,
    DECAYS,
    DEVICES,
    PROTOCOLS,
    TASK_NAMES,
    TRAIN_LIMITS,
    TRAIN_PRESET_NAMES,
    TREE_SELECTS,
    DropoutMode,
    InitScheme,
)
from .config import TrainConfig
from .device import resolve_device
from .distributed import DistributedHooks
from .ensemble import MultiresEnsemble, save_model
from .history import Progress, TrainingError, TrainingWarning
from .loop import train
from .plan import RunRefused, check_plan, plan_run
from .recipe import fit
from .threads import apply_thread_policy, resolve_threads

__all__ = ["build_parser", "main"]

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def _wavelet(value: str) -> str | None:
    return None if value.lower() in ("none", "random") else value


def _add_process_options(p: argparse.ArgumentParser, d: dict) -> None:
    """``--device``, ``--threads`` and ``--quiet``: how the process runs, not what it trains."""
    run = p.add_argument_group("process")
    run.add_argument("--device", choices=DEVICES, default=d["device"],
                     help="where to compute: auto (a GPU when present, else the CPU), cpu, cuda or mps")
    run.add_argument("--threads", type=int, default=None,
                     help="torch CPU threads per process (default: the thread policy, multires.training.threads: "
                          "MULTIRES_THREADS, else 1, the fastest on a shared machine; under torchrun "
                          "capped at cpu_count // local processes); this option overrides it")
    run.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (defaults are :class:`~multires.training.TrainConfig`'s)."""
    p = argparse.ArgumentParser(
        prog="multires-train",  # the console script; `python -m multires.training` is the same program
        description="Train a MultiresConv network (Shi, Wang & Fox 2023) on a task and save a checkpoint "
                    "of its best validation epoch. Runs data-parallel when launched with torchrun.",
    )
    d = _DEFAULTS
    task = p.add_argument_group("task and output")
    task.add_argument("--task", default="digits",
                      help=f"task name for load_task: {', '.join(TASK_NAMES)}, ucr:NAME, "
                           "or TRAIN.tsv,TEST.tsv (default: digits)")
    task.add_argument("--data-seed", type=int, default=0, help="seed of the task's data and split (default: 0)")
    task.add_argument("--out", type=Path, required=True, help="run directory for model.safetensors + sidecars")
    task.add_argument("--val-fraction", type=float, default=None,
                      help="share of each class of the training split held out for validation (holdout "
                           "protocol; UCR and file tasks; default 0.2)")
    p.add_argument("--preset", choices=TRAIN_PRESET_NAMES, default=d["preset"],
                   help="named recipe: default (this project's), paper (the official classification code's), "
                        "paper-cpu (the paper's model sized to a 2-core laptop) or long-cpu (sMNIST / psMNIST, "
                        "length 784, within 30 minutes on 2 cores); explicit options override it")
    _add_model_options(p, d)
    _add_optimisation_options(p, d)
    _add_protocol_options(p, d)
    _add_process_options(p, d)
    for action in p._actions:  # options left out stay out, so that --preset fills them (not the defaults)
        if action.dest in _DEFAULTS and action.dest != "preset":
            action.default = argparse.SUPPRESS
    return p


def _add_model_options(p: argparse.ArgumentParser, d: dict) -> None:
    """The network's shape, TREESELECT rule and filters."""
    model = p.add_argument_group("model")
    model.add_argument("--tree-select", choices=TREE_SELECTS, default=d["tree_select"], help="TREESELECT rule")
    model.add_argument("--memory-size", type=int, default=d["memory_size"], help="slots M (uniform, learned)")
    model.add_argument("--max-lag", type=int, default=d["max_lag"], help="learned: largest candidate lag")
    model.add_argument("--wavelet", type=_wavelet, default=d["wavelet"],
                       help="filter init: a PyWavelets name (haar, db2, ...) or 'none' for random (default: haar)")
    model.add_argument("--kernel-size", type=int, default=d["kernel_size"], help="filter length with --wavelet none")
    model.add_argument("--depth", type=int, default=d["depth"],
                       help="tree depth J: the coarsest coefficient covers the last (k-1)(2**J-1)+1 samples (2**J for Haar) "
                            "(default: the depth that covers the whole series)")
    model.add_argument("--freeze-filters", action="store_true", help="keep h0, h1 fixed (fixed-wavelet baseline)")
    model.add_argument("--d-model", type=int, default=d["d_model"], help=f"channels (default: {d['d_model']})")
    model.add_argument("--n-layers", type=int, default=d["n_layers"], help=f"blocks (default: {d['n_layers']})")
    model.add_argument("--dropout", type=float, default=d["dropout"], help="dropout after each layer")
    model.add_argument("--norm", choices=("batch", "layer"), default=d["norm"], help="normalisation")
    model.add_argument("--dropout-mode", choices=get_args(DropoutMode), default=d["dropout_mode"],
                       help="element (nn.Dropout) or channel (nn.Dropout1d, the paper's)")
    model.add_argument("--init", choices=get_args(InitScheme), default=d["init"],
                       help="initialisation scales of random filters and memory weights: default or paper")
    model.add_argument("--indep-res-init", action="store_true", help="official indep_res_init option")


def _add_optimisation_options(p: argparse.ArgumentParser, d: dict) -> None:
    """The optimizer, the budget and the regularisation of each run."""
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--epochs", type=int, default=d["epochs"],
                     help=f"at least this many epochs (default: {d['epochs']})")
    opt.add_argument("--min-steps", type=int, default=d["min_steps"],
                     help=f"...and at least this many optimizer steps: more epochs on small data (default: {d['min_steps']})")
    opt.add_argument("--patience", type=int, default=d["patience"],
                     help="stop after this many epochs without a better validation score (default: off)")
    opt.add_argument("--warmup-epochs", type=float, default=d["warmup_epochs"],
                     help="linear warm-up in epochs (default: 5%% of the run)")
    opt.add_argument("--decay", choices=DECAYS, default=d["decay"],
                     help="parameters AdamW decays: dense weights only, or all (the paper's)")
    opt.add_argument("--last-epoch", dest="select_best", action="store_false",
                     help="keep the last epoch's weights instead of the best validation epoch's")
    opt.add_argument("--lr", type=float, default=d["lr"], help=f"peak learning rate (default: {d['lr']})")
    opt.add_argument("--batch-size", type=int, default=d["batch_size"],
                     help=f"global batch, split over ranks (default: {d['batch_size']})")
    opt.add_argument("--weight-decay", type=float, default=d["weight_decay"], help="AdamW weight decay")
    opt.add_argument("--seed", type=int, default=d["seed"], help="init, shuffling and dropout seed")
    opt.add_argument("--max-seconds", type=float, default=d["max_seconds"],
                     help=f"stop cleanly after this many seconds of training, all sub-runs together "
                          f"(max {TRAIN_LIMITS['max_seconds'][1]:g}); a run planned far past it is refused")
    opt.add_argument("--augment", default=d["augment"],
                     help=f"series augmentation while training: none, or some of {', '.join(AUGMENTS)} joined by '+'")
    opt.add_argument("--label-smoothing", type=float, default=d["label_smoothing"],
                     help="cross-entropy label smoothing (default: 0)")
    opt.add_argument("--mixup", type=float, default=d["mixup"], metavar="ALPHA",
                     help="mixup: train on batches mixed with a shuffled copy, share ~ Beta(ALPHA, ALPHA) "
                          "(default: 0, off)")


def _add_protocol_options(p: argparse.ArgumentParser, d: dict) -> None:
    """How the recipe chooses the budget (cross-validation or holdout), refits and ensembles."""
    rec = p.add_argument_group("protocol (how the training budget is chosen; the test split is scored once, last)")
    rec.add_argument("--protocol", choices=PROTOCOLS, default=d["protocol"],
                     help="cv: stratified k-fold cross-validation on the training split chooses the tree depth "
                          "(--cv-depths) and the number of epochs, then a refit on all of it; holdout: best epoch on the validation split; "
                          "fixed: no selection, the configured epochs on the whole training split; auto (default): cv up to 1000 training series, else holdout")
    rec.add_argument("--folds", type=int, default=d["folds"], help=f"folds of the cross-validation (default: {d['folds']})")
    rec.add_argument("--cv-depths", default=d["cv_depths"],
                     help="tree depths the cross-validation compares when --depth is not given, e.g. 4,full "
                          f"('full': the depth covering the series; default: {d['cv_depths']})")
    rec.add_argument("--refit", dest="refit", action="store_true", default=d["refit"],
                     help="holdout: refit on train + validation for the best epoch's number of epochs (cv always refits)")
    rec.add_argument("--no-refit", dest="refit", action="store_false", help="holdout: keep the holdout run's model")
    rec.add_argument("--ensemble", type=int, default=d["ensemble"],
                     help="train this many seeds (seed, seed+1, ...) and average their probabilities (default: 1)")
    rec.add_argument("--force", action="store_true", help="run even when the plan is far past --max-seconds")
    rec.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                     help="estimate the run's time from the model's size instead of timing a few real steps "
                          "first (the timed estimate costs a few seconds and is several times closer)")


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The options given on the command line over ``--preset``'s recipe (every given value kept)."""
    given = {name: getattr(args, name) for name in _DEFAULTS if name != "preset" and hasattr(args, name)}
    return TrainConfig.from_preset(args.preset, **given)


def _init_distributed() -> DistributedHooks | None:
    """Join the ``torchrun`` job described by the environment, or return None for one process."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=5))
    return DistributedHooks(device)


class _Bar:
    """tqdm progress bar, created at the first step (when the number of steps is known)."""

    def __init__(self, enabled: bool, description: str) -> None:
        self.enabled, self.description, self.bar, self.val = enabled, description, None, None

    def __call__(self, p: Progress) -> bool:
        if not self.enabled:
            return False
        if self.bar is None:
            self.bar = tqdm(total=p.total_steps, desc=self.description, unit="step", dynamic_ncols=True)
        if p.val_metric is not None:
            self.val = p.val_metric
        postfix = {"epoch": f"{p.epoch + 1}/{p.epochs}", "loss": f"{p.loss:.4f}", p.metric_name: f"{p.metric:.3f}"}
        if self.val is not None:
            postfix["val"] = f"{self.val:.3f}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)
        return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = _train_config(args)
        threads = resolve_threads(args.threads)
        resolve_device(config.device)
        check_writable_dir(args.out, "--out directory")  # before training, not after it
    except ValueError as err:  # ThreadPolicyError, DeviceError and OutputDirError included
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    hooks = _init_distributed()
    rank = 0 if hooks is None else hooks.rank
    try:
        apply_thread_policy(threads)
        options = {} if args.val_fraction is None else {"val_fraction": args.val_fraction}
        try:
            task = load_task(args.task, seed=args.data_seed, **options)
            if hooks is None:
                return _fit_one_process(args, config, task, threads)
            result = _with_bar(_Bar(rank == 0 and not args.quiet, f"{task.name} {config.tree_select}"),
                               lambda bar: train(task, config, bar, distributed=hooks))
        except TrainingError as err:
            if rank == 0:
                print(f"training failed: {err}", file=sys.stderr)
            return 1
        except ValueError as err:
            if rank == 0:
                print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 2
        if rank == 0:
            metrics = result.metrics()
            metrics["data_seed"] = args.data_seed
            metrics["torch_threads"] = threads
            metrics["protocol"] = {"name": "holdout", "description": "one data-parallel run on the holdout "
                                   "validation split (torchrun runs a single run; no cross-validation)"}
            try:
                path = save_run(args.out, result.net, metrics)
            except OSError as err:  # e.g. the disk filled or the directory was removed during the run
                print(f"{parser.prog}: error: the trained model could not be saved in {args.out}: {err}",
                      file=sys.stderr)
                return 1
            name = "test accuracy" if result.kind == "classify" else "test mean R^2"
            note = f" (stopped early: {result.stop_reason})" if result.stopped else ""
            best = f" at best validation epoch {result.best_epoch}" if result.best_epoch is not None else ""
            print(f"{name} {result.test_metric:.4f}{best} after {result.epochs_done} epochs ({result.steps} steps), "
                  f"{result.train_time:.1f} s on {result.world_size} process(es) x {threads} thread(s){note}; "
                  f"protocol: holdout (data-parallel single run); wrote {path}")
            for message in result.warnings:
                print(f"warning: {message}", file=sys.stderr)
        return 0
    finally:
        if hooks is not None:
            dist.destroy_process_group()


class _StageBar:
    """One progress bar per sub-run of :func:`multires.training.recipe.fit` (folds, refits)."""

    def __init__(self, enabled: bool, description: str) -> None:
        self.enabled, self.description, self.stage, self.bar = enabled, description, None, None

    def __call__(self, stage: str, p: Progress) -> bool:
        if stage != self.stage:
            self.close()
            self.stage, self.bar = stage, _Bar(self.enabled, f"{self.description} {stage}")
        return self.bar(p)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _with_bar(bar: Any, run: Callable[[Any], Any]) -> Any:
    """``run(bar)`` with the progress bar closed afterwards; training warnings are printed later, once."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)
            return run(bar)
    finally:
        bar.close()


def _fit_one_process(args: argparse.Namespace, config: TrainConfig, task, threads: int) -> int:
    """The recipe (:func:`multires.training.recipe.fit`) in this process: plan, refuse or run, save, report."""
    plan = plan_run(task, config, calibrate=args.calibrate)
    device = resolve_device(config.device)
    print(f"{task.name}: {plan.summary()} on {device.type}", file=sys.stderr)
    try:
        check_plan(plan, config.max_seconds)
    except RunRefused as err:
        if not args.force:
            print(f"refused: {err}", file=sys.stderr)
            return 2
        print(f"warning: {err} (running anyway: --force)", file=sys.stderr)
    result = _with_bar(_StageBar(not args.quiet, task.name), lambda bar: fit(task, config, bar, plan=plan))
    metrics = result.metrics()
    metrics.update(data_seed=args.data_seed, torch_threads=threads, device=device.type)
    try:
        if isinstance(result.net, MultiresEnsemble):
            args.out.mkdir(parents=True, exist_ok=True)
            path = save_model(args.out / "model.safetensors", result.net, metrics)
            (args.out / "config.json").write_text(result.net.config.to_json() + "\n")
            (args.out / "metrics.json").write_text(json.dumps(_json_ready(metrics), indent=2, sort_keys=True) + "\n")
        else:
            path = save_run(args.out, result.net, metrics)
    except OSError as err:  # e.g. the disk filled or the directory was removed during the run
        print(f"multires-train: error: the trained model could not be saved in {args.out}: {err}", file=sys.stderr)
        return 1
    name = "test accuracy" if result.kind == "classify" else "test mean R^2"
    members = f"ensemble of {len(result.members)} seeds, " if len(result.members) > 1 else ""
    print(f"{name} {result.test_metric:.4f} ({members}{result.describe()}); {result.wall_time:.1f} s "
          f"(estimate {plan.seconds:.0f} s) on {device.type} x {threads} thread(s); wrote {path}")
    for message in result.warnings:
        print(f"warning: {message}", file=sys.stderr)
    return 0


def _json_ready(value):
    from ..checkpoint.io import _json_safe

    return _json_safe(value)


if __name__ == "__main__":
    sys.exit(main())
