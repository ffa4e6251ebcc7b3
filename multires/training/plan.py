"""The recipe's plan: every sub-run :func:`multires.training.fit` will do and its time, before it starts.

:func:`plan_run` lists the sub-runs (the folds, the holdout runs, the refits) with their optimizer
steps and estimates their training and scoring time with the run-cost model
(:mod:`multires.training.runcost`), its step times measured on this machine first
(:mod:`multires.training.calibrate`) unless that is off or fails. The CLI prints the plan before the
run; :func:`check_plan` refuses (:class:`RunRefused`) a run planned more than :data:`FAR_PAST` times
past its time limit, which would stop it far short of its schedule and leave the model under-trained.

Examples
--------
>>> from multires.data.tasks import load_task
>>> task = load_task("ucr:GunPoint", seed=0)
>>> plan = plan_run(task, TrainConfig(d_model=4, n_layers=1, epochs=2, min_steps=0, folds=2, cv_depths="3,full"),
...                 calibrate=False)
>>> [(what, count) for what, count, _ in plan.runs], plan.measured_steps
([('2-fold cross-validation, tree depth 8', 2), ('2-fold cross-validation, tree depth 3', 2), ('refit on the whole training split', 1)], 0)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..data.tasks import TaskData
from .config import TrainConfig
from .crossval import Protocol, curve_stride, depth_candidates, fold_epochs, resolve_protocol

__all__ = ["FAR_PAST", "RecipePlan", "RunRefused", "check_plan", "plan_run"]

#: A planned run this many times past ``max_seconds`` is refused (:func:`check_plan`).
FAR_PAST = 2.0


class RunRefused(ValueError):
    """The planned run is far past its time limit; the message says by how much and what to lower."""


@dataclass(frozen=True)
class RecipePlan:
    """The planned sub-runs of :func:`multires.training.fit` and their estimated time
    (:mod:`multires.training.runcost`).

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
    """Estimate every sub-run :func:`multires.training.fit` will do (the refit at the full planned
    budget: an upper bound).

    With ``calibrate`` (the default) the step and evaluation times are measured first on a throwaway
    copy of the model in this process (:func:`multires.training.calibrate.measure_rates`: a few
    seconds at most, the run's results unchanged); when that is off or fails, the work-count model's
    conservative times are used and the plan says so.
    """
    from .runcost import TaskShape, estimate_run

    protocol = resolve_protocol(task, config)
    depths = depth_candidates(task, config) if protocol.name == "cv" else [config.depth]
    timed = [_measured(task, config.with_values(depth=depth), calibrate) for depth in depths]
    rates, not_measured = timed[0]
    shape = TaskShape.from_task(task)
    n = shape.n_train + shape.n_val
    runs: list[tuple[str, int, int]] = []
    seconds = 0.0
    one = config.with_values(max_seconds=None)
    pooled = dataclasses.replace(shape, n_train=n, n_val=len(range(0, n, curve_stride(n))), n_test=1)
    if protocol.name == "cv":
        k = protocol.folds
        fold_shape = dataclasses.replace(shape, n_train=n - n // k, n_val=n // k, n_test=n // k)
        costs = [estimate_run(one.with_values(depth=depth), fold_shape, depth_rates)
                 for depth, (depth_rates, _) in zip(depths, timed)]
        for depth, depth_cost in zip(depths, costs):
            label = f", tree depth {depth}" if len(depths) > 1 else ""
            runs.append((f"{k}-fold cross-validation{label}", k, depth_cost.steps))
            seconds += k * depth_cost.total_seconds
        cost = costs[0]  # the deepest tree, the slowest: it bounds the refit, whose depth the folds choose
        final = estimate_run(one.for_epochs(fold_epochs(config, n - n // k), n, depth=depths[0]), pooled, rates)
    elif protocol.name == "fixed":
        final = cost = estimate_run(one, pooled, rates)
    else:
        cost = estimate_run(one, shape, rates)
        runs.append(("holdout run" if config.ensemble == 1 else "holdout runs", config.ensemble, cost.steps))
        seconds += config.ensemble * cost.total_seconds
        final = estimate_run(one, pooled, rates) if protocol.refit else None
    if final is not None:
        what = "the whole training split" if protocol.name == "fixed" else "refit on the whole training split"
        runs.append((what, config.ensemble, final.steps))
        seconds += config.ensemble * final.total_seconds
    fit_series = n if final is not None else shape.n_train
    seconds += _final_scoring_series(config, shape.n_test, fit_series) * cost.forward_seconds_per_sample
    return RecipePlan(protocol, tuple(runs), seconds, cost.step_seconds, cost.measured_steps,
                      None if rates is not None else not_measured,
                      sum(r.seconds for r, _ in timed if r is not None))


def _measured(task: TaskData, config: TrainConfig, calibrate: bool):
    """``(rates, why not)``: the step and evaluation times measured on this machine
    (:func:`multires.training.calibrate.measure_rates`), or ``None`` and why they were not."""
    if not calibrate:
        return None, "timing was turned off"
    from .calibrate import measure_rates

    try:
        return measure_rates(task, config), None
    except RuntimeError as err:  # e.g. out of memory on the device: the model's figures still stand
        return None, f"timing a step failed ({str(err).splitlines()[0][:200]})"


def _final_scoring_series(config: TrainConfig, n_test: int, n_fit: int) -> int:
    """Series :func:`multires.training.fit` passes through its final models after the sub-runs (each
    member counted)."""
    series = n_test  # the one read of the test split
    if config.transforms_inputs:
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
