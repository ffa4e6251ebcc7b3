"""Choosing the budget on the training split only: the recipe's protocol and its cross-validation.

:func:`resolve_protocol` decides what :func:`multires.training.fit` does (``TrainConfig.protocol``;
the module docstring of :mod:`multires.training.recipe` describes each protocol): ``cv`` for
classification tasks of at most :data:`CV_MAX_SERIES` training series under ``auto``, ``holdout``
otherwise. :func:`cross_validate` runs the ``cv`` protocol's folds and chooses the tree depth and the
number of epochs the final models train: stratified k-fold (scikit-learn's ``StratifiedKFold``,
shuffled with ``random_state=seed``) on the task's whole training split (:func:`training_pool`); for
every candidate depth (:func:`depth_candidates`: ``TrainConfig.cv_depths`` unless ``depth`` is set),
every fold trains the full planned budget, its held-out fold scored after every epoch. The chosen
pair is the depth and epoch count with the best mean held-out accuracy (ties to the *later* epoch,
then to the deeper tree; only epochs whose BatchNorm statistics can have converged compete). Every
depth sees the same folds. The test split is never handed to a fold.

Examples
--------
>>> from multires.data.tasks import load_task
>>> task = load_task("ucr:GunPoint", seed=0)
>>> resolve_protocol(task, TrainConfig(folds=3))
Protocol(name='cv', folds=3, refit=True, reason='50 training series, at most 1000: small data')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold

from ..data.tasks import TaskData
from ..treeselect import memory_slots
from .batchnorm import settle_steps
from .config import TrainConfig
from .history import TrainResult

__all__ = ["CV_MAX_SERIES", "POOLED_CURVE_SERIES", "Protocol", "cross_validate", "curve_stride", "depth_candidates",
           "fold_epochs", "resolve_protocol", "training_pool"]

#: ``protocol="auto"`` cross-validates classification tasks with at most this many training series.
CV_MAX_SERIES = 1000

#: A refit's per-epoch curve is scored on at most this many of its own training series (evenly spaced):
#: nothing is chosen on it, and scoring all 4,000 MNIST digits every epoch would add a third to a run.
POOLED_CURVE_SERIES = 500

#: One sub-run of the recipe: ``run(task, config, stage)`` trains on ``task`` (``stage`` names it).
SubRun = Callable[[TaskData, TrainConfig, str], TrainResult]


@dataclass(frozen=True)
class Protocol:
    """What :func:`multires.training.fit` will do: ``name`` (cv, holdout or fixed), folds, refit, and why."""

    name: str
    folds: int | None
    refit: bool
    reason: str


def training_pool(task: TaskData) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training split: the task's train and validation parts together."""
    return torch.cat([task.x_train, task.x_val]), torch.cat([task.y_train, task.y_val])


def resolve_protocol(task: TaskData, config: TrainConfig) -> Protocol:
    """The protocol ``config`` asks for on ``task`` (``auto`` decided by the number of training series)."""
    _, y = training_pool(task)
    n = len(y)
    smallest = n
    if task.kind == "classify":
        counts = torch.bincount(y)
        smallest = int(counts[counts > 0].min())
    name, reason = config.protocol, "asked for"
    if name == "auto":
        if task.kind == "classify" and n <= CV_MAX_SERIES and smallest >= 2:
            name, reason = "cv", f"{n} training series, at most {CV_MAX_SERIES}: small data"
        else:
            name, reason = "holdout", (f"{n} training series, more than {CV_MAX_SERIES}" if n > CV_MAX_SERIES
                                       else "too few series per class for folds" if smallest < 2
                                       else "not a classification task")
    if name == "fixed":
        if config.refit is False:
            raise ValueError("protocol='fixed' trains the final model on the whole training split; refit=False "
                             "contradicts it (use protocol='holdout' to keep a validation split)")
        return Protocol("fixed", None, True, reason)
    if name == "cv":
        folds = min(config.folds, smallest) if task.kind == "classify" else config.folds
        if folds < 2:
            raise ValueError(f"cross-validation needs at least 2 series of every class; the smallest class has "
                             f"{smallest}. Use protocol='holdout'.")
        if folds < config.folds:
            reason += f"; {folds} folds, as the smallest class has {smallest} series"
        if config.refit is False:
            raise ValueError("protocol='cv' chooses a budget and then refits on the whole training split; "
                             "refit=False would leave no final model (use protocol='holdout' for no refit)")
        return Protocol("cv", folds, True, reason)
    return Protocol("holdout", None, bool(config.refit), reason)


def curve_stride(n_pool: int) -> int:
    """Every how many training series a refit's per-epoch curve is scored (see :data:`POOLED_CURVE_SERIES`)."""
    return max(1, -(-n_pool // POOLED_CURVE_SERIES))


def fold_epochs(config: TrainConfig, n_fold_train: int) -> int:
    """Epochs every fold trains: the config's budget on the largest fold (the same for all folds)."""
    return config.total_epochs(math.ceil(n_fold_train / config.batch_size))


def depth_candidates(task: TaskData, config: TrainConfig) -> list[int]:
    """The tree depths the ``cv`` protocol compares on ``task``: ``config.depth`` alone when it is set,
    else ``config.cv_depths`` resolved against the series length (``full``: the depth covering the
    series; a depth past it is the same tree, so it is dropped), deepest first. A depth whose tree
    has fewer slots than a uniform or learned memory keeps is left out.

    >>> from multires.data.tasks import load_task
    >>> task = load_task("ucr:GunPoint", seed=0)  # length 150: the full Haar tree has depth 8
    >>> depth_candidates(task, TrainConfig(cv_depths="4,full")), depth_candidates(task, TrainConfig(depth=5))
    ([8, 4], [5])
    >>> depth_candidates(task, TrainConfig(cv_depths="3,full", tree_select="uniform", memory_size=16))  # 3 has 8 slots
    [8]
    """
    model = config.with_values(depth=None).model_config(task)
    full = model.resolved_depth
    if config.depth is not None:
        return [config.depth]
    depths = {full if part == "full" else min(int(part), full) for part in config.cv_depths.split(",")}
    return sorted((d for d in depths if d == full or _holds_memory(model, d)), reverse=True)


def _holds_memory(model: Any, depth: int) -> bool:
    """Whether a tree of ``depth`` offers the slots ``model``'s TREESELECT rule keeps (uniform and learned
    need ``memory_size`` of them; a shallower tree has fewer)."""
    try:
        memory_slots(model.tree_select, depth, model.resolved_kernel_size, model.memory_size, model.max_lag)
    except ValueError:
        return False
    return True


def cross_validate(task: TaskData, config: TrainConfig, k: int, run: SubRun) -> dict[str, Any]:
    """Train ``k`` folds of the training split with ``run`` for every candidate tree depth
    (:func:`depth_candidates`) and choose the depth and the budget (see the module docstring).

    Returns the record kept in ``RecipeResult.cv``: the folds, ``chosen_depth``, and for it every
    fold's held-out curve, their mean, ``chosen_epochs`` and its scores; ``depths``: each candidate's
    mean curve and best score; ``warnings`` (folds the time limit cut).
    """
    x, y = training_pool(task)
    labels = y.numpy()
    splitter = (StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed) if task.kind == "classify"
                else KFold(n_splits=k, shuffle=True, random_state=config.seed))
    folds = list(splitter.split(np.zeros(len(labels)), labels if task.kind == "classify" else None))
    epochs = fold_epochs(config, max(len(tr) for tr, _ in folds))
    fold_config = config.for_epochs(epochs, max(len(tr) for tr, _ in folds), select_best=False, patience=None)
    depths = depth_candidates(task, config)
    records = [_depth_folds(x, y, task, folds, fold_config.with_values(depth=depth), run,
                            "" if len(depths) == 1 else f", depth {depth}") for depth in depths]
    best = max(records, key=lambda r: (r["chosen_score"], r["chosen_epochs"]))  # ties: the later epoch, then deeper
    return {
        "folds": k,
        "splitter": type(splitter).__name__,
        "random_state": config.seed,
        "fold_sizes": [len(v) for _, v in folds],
        "held_out_indices": [v.tolist() for _, v in folds],
        "epochs_per_fold": epochs,
        "chosen_depth": best["depth"],
        **{key: value for key, value in best.items() if key not in ("depth", "warnings")},
        "depths": [{key: r[key] for key in ("depth", "mean_curve", "chosen_epochs", "chosen_score")} for r in records],
        "train_time_s": sum(r["train_time_s"] for r in records),
        "warnings": [m for r in records for m in r["warnings"]],
    }


def _depth_folds(x: torch.Tensor, y: torch.Tensor, task: TaskData, folds: list, fold_config: TrainConfig,
                 run: SubRun, label: str) -> dict[str, Any]:
    """Every fold at one tree depth: the held-out curves, their mean and the best eligible epoch."""
    curves, losses, eligible, messages = [], [], None, []
    train_time = 0.0
    for index, (tr, va) in enumerate(folds):
        tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
        fold_task = dataclasses.replace(task, x_train=x[tr_t], y_train=y[tr_t], x_val=x[va_t], y_val=y[va_t],
                                        x_test=x[va_t], y_test=y[va_t])  # the held-out fold, never test
        result = run(fold_task, fold_config, f"fold {index + 1}/{len(folds)}{label}")
        curves.append(list(result.history.epoch_val))
        losses.append(list(result.history.epoch_val_loss))
        train_time += result.train_time
        needed = settle_steps(result.net)
        ok = [s >= needed for s in result.history.epoch_step]
        eligible = ok if eligible is None else [a and b for a, b in zip(eligible, ok)]
        if result.stop_reason == "max_seconds":
            messages.append(f"the time limit cut cross-validation fold {index + 1}{label} at {result.steps} of "
                            f"{result.total_steps} steps: the budget was chosen among the epochs it reached")
    done = min(len(c) for c in curves)
    mean = [float(np.mean([c[e] for c in curves])) for e in range(done)]
    candidates = [e for e in range(done) if eligible[e]] or list(range(done))
    best = max(candidates, key=lambda e: (mean[e], e))  # ties go to the later epoch
    return {
        "depth": fold_config.depth,
        "fold_curves": curves,
        "fold_val_loss": losses,
        "mean_curve": mean,
        "chosen_epochs": best + 1,
        "chosen_score": mean[best],
        "chosen_fold_scores": [c[best] for c in curves],
        "last_epoch_score": mean[done - 1],
        "train_time_s": train_time,
        "warnings": messages,
    }
