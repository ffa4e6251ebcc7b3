"""The small-data recipe: choose the budget by cross-validation, refit, ensemble; test scored once.

:func:`fit` is what the CLI (``multires-train``) runs; :func:`multires.training.train` stays the
one training loop it calls for every sub-run. The protocols (``TrainConfig.protocol``):

* ``cv`` -- stratified k-fold cross-validation (scikit-learn's ``StratifiedKFold``, shuffled with
  ``random_state=seed``, so seeds vary the folds) on the task's whole *training split* (its
  ``train`` and ``val`` parts together: for UCR and ``from_arrays`` tasks that is the official
  training split). Every fold trains the full planned budget and keeps the last weights; after each
  epoch it is scored on its held-out fold. The chosen budget is the epoch count with the best mean
  held-out accuracy over the folds (ties go to the *later* epoch, and only epochs whose BatchNorm
  statistics can have converged compete). Then the model is refit on the whole training split for
  that many epochs (a full warm-up + cosine schedule of that length), keeping the last weights.
* ``holdout`` -- one run on the task's own train/validation split, the best validation epoch's
  weights (ties to the later epoch); with ``refit=True`` it is then refit on train + validation for
  the best epoch's number of epochs.
* ``auto`` (the default) -- ``cv`` for classification tasks of at most :data:`CV_MAX_SERIES`
  training series, ``holdout`` otherwise (a 3,500-series MNIST split has a validation split large
  enough to choose an epoch, and k refits would multiply a long run).

With ``augment`` the final models' BatchNorm statistics are recomputed on the clean training series
(:func:`recalibrate_batchnorm`): the running statistics gathered on augmented batches describe
other inputs than the ones the model is scored on.

``ensemble=K`` trains K final models with seeds ``seed, seed+1, ...`` (the budget is chosen once)
and averages their probabilities (:class:`~multires.training.ensemble.MultiresEnsemble`).

The test split is read once, at the very end, by :func:`multires.evaluation.evaluate` on the final
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
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold
from torch import nn

from ..data.tasks import TaskData
from .config import TrainConfig
from .ensemble import MultiresEnsemble
from .evaluation import evaluate
from .history import Progress, TrainResult, _json_float, _jsonable
from .loop import BN_FORGET, train

__all__ = [
    "CV_MAX_SERIES",
    "FAR_PAST",
    "RecipePlan",
    "RecipeResult",
    "RunRefused",
    "check_plan",
    "fit",
    "plan_run",
    "recalibrate_batchnorm",
    "resolve_protocol",
]

#: ``protocol="auto"`` cross-validates classification tasks with at most this many training series.
CV_MAX_SERIES = 1000
#: A planned run this many times past ``max_seconds`` is refused (:func:`check_plan`).
FAR_PAST = 2.0


class RunRefused(ValueError):
    """The planned run is far past its time limit; the message says by how much and what to lower."""


@dataclass(frozen=True)
class Protocol:
    """What :func:`fit` will do: ``name`` (cv or holdout), folds, refit, and why."""

    name: str
    folds: int | None
    refit: bool
    reason: str


def _with(config: TrainConfig, **changes: Any) -> TrainConfig:
    """``config`` with ``changes``, every value kept as given (``dataclasses.replace`` would let the
    preset refill a field set to its default value)."""
    return TrainConfig.from_dict({**config.to_dict(), **changes})


def _steps_budget(config: TrainConfig, epochs: int, n_train: int, **changes: Any) -> TrainConfig:
    """``config`` set to exactly ``epochs`` epochs over ``n_train`` series, as a step count
    (``epochs`` is capped by ``TRAIN_LIMITS``, ``min_steps`` much higher)."""
    return _with(config, epochs=1, min_steps=epochs * math.ceil(n_train / config.batch_size), **changes)


def _pool(task: TaskData) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training split: the task's train and validation parts together."""
    return torch.cat([task.x_train, task.x_val]), torch.cat([task.y_train, task.y_val])


def resolve_protocol(task: TaskData, config: TrainConfig) -> Protocol:
    """The protocol ``config`` asks for on ``task`` (``auto`` decided by the number of training series)."""
    _, y = _pool(task)
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


# --------------------------------------------------------------------------------------------
# Cost plan (printed before a run; refused when far past max_seconds)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipePlan:
    """The planned sub-runs of :func:`fit` and their estimated time (:mod:`multires.training.runcost`).

    ``measured_steps`` > 0: the step and evaluation times were measured on this machine just before
    (:func:`multires.training.calibrate.measure_rates`); 0: they are the work-count model's
    conservative figures (``not_measured`` says why).
    """

    protocol: Protocol
    runs: tuple[tuple[str, int, int], ...]  # (what, count, steps per run)
    seconds: float  # estimated training + scoring time of everything
    step_seconds: float  # one optimizer step
    measured_steps: int = 0  # optimizer steps the step time was measured on; 0: not measured
    not_measured: str | None = None  # why the times are the model's, when they are
    calibration_seconds: float = 0.0  # what the measurement took

    @property
    def total_steps(self) -> int:
        return sum(count * steps for _, count, steps in self.runs)

    @property
    def basis(self) -> str:
        """How the times were obtained, in words: ``"measured on 3 steps"`` or why they are the model's."""
        if self.measured_steps:
            return f"measured on {self.measured_steps} step{'s' if self.measured_steps != 1 else ''}"
        why = f": {self.not_measured}" if self.not_measured else ""
        return f"estimated from the model's size, not measured{why}"

    def summary(self) -> str:
        parts = ", ".join(f"{count} x {steps} steps ({what})" for what, count, steps in self.runs)
        return (f"plan: {self.protocol.name} protocol, {parts}: {self.total_steps} steps at about "
                f"{self.step_seconds:.3g} s each ({self.basis}), about {_duration(self.seconds)}")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def plan_run(task: TaskData, config: TrainConfig, calibrate: bool = True) -> RecipePlan:
    """Estimate every sub-run :func:`fit` will do (the refit at the full planned budget: an upper bound).

    With ``calibrate`` (the default) the step and evaluation times are measured first on a throwaway
    copy of the model in this process (:func:`multires.training.calibrate.measure_rates`: a few
    seconds at most, the run's results unchanged); when that is off or fails, the work-count model's
    conservative times are used and the plan says so.
    """
    from .runcost import TaskShape, estimate_run

    protocol = resolve_protocol(task, config)
    rates, not_measured = None, "timing was turned off"
    if calibrate:
        from .calibrate import measure_rates

        try:
            rates = measure_rates(task, config)
        except RuntimeError as err:  # e.g. out of memory on the device: the model's figures still stand
            not_measured = f"timing a step failed ({str(err).splitlines()[0][:200]})"
    shape = TaskShape.from_task(task)
    n = shape.n_train + shape.n_val
    runs: list[tuple[str, int, int]] = []
    seconds = 0.0
    one = _with(config, max_seconds=None)
    if protocol.name == "cv":
        k = protocol.folds
        fold_shape = dataclasses.replace(shape, n_train=n - n // k, n_val=n // k, n_test=n // k)
        cost = estimate_run(one, fold_shape, rates)
        runs.append((f"{k}-fold cross-validation", k, cost.steps))
        seconds += k * cost.total_seconds
        final_shape = dataclasses.replace(shape, n_train=n, n_val=n, n_test=1)
        final = estimate_run(_steps_budget(one, _fold_epochs(config, n - n // k), n), final_shape, rates)
    else:
        cost = estimate_run(one, shape, rates)
        runs.append(("holdout run" if config.ensemble == 1 else "holdout runs", config.ensemble, cost.steps))
        seconds += config.ensemble * cost.total_seconds
        final = cost if protocol.refit else None
        if final is not None:
            final = estimate_run(one, dataclasses.replace(shape, n_train=n, n_val=n, n_test=1), rates)
    if final is not None:
        runs.append(("refit on the whole training split", config.ensemble, final.steps))
        seconds += config.ensemble * final.total_seconds
    fit_series = n if final is not None else shape.n_train
    seconds += _final_scoring_series(config, shape.n_test, fit_series) * cost.forward_seconds_per_sample
    return RecipePlan(protocol, tuple(runs), seconds, cost.step_seconds, cost.measured_steps,
                      None if rates is not None else not_measured, 0.0 if rates is None else rates.seconds)


def _final_scoring_series(config: TrainConfig, n_test: int, n_fit: int) -> int:
    """Series :func:`fit` passes through its final models after the sub-runs (each member counted)."""
    series = n_test  # the one read of the test split
    if config.augment != "none":
        series += 2 * n_fit  # BatchNorm statistics recomputed, then the training split rescored
    elif config.ensemble > 1:
        series += n_fit  # the ensemble's training score
    return config.ensemble * series


def check_plan(plan: RecipePlan, max_seconds: float | None) -> None:
    """Raise :class:`RunRefused` when ``plan`` is more than :data:`FAR_PAST` times ``max_seconds``."""
    if max_seconds is None or plan.seconds <= FAR_PAST * max_seconds:
        return
    share = max_seconds / plan.seconds
    raise RunRefused(
        f"this run is planned at about {_duration(plan.seconds)} but the time limit is "
        f"{_duration(max_seconds)}: it would stop after about {100 * share:.0f} % of its planned training "
        "and the model would be under-trained. Lower the budget (min steps, epochs, folds, ensemble size, "
        "model width), raise the time limit, or run it anyway (--force)."
    )


# --------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------


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
            return (f"{p.folds}-fold cross-validation on the training split ({p.reason}) chose "
                    f"{self.budget_epochs} epochs (mean held-out accuracy {score:.3f}), then refit on all "
                    f"{self.n_train_used} training series")
        text = f"holdout validation split ({p.reason})"
        if p.refit:
            text += f", then refit on all {self.n_train_used} training series for {self.budget_epochs} epochs"
        return text

    def metrics(self) -> dict[str, Any]:
        """JSON-ready metrics: member 0's run record, with the final model's scores and the protocol."""
        out = self.members[0].metrics()
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
            "train_time_s": round(sum(m.train_time for m in self.members)
                                  + sum(m.train_time for m in self.holdout)
                                  + (self.cv or {}).get("train_time_s", 0.0), 3),
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
        :func:`plan_run`'s plan of this task and config, when the caller has made it already (the
        CLI prints it first); otherwise it is made here, its times measured. The result keeps it
        (``result.plan``; ``metrics()`` records its estimate).

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
    budget = _Budget(config.max_seconds, plan.total_steps, start)
    x_pool, y_pool = _pool(task)
    cv: dict[str, Any] | None = None
    holdout: list[TrainResult] = []
    warnings_out: list[str] = []
    if protocol.name == "cv":
        cv = _cross_validate(task, config, protocol.folds, budget, callback)
        epochs = cv["chosen_epochs"]
        warnings_out += cv.pop("warnings")
    else:
        for member in range(config.ensemble if not protocol.refit else 1):
            seed = config.seed + member
            run_task = dataclasses.replace(task, x_test=task.x_val, y_test=task.y_val)  # test stays unread
            run_config = _with(config, seed=seed)
            holdout.append(_sub_run(run_task, run_config, budget, callback, f"holdout run (seed {seed})"))
        best = holdout[0].best_epoch or holdout[0].epochs_done
        epochs = best
    if protocol.name == "cv" or protocol.refit:
        final_task = dataclasses.replace(task, x_train=x_pool, y_train=y_pool, x_val=x_pool, y_val=y_pool,
                                         x_test=x_pool[:1], y_test=y_pool[:1])
        members = []
        for member in range(config.ensemble):
            seed = config.seed + member
            run_config = _steps_budget(config, epochs, len(y_pool), seed=seed, select_best=False, patience=None)
            members.append(_sub_run(final_task, run_config, budget, callback,
                                    f"refit {member + 1}/{config.ensemble} (seed {seed})"))
        n_used, fit_task = len(y_pool), final_task
    else:
        members, n_used, fit_task = holdout, len(task.y_train), task
    for run in members:
        warnings_out += [w for w in run.warnings if w not in warnings_out]
    nets = [m.net for m in members]
    if config.augment != "none":  # BatchNorm statistics gathered on augmented batches: redo them on clean series
        for member in nets:
            recalibrate_batchnorm(member, fit_task.x_train)
    net = nets[0] if len(nets) == 1 else MultiresEnsemble(nets).eval()
    train_score = members[0].train if len(nets) == 1 and config.augment == "none" else evaluate(net, fit_task, "train")
    test = evaluate(net, task, "test")  # the one and only read of the test split
    return RecipeResult(net=net, config=config, protocol=protocol, task_name=task.name, kind=task.kind,
                        test=test, train=train_score, members=members, cv=cv, holdout=holdout,
                        budget_epochs=epochs, n_train_used=n_used, warnings=warnings_out,
                        wall_time=time.perf_counter() - start, plan=plan)


@dataclass
class _Budget:
    """Shares ``max_seconds`` out over the sub-runs in proportion to their planned steps."""

    limit: float | None
    planned_steps: int
    start: float
    used_steps: int = 0

    def seconds_for(self, steps: int) -> float | None:
        if self.limit is None:
            return None
        left = self.limit - (time.perf_counter() - self.start)
        share = steps / max(self.planned_steps - self.used_steps, steps, 1)
        return max(0.1, left * min(share, 1.0))


def _sub_run(task: TaskData, config: TrainConfig, budget: _Budget, callback: Callable | None,
             stage: str) -> TrainResult:
    steps_per_epoch = math.ceil(len(task.x_train) / config.batch_size)
    steps = config.total_epochs(steps_per_epoch) * steps_per_epoch
    limit = budget.seconds_for(steps)
    run_config = _with(config, max_seconds=limit)
    result = train(task, run_config, None if callback is None else (lambda p: callback(stage, p)))
    budget.used_steps += steps
    return result


def _fold_epochs(config: TrainConfig, n_fold_train: int) -> int:
    """Epochs every fold trains: the config's budget on the largest fold (the same for all folds)."""
    return config.total_epochs(math.ceil(n_fold_train / config.batch_size))


def _cross_validate(task: TaskData, config: TrainConfig, k: int, budget: _Budget,
                    callback: Callable | None) -> dict[str, Any]:
    x, y = _pool(task)
    labels = y.numpy()
    splitter = (StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed) if task.kind == "classify"
                else KFold(n_splits=k, shuffle=True, random_state=config.seed))
    folds = list(splitter.split(np.zeros(len(labels)), labels if task.kind == "classify" else None))
    epochs = _fold_epochs(config, max(len(tr) for tr, _ in folds))
    fold_config = _steps_budget(config, epochs, max(len(tr) for tr, _ in folds), select_best=False, patience=None)
    curves, losses, eligible, fold_indices, messages = [], [], None, [], []
    train_time = 0.0
    for index, (tr, va) in enumerate(folds):
        tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
        fold_task = dataclasses.replace(task, x_train=x[tr_t], y_train=y[tr_t], x_val=x[va_t], y_val=y[va_t],
                                        x_test=x[va_t], y_test=y[va_t])  # the held-out fold, never test
        result = _sub_run(fold_task, fold_config, budget, callback, f"fold {index + 1}/{k}")
        curves.append(list(result.history.epoch_val))
        losses.append(list(result.history.epoch_val_loss))
        fold_indices.append(va.tolist())
        train_time += result.train_time
        steps = result.history.epoch_step
        needed = _batchnorm_needed(result.net)
        ok = [s >= needed for s in steps]
        eligible = ok if eligible is None else [a and b for a, b in zip(eligible, ok)]
        if result.stop_reason == "max_seconds":
            messages.append(f"the time limit cut cross-validation fold {index + 1} at {result.steps} of "
                            f"{result.total_steps} steps: the budget was chosen among the epochs it reached")
    done = min(len(c) for c in curves)
    mean = [float(np.mean([c[e] for c in curves])) for e in range(done)]
    candidates = [e for e in range(done) if eligible[e]] or list(range(done))
    best = max(candidates, key=lambda e: (mean[e], e))  # ties go to the later epoch
    return {
        "folds": k,
        "splitter": type(splitter).__name__,
        "random_state": config.seed,
        "fold_sizes": [len(v) for v in fold_indices],
        "held_out_indices": fold_indices,
        "epochs_per_fold": epochs,
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


def _batchnorm_needed(net: nn.Module) -> int:
    needed = 0
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.momentum:
            needed = max(needed, math.ceil(math.log(BN_FORGET) / math.log(1.0 - module.momentum)))
    return needed


@torch.no_grad()
def recalibrate_batchnorm(net: nn.Module, x: torch.Tensor, batch_size: int = 64) -> nn.Module:
    """Recompute every BatchNorm's running statistics as the exact average over ``x`` (training data).

    The fix for eval-mode scores far below training ones when the kept weights are not the last
    (their running statistics still mix in older weights). Returns ``net`` in eval mode.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return net.eval()
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    device = next(net.parameters()).device
    try:
        for first in range(0, len(x), batch_size):
            net(x[first : first + batch_size].to(device))
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
    return net.eval()
