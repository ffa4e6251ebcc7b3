"""After a run: was it under-trained? Plain-words warnings for :func:`multires.training.train`.

Two signs, each one sentence a user can act on:

* the time bound (``max_seconds``) cut the run short of its planned steps;
* the training score was still climbing at the end of the run and is far from perfect, i.e. the
  run ended before the training curve reached its plateau.

Examples
--------
>>> plateau_gap([0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.99])
0.0
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["CUT_SHARE", "PLATEAU_RISE", "PLATEAU_TRAIN", "plateau_gap", "undertrained_warnings"]

#: Warn when the clock stopped the run before this share of its planned steps.
CUT_SHARE = 0.9
#: Warn when the training score rose by more than this over the last fifth of the epochs...
PLATEAU_RISE = 0.02
#: ...and the eval-mode training score is below this (classification accuracy or mean R^2).
PLATEAU_TRAIN = 0.98


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
    """Sentences saying why ``result`` (a :class:`~multires.history.TrainResult`) may be under-trained."""
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
