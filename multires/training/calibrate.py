"""Time a run's real optimizer steps before it starts, so the printed estimate is measured, not modelled.

:func:`time_steps` is the one step timer of the project: it runs the step :func:`multires.training.train`
runs (augmentation, the learned selection's update, :func:`~multires.training.loop.forward_backward`,
the step statistics, AdamW and the schedule) on one batch and returns each timed step's seconds.
:func:`measure_rates` builds a throwaway copy of the run's model (same config, seed, device and the
caller's thread count) on a batch of the task's real series, times one warm-up and at least
:data:`CALIBRATION_STEPS` steps (more for fast steps: :data:`CALIBRATION_MIN_SECONDS`) plus one
evaluation batch, and returns
:class:`~multires.training.runcost.MeasuredRates` for :func:`~multires.training.runcost.estimate_run`.
``benchmarks/bench_runcost.py`` calls :func:`time_steps` too.

The measurement costs a few seconds (about :data:`CALIBRATION_SECONDS` plus one step at most: a slow
model is timed on fewer steps, a very slow one on its first step alone) and does not change the run: the model, its optimizer and the batch are copies, and
PyTorch's global random state is saved and restored around it.

Examples
--------
>>> from multires.data.tasks import load_task
>>> from multires.training.config import TrainConfig
>>> rates = measure_rates(load_task("digits", seed=0), TrainConfig(d_model=8, n_layers=1))
>>> 1 <= rates.steps_timed <= CALIBRATION_MAX_STEPS, rates.step_seconds > 0, rates.forward_seconds_per_sample > 0
(True, True, True)
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

import torch

from ..model import MultiresNet, build_model
from .augment import make_augmenter, make_mixup
from .config import TrainConfig
from .device import resolve_device
from .evaluation import step_stats
from .loop import forward_backward
from .optimization import build_optimizer
from .runcost import MeasuredRates, eval_batch

if TYPE_CHECKING:
    from ..data.tasks import ImageLayout

__all__ = [
    "CALIBRATION_MAX_STEPS", "CALIBRATION_MIN_SECONDS", "CALIBRATION_SECONDS", "CALIBRATION_STEPS", "measure_rates",
    "time_forward", "time_steps",
]

#: Optimizer steps timed after the warm-up step, at least (their mean is the step time).
CALIBRATION_STEPS = 3
#: ...and more, up to :data:`CALIBRATION_MAX_STEPS`, until the timed steps add up to this many seconds:
#: a step of a few milliseconds is timed many times, so one interruption by another process weighs little.
CALIBRATION_MIN_SECONDS = 1.0
CALIBRATION_MAX_STEPS = 30
#: The timed steps stop early when they would take longer than this (at least one is timed).
CALIBRATION_SECONDS = 5.0


def _sync(device: torch.device) -> None:
    """Wait for an accelerator's queued work, so the clock reads finished steps."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_steps(net: MultiresNet, config: TrainConfig, x: torch.Tensor, y: torch.Tensor, kind: str,
               steps: int = CALIBRATION_STEPS, warmup: int = 1, max_seconds: float | None = CALIBRATION_SECONDS,
               min_seconds: float = 0.0, max_steps: int | None = None, image: ImageLayout | None = None) -> list[float]:
    """Seconds of each timed optimizer step of ``net`` on the batch ``(x, y)``, as :func:`train` steps.

    ``net`` is trained by these steps (pass a copy); ``x`` and ``y`` are moved to its device at every
    step, as the loop moves each batch. The first ``warmup`` steps pay one-time costs and are not
    returned. ``steps`` steps are timed, and more, up to ``max_steps``, while the timed ones add up to
    less than ``min_seconds``. With ``max_seconds``, fewer than ``steps`` are timed when the warm-up
    shows they would take longer (at least one always is), and a warm-up step that alone takes
    ``max_seconds`` or more is returned as the only measurement. ``image`` is the task's picture layout,
    for a config that shifts pictures.
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be at least 1 and warmup at least 0, got {steps} and {warmup}")
    limit = steps if max_steps is None else max(steps, max_steps)
    device = next(net.parameters()).device
    augment, mixup = make_augmenter(config.augment, config.seed, image), make_mixup(config.mixup, config.seed)
    optimizer, scheduler, clock = build_optimizer(net, config, 1, warmup + limit)
    learned = any(conv.tree_select == "learned" for conv in net.convs)
    net.train()
    times: list[float] = []
    index = 0
    start_all = time.perf_counter()
    while len(times) < steps or (sum(times) < min_seconds and len(times) < limit):
        start = time.perf_counter()
        batch, target = x.to(device), y.to(device)
        if augment is not None:
            batch = augment(batch)
        if learned:
            net.update_selection(clock.progress)
        out, loss = forward_backward(net, optimizer, batch, target, kind, config.label_smoothing, mixup)
        totals = torch.cat([step_stats(out.detach(), target, loss.detach(), kind),
                            torch.tensor([time.perf_counter() - start_all], dtype=torch.float64)])
        bool(totals[2] > 0)  # the loop reads the non-finite flag before stepping
        optimizer.step()
        clock.step += 1
        scheduler.step()
        _sync(device)
        seconds = time.perf_counter() - start
        if index >= warmup:
            times.append(seconds)
        elif max_seconds is not None and seconds >= max_seconds:  # one slow step is measure enough: keep
            return [seconds]  # it (one-time costs included, so on the high side) and time no more
        elif max_seconds is not None and index == warmup - 1:  # the warm-up tells how many fit
            steps = max(1, min(steps, int(max_seconds / max(seconds, 1e-9))))
        index += 1
    return times


@torch.no_grad()
def time_forward(net: MultiresNet, x: torch.Tensor, repeats: int = 2) -> float:
    """Seconds per series of ``net`` in evaluation mode on the batch ``x`` (best of ``repeats`` after a warm-up).

    The best, not the median: evaluation batches are few and short, and the step time already
    carries the machine's load.
    """
    was_training = net.training
    net.eval()
    try:
        net(x)
        _sync(x.device)
        best = float("inf")
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            net(x)
            _sync(x.device)
            best = min(best, time.perf_counter() - start)
    finally:
        net.train(was_training)
    return best / len(x)


def measure_rates(task: Any, config: TrainConfig, steps: int = CALIBRATION_STEPS,
                  max_seconds: float = CALIBRATION_SECONDS) -> MeasuredRates:
    """Time ``config``'s model on ``task`` (a ``TaskData``) in this process: step and evaluation rates.

    The model is built as :func:`train` builds it (same seed, filters frozen as asked, on the
    config's device) but thrown away after; the batch is the first ``batch_size`` training series,
    the evaluation batch the first :func:`~multires.training.runcost.eval_batch` series of the
    training and validation splits. PyTorch's global random state is restored afterwards.

    Raises
    ------
    ValueError
        A config that cannot be built on this task.
    RuntimeError
        PyTorch could not run the step (e.g. out of memory).
    """
    begin = time.perf_counter()
    config.validate()
    device = resolve_device(config.device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        net = build_model(config.model_config(task), config.seed).to(device)
        for conv in net.convs:
            conv.h0.requires_grad_(not config.freeze_filters)
            conv.h1.requires_grad_(not config.freeze_filters)
        index = torch.arange(min(config.batch_size, len(task.x_train)))
        x, y = task.x_train[index], task.y_train[index]
        times = time_steps(net, config, x, y, task.kind, steps=steps, max_seconds=max_seconds,
                           min_seconds=CALIBRATION_MIN_SECONDS, max_steps=CALIBRATION_MAX_STEPS,
                           image=task.image)
        pool = torch.cat([task.x_train, task.x_val])
        size = min(eval_batch(config.d_model, task.length), len(pool))
        forward = time_forward(net, pool[:size].to(device))
    # The mean, not the median: a step another process interrupted is part of what the run will pay.
    return MeasuredRates(statistics.fmean(times), forward, len(times), time.perf_counter() - begin)
