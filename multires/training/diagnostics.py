"""After a run: was it under-trained, and can its scores mislead? Plain-words warnings for
:func:`multires.training.train`, each one sentence a user can act on.

Under-training (:func:`undertrained_warnings`):

* the time bound (``max_seconds``) cut the run short of its planned steps;
* the training score was still climbing at the end of the run and is far from perfect, i.e. the
  run ended before the training curve reached its plateau.

Misleading eval-mode scores (:func:`score_warnings`):

* the returned weights had too few steps for BatchNorm's running statistics to converge
  (:func:`multires.training.batchnorm.batchnorm_steps`);
* the eval-mode training score is more than :data:`EVAL_GAP` below the batch-statistics one.

Examples
--------
>>> plateau_gap([0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.99])
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .batchnorm import batchnorm_steps

__all__ = ["CUT_SHARE", "EVAL_GAP", "PLATEAU_RISE", "PLATEAU_TRAIN", "plateau_gap", "score_warnings",
           "undertrained_warnings"]

#: Warn when the clock stopped the run before this share of its planned steps.
CUT_SHARE = 0.9
#: Warn when the training score rose by more than this over the last fifth of the epochs...
PLATEAU_RISE = 0.02
#: ...and the eval-mode training score is below this (classification accuracy or mean R^2).
PLATEAU_TRAIN = 0.98
#: Warn when the eval-mode training score is this far below the batch-statistics one.
EVAL_GAP = 0.1


def plateau_gap(curve: Sequence[float]) -> float:
    """How much the per-epoch training score still rose at the end: mean of the last tenth of the
    epochs minus the mean of the tenth before (0 when there are fewer than 4 epochs)."""
    values = [float(v) for v in curve]
    if len(values) < 4:
        return 0.0
    width = max(1, len(values) // 10)
    last, before = values[-width:], values[-2 * width : -width]
    return round(sum(last) / len(last) - sum(before) / len(before), 6)


def undertrained_warnings(result: Any) -> list[str]:
    """Sentences saying why ``result`` (a :class:`~multires.training.history.TrainResult`) may be under-trained."""
    messages = []
    if result.stop_reason == "max_seconds" and result.steps < CUT_SHARE * result.total_steps:
        messages.append(
            f"the time limit stopped training after {result.steps} of {result.total_steps} planned steps "
            f"({100 * result.steps / max(result.total_steps, 1):.0f} %): the model is under-trained. Raise "
            "the time limit (max_seconds) or plan fewer steps (min_steps, epochs), so the run can finish."
        )
    curve = result.history.epoch_train
    train_score = result.train.get("metric") if result.train else None
    rise = plateau_gap(curve)
    if train_score is not None and train_score < PLATEAU_TRAIN and rise > PLATEAU_RISE:
        messages.append(
            f"the training score was still rising when the run ended (+{rise:.3f} over its last epochs) "
            f"and reached only {train_score:.3f}: the run ended before its plateau, so it is under-trained. "
            "Raise min_steps or epochs."
        )
    return messages


def score_warnings(result: Any) -> list[str]:
    """Why the returned model's scores may mislead: unconverged BatchNorm, or a train-score gap."""
    messages = []
    steps = result.best_step if result.best_step is not None else result.steps
    for module in result.net.modules():
        needed = batchnorm_steps(module)
        if steps < needed:
            messages.append(
                f"BatchNorm running statistics cannot have converged: the returned weights had {steps} "
                f"optimizer step(s), momentum {module.momentum:g} needs at least {needed}; eval-mode scores "
                "may be far below training scores. Raise min_steps (or epochs) so the run has that many "
                "steps, or use norm='layer'."
            )
            break
    batch_stats = result._batch_stats_train_metric()
    eval_mode = result.train.get("metric")
    if batch_stats is not None and eval_mode is not None and batch_stats - eval_mode > EVAL_GAP:
        name = result.train["metric_name"]
        gap = (f"the eval-mode training {name} ({eval_mode:.3f}) is {batch_stats - eval_mode:.3f} below the "
               f"batch-statistics one ({batch_stats:.3f}): the BatchNorm running statistics (or dropout) do not "
               "match the returned weights. Training longer does not fix this. ")
        if result.best_epoch is not None and result.best_step is not None and result.best_step < result.steps:
            fix = ("The kept weights are an earlier epoch's, whose running statistics lagged weights that were "
                   "still changing fast: keep the weights from the end of the learning-rate schedule (the "
                   "cross-validation protocol, protocol='cv', refits to a chosen budget and does so; or "
                   "select_best=False / --last-epoch), or recompute the statistics on the training data "
                   "(multires.training.recalibrate_batchnorm).")
        else:
            fix = ("The kept weights are the last ones, so recompute the statistics on the (unaugmented) training "
                   "data (multires.training.recalibrate_batchnorm), or use norm='layer', which has no "
                   "running statistics.")
        messages.append(gap + fix)
    return messages
