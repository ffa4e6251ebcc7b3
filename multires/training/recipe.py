"""The small-data recipe: choose the budget by cross-validation, refit, ensemble; test scored once.

:func:`fit` is what the CLI (``multires-train``) runs; :func:`multires.training.train` stays the
one training loop it calls for every sub-run. The protocols (``TrainConfig.protocol``):

* ``cv`` -- stratified k-fold cross-validation (scikit-learn's ``StratifiedKFold``, shuffled with
  ``random_state=seed``, so seeds vary the folds) on the task's whole *training split* (its
  ``train`` and ``val`` parts together: for UCR and ``from_arrays`` tasks that is the official
  training split). For every candidate tree depth (``cv_depths``, unless ``depth`` is set) every fold
  trains the full planned budget and keeps the last weights; after each epoch it is scored on its
  held-out fold. The chosen depth and budget are those with the best mean held-out accuracy over the
  folds (ties go to the *later* epoch, then the deeper tree, and only epochs whose BatchNorm
  statistics can have converged compete). Then the model is refit on the whole training split at
  that depth for that many epochs (a full warm-up + cosine schedule of that length), keeping the
  last weights.
* ``holdout`` -- one run on the task's own train/validation split, the best validation epoch's
  weights (ties to the later epoch); with ``refit=True`` it is then refit on train + validation for
  the best epoch's number of epochs.
* ``fixed`` -- no selection: one run on the whole training split for the config's own budget
  (``epochs``, raised to ``min_steps``), keeping the last weights. For a budget chosen beforehand on
  training data, e.g. the ``long-cpu`` preset's, chosen by a holdout run on the 500 validation digits.
* ``auto`` (the default) -- ``cv`` for classification tasks of at most
  :data:`~multires.training.crossval.CV_MAX_SERIES` training series, ``holdout`` otherwise (a
  3,500-series MNIST split has a validation split large enough to choose an epoch, and k refits
  would multiply a long run).

With ``augment`` or ``mixup`` the final models' BatchNorm statistics are recomputed on the clean training series
(:func:`~multires.training.batchnorm.recalibrate_batchnorm`): the running statistics gathered on
augmented batches describe other inputs than the ones the model is scored on.

The pieces live in their own modules: the protocol and the cross-validation in
:mod:`multires.training.crossval`, the plan and its time estimate in :mod:`multires.training.plan`,
the BatchNorm recalibration in :mod:`multires.training.batchnorm`; here, :func:`fit` runs them in
order and :class:`RecipeResult` is what it returns.

``ensemble=K`` trains K final models with seeds ``seed, seed+1, ...`` (the budget is chosen once)
and averages their probabilities (:class:`~multires.training.ensemble.MultiresEnsemble`).

The test split is read once, at the very end, by :func:`multires.training.evaluation.evaluate` on the final
model: no sub-run sees it (their ``test`` slot holds held-out or training series instead).

Examples
--------
>>> from multires.data.tasks import load_task
>>> task = load_task("ucr:GunPoint", seed=0)
>>> cfg = TrainConfig(d_model=4, n_layers=1, epochs=2, min_steps=0, batch_size=32, folds=2, norm="layer")
>>> result = fit(task, cfg)
>>> result.protocol.name, len(result.cv["fold_curves"]), result.n_train_used == len(task.x_train) + len(task.x_val)
('cv', 2, True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..data.tasks import TaskData
from .batchnorm import recalibrate_batchnorm
from .config import TrainConfig
from .crossval import Protocol, cross_validate, curve_stride, fold_epochs, training_pool
from .ensemble import MultiresEnsemble
from .evaluation import evaluate
from .history import Progress, TrainResult, _json_float, _jsonable
from .loop import train
from .plan import RecipePlan, plan_run

__all__ = ["RecipeResult", "fit"]


@dataclass
class RecipeResult:
    """What :func:`fit` returns: the final model, its one test score, and how it was chosen."""

    net: nn.Module  # MultiresNet, or MultiresEnsemble when ensemble > 1; eval mode, CPU
    config: TrainConfig
    protocol: Protocol
    task_name: str
    kind: str
    test: dict[str, Any]  # the final model on the test split: the only time test is read
    train: dict[str, Any]  # the final model on the whole training split it was fit on (eval mode)
    members: list[TrainResult]  # the final runs (one per ensemble member)
    cv: dict[str, Any] | None = None  # cross-validation: curves, chosen epochs, scores
    holdout: list[TrainResult] = field(default_factory=list)  # holdout runs (protocol holdout)
    budget_epochs: int | None = None  # epochs of the final runs
    n_train_used: int = 0  # training series the final model was fit on
    warnings: list[str] = field(default_factory=list)
    wall_time: float = 0.0
    plan: RecipePlan | None = None  # the plan made before the run, with its time estimate

    @property
    def test_metric(self) -> float:
        return self.test["metric"]

    def describe(self) -> str:
        """The protocol in plain words, for the summary line."""
        p = self.protocol
        if p.name == "cv":
            score = self.cv["chosen_score"]
            compared = ", ".join(str(d["depth"]) for d in self.cv["depths"])
            depth = f"tree depth {self.cv['chosen_depth']} (of {compared}) and " if len(self.cv["depths"]) > 1 else ""
            return (f"{p.folds}-fold cross-validation on the training split ({p.reason}) chose {depth}"
                    f"{self.budget_epochs} epochs (mean held-out accuracy {score:.3f}), then refit on all "
                    f"{self.n_train_used} training series")
        if p.name == "fixed":
            return (f"no selection ({p.reason}): all {self.n_train_used} training series for the configured "
                    f"{self.budget_epochs} epochs, last weights")
        text = f"holdout validation split ({p.reason})"
        if p.refit:
            text += f", then refit on all {self.n_train_used} training series for {self.budget_epochs} epochs"
        return text

    def metrics(self) -> dict[str, Any]:
        """JSON-ready metrics: member 0's run record, with the final model's scores and the protocol."""
        out = self.members[0].metrics()
        runs = {id(m): m for m in (*self.members, *self.holdout)}.values()  # without a refit, members are the holdout runs
        out.update({
            "metric_name": self.test["metric_name"],
            "test_metric": _json_float(self.test["metric"]),
            "test": _jsonable(self.test),
            "train": _jsonable(self.train),
            "train_metric_eval_mode": _json_float(self.train.get("metric")),
            "protocol": {
                "name": self.protocol.name, "folds": self.protocol.folds, "refit": self.protocol.refit,
                "reason": self.protocol.reason, "description": self.describe(),
                "budget_epochs": self.budget_epochs, "n_train_used": self.n_train_used,
                "cv": _jsonable(self.cv) if self.cv is not None else None,
            },
            "ensemble_members": len(self.members),
            "member_seeds": [m.config.seed for m in self.members],
            "warnings": list(self.warnings),
            "wall_time_s": round(self.wall_time, 3),
            "train_time_s": round(sum(m.train_time for m in runs) + (self.cv or {}).get("train_time_s", 0.0), 3),
            "train_config": self.config.to_dict(),
            "n_parameters": self.net.n_parameters(),
        })
        if self.plan is not None:
            out.update(estimated_seconds=round(self.plan.seconds, 1),
                       estimated_step_seconds=round(self.plan.step_seconds, 5),
                       estimate_basis=self.plan.basis)
        if self.protocol.name == "cv" or self.protocol.refit:
            out["val_metric"] = None  # no held-out split was left: the refit used all training series
            out["val"] = None
        if self.kind == "classify":
            out["test_accuracy"] = out["test_metric"]
            out["train_accuracy_eval_mode"] = out["train_metric_eval_mode"]
        else:
            out["test_r2_mean"] = out["test_metric"]
            out["test_r2_per_lag"] = out["test"]["r2"]
        return out


def fit(task: TaskData, config: TrainConfig | None = None,
        callback: Callable[[str, Progress], Any] | None = None, *, plan: RecipePlan | None = None) -> RecipeResult:
    """Train with the recipe's protocol (see the module docstring); the test split is read once, last.

    Parameters
    ----------
    task : TaskData
    config : TrainConfig, optional
        ``protocol``, ``folds``, ``refit`` and ``ensemble`` are read here, the rest by every
        :func:`~multires.training.train` sub-run. ``max_seconds`` bounds the whole of it: each
        sub-run gets the remaining time in proportion to its planned steps.
    callback : callable, optional
        ``callback(stage, progress)`` after every step of every sub-run (``stage`` names the
        sub-run, e.g. ``"fold 2/5"``); a truthy return stops the current sub-run.
    plan : RecipePlan, optional
        :func:`~multires.training.plan.plan_run`'s plan of this task and config, when the caller
        has made it already (the CLI prints it first); otherwise it is made here, its times
        measured. The result keeps it (``result.plan``; ``metrics()`` records its estimate).

    Raises
    ------
    ValueError
        A bad config, or cross-validation on too few series per class.
    multires.training.TrainingError
        A sub-run failed.
    """
    config = TrainConfig() if config is None else config
    config.validate()
    plan = plan_run(task, config) if plan is None else plan
    start = time.perf_counter()  # the run's clock (and max_seconds) starts after its plan
    protocol = plan.protocol
    run = _SubRuns(config.max_seconds, plan.total_steps, start, callback)
    cv: dict[str, Any] | None = None
    holdout: list[TrainResult] = []
    warnings_out: list[str] = []
    final_config = config  # the final runs' config: the cv protocol may choose their tree depth
    if protocol.name == "cv":
        cv = cross_validate(task, config, protocol.folds, run)
        epochs = cv["chosen_epochs"]
        if len(cv["depths"]) > 1:  # the depth chosen among several
            final_config = config.with_values(depth=cv["chosen_depth"])
        warnings_out += cv.pop("warnings")
    elif protocol.name == "fixed":
        epochs = fold_epochs(config, len(training_pool(task)[1]))
    else:
        for member in range(config.ensemble if not protocol.refit else 1):
            seed = config.seed + member
            run_task = dataclasses.replace(task, x_test=task.x_val, y_test=task.y_val)  # test stays unread
            holdout.append(run(run_task, config.with_values(seed=seed), f"holdout run (seed {seed})"))
        epochs = holdout[0].best_epoch or holdout[0].epochs_done
    if protocol.name == "cv" or protocol.refit:
        fit_task = _pooled_task(task)
        members = _refit(fit_task, final_config, epochs, run)
    else:
        members, fit_task = holdout, task
    for member in members:
        warnings_out += [w for w in member.warnings if w not in warnings_out]
    nets = [m.net for m in members]
    if config.transforms_inputs:  # BatchNorm statistics gathered on augmented batches: redo them on clean series
        for net in nets:
            recalibrate_batchnorm(net, fit_task.x_train)
    net = nets[0] if len(nets) == 1 else MultiresEnsemble(nets).eval()
    train_score = members[0].train if len(nets) == 1 and not config.transforms_inputs else evaluate(net, fit_task, "train")
    test = evaluate(net, task, "test")  # the one and only read of the test split
    return RecipeResult(net=net, config=config, protocol=protocol, task_name=task.name, kind=task.kind,
                        test=test, train=train_score, members=members, cv=cv, holdout=holdout,
                        budget_epochs=epochs, n_train_used=len(fit_task.y_train), warnings=warnings_out,
                        wall_time=time.perf_counter() - start, plan=plan)


def _pooled_task(task: TaskData) -> TaskData:
    """``task`` with the whole training split as its train part, at most
    :data:`~multires.training.crossval.POOLED_CURVE_SERIES` of them as its validation part (the
    refit's training curve); test a stand-in."""
    x_pool, y_pool = training_pool(task)
    every = curve_stride(len(y_pool))
    return dataclasses.replace(task, x_train=x_pool, y_train=y_pool, x_val=x_pool[::every], y_val=y_pool[::every],
                               x_test=x_pool[:1], y_test=y_pool[:1])


def _refit(final_task: TaskData, config: TrainConfig, epochs: int, run: _SubRuns) -> list[TrainResult]:
    """The final models on ``final_task`` (:func:`_pooled_task`): one per ensemble member, ``epochs``
    epochs, last weights."""
    n = len(final_task.y_train)
    members = []
    for member in range(config.ensemble):
        seed = config.seed + member
        run_config = config.for_epochs(epochs, n, seed=seed, select_best=False, patience=None)
        members.append(run(final_task, run_config, f"refit {member + 1}/{config.ensemble} (seed {seed})"))
    return members


@dataclass
class _SubRuns:
    """Runs the recipe's sub-runs, one :func:`train` each, sharing ``max_seconds`` out over them in
    proportion to their planned steps; ``callback`` hears every step with the sub-run's name."""

    limit: float | None
    planned_steps: int
    start: float
    callback: Callable[[str, Progress], Any] | None = None
    used_steps: int = 0

    def seconds_for(self, steps: int) -> float | None:
        if self.limit is None:
            return None
        left = self.limit - (time.perf_counter() - self.start)
        share = steps / max(self.planned_steps - self.used_steps, steps, 1)
        return max(0.1, left * min(share, 1.0))

    def __call__(self, task: TaskData, config: TrainConfig, stage: str) -> TrainResult:
        steps_per_epoch = math.ceil(len(task.x_train) / config.batch_size)
        steps = config.total_epochs(steps_per_epoch) * steps_per_epoch
        run_config = config.with_values(max_seconds=self.seconds_for(steps))
        callback = self.callback
        result = train(task, run_config, None if callback is None else (lambda p: callback(stage, p)))
        self.used_steps += steps
        return result
