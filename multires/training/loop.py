"""Train a ``MultiresNet`` on a :class:`~multires.data.tasks.TaskData`: one pure, reproducible loop.

:func:`train` is the only training loop in the project: the Streamlit app calls it in-process
(with a ``callback`` that draws progress and can stop it), the CLI ``python -m multires.training``
calls it in one process or as one rank of a ``torchrun`` job (with :class:`DistributedHooks`),
and the scripts that make the shipped models call it too. It imports no Streamlit, never writes a
file and never calls ``torch.set_num_threads`` (the caller owns the thread pool).

The pieces live in their own modules: :class:`TrainConfig` and the presets
(:mod:`multires.training.config`), AdamW groups and the warm-up + cosine schedule
(:mod:`multires.training.optimization`), what the run tracks step by step, when it stops and what
it returns (:mod:`multires.training.runstate`), the warnings about its scores
(:mod:`multires.training.diagnostics`), what a run reports (:mod:`multires.training.history`),
``evaluate`` (:mod:`multires.training.evaluation`) and :class:`DistributedHooks`
(:mod:`multires.training.distributed`).

What a run does, in order: the budget is ``config.total_epochs`` whole epochs (at least
``min_steps`` optimizer steps); after every epoch the model is scored on the validation split in
eval mode and the best epoch's weights are kept (ties go to the later epoch; only epochs
whose BatchNorm statistics can have converged and whose learned selection is final compete); with
``patience`` the run stops after that many epochs without improvement; at the end the best
epoch's weights are restored (``select_best``) and train, validation and test are scored in eval
mode. :class:`TrainingWarning` flags BatchNorm statistics that cannot have converged and an
eval-mode training score far below the batch-statistics one.

Reproducibility: the model is initialised from ``seed`` (under a lock, with PyTorch's global
generator saved and restored around the build) and batches are shuffled by
``DistributedSampler(seed=seed)`` (its own ``torch.Generator``), so the same config and task give
bit-identical weights in a process with the same thread count, and the caller's global RNG state
is unchanged afterwards. With ``dropout > 0`` the dropout masks are drawn inside
``torch.random.fork_rng`` from a generator seeded with ``seed``: still reproducible and still
restored, but not isolated from other threads that use the global generator at the same time.

Examples
--------
>>> from multires.data.tasks import load_task
>>> task = load_task("digits", seed=0)
>>> result = train(task, TrainConfig(d_model=8, epochs=1, min_steps=0, norm="layer"))
>>> 0.0 <= result.test["accuracy"] <= 1.0, result.net.training, result.best_epoch
(True, False, 1)
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import DistributedSampler

from multires.plaintext import quote

from ..data.tasks.base import TaskData
from ..model import build_model
from .augment import Mixup, make_augmenter, make_mixup
from .config import TrainConfig
from .device import resolve_device
from .distributed import DistributedHooks, SingleProcess
from .evaluation import loss_fn, step_stats
from .history import Progress, TrainingError, TrainResult
from .optimization import build_optimizer
from .runstate import RunState

__all__ = ["forward_backward", "train"]

def train(
    task: TaskData,
    config: TrainConfig | None = None,
    callback: Callable[[Progress], Any] | None = None,
    *,
    distributed: DistributedHooks | None = None,
) -> TrainResult:
    """Train a ``MultiresNet`` on ``task`` with AdamW, warm-up + cosine, and best-epoch selection.

    Classification minimises cross entropy on the time-pooled output; recall minimises the MSE of
    the last step's output (``head="last"``). For ``tree_select="learned"`` the pruning schedule
    advances every step (``net.update_selection``), ends at exactly ``memory_size`` slots per
    channel, and about :data:`SELECTION_SNAPSHOTS` snapshots of the masks are recorded; only
    epochs after pruning ended compete for the best epoch. ``freeze_filters`` keeps ``h0, h1`` at
    their initial values (``requires_grad=False``).

    Parameters
    ----------
    task : TaskData
        From :func:`multires.data.tasks.load_task`.
    config : TrainConfig, optional
        Default: ``TrainConfig()``.
    callback : callable, optional
        Called with a :class:`Progress` after every step; a truthy return stops training cleanly
        after that step (``result.stopped``). Under ``distributed`` any rank's stop stops all.
        ``progress.net`` is the model being trained: a read-only view (copy what you need; do not
        modify it).
    distributed : DistributedHooks, optional
        Run as one rank of a ``torch.distributed`` job (see :class:`DistributedHooks`).

    Returns
    -------
    TrainResult
        A stopped run is still a valid model: a learned selection is completed to ``memory_size``
        slots at the stop. ``result.warnings`` lists every :class:`TrainingWarning` raised.

    Raises
    ------
    ValueError
        A bad config, or a task whose shapes do not fit.
    TrainingError
        Non-finite inputs or targets, or a non-finite loss (lower ``lr``).
    """
    start = time.perf_counter()
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    config.validate()
    _check_task(task)
    hooks = SingleProcess(resolve_device(config.device)) if distributed is None else distributed
    augment, mixup = make_augmenter(config.augment, config.seed, task.image), make_mixup(config.mixup, config.seed)
    net = build_model(config.model_config(task), config.seed).to(hooks.device)
    for conv in net.convs:
        conv.h0.requires_grad_(not config.freeze_filters)
        conv.h1.requires_grad_(not config.freeze_filters)
    sampler = DistributedSampler(range(len(task.x_train)), num_replicas=hooks.world_size, rank=hooks.rank,
                                 shuffle=True, seed=config.seed)
    per_rank_batch = max(1, config.batch_size // hooks.world_size)
    steps_per_epoch = math.ceil(len(sampler) / per_rank_batch)
    epochs = config.total_epochs(steps_per_epoch)
    optimizer, scheduler, clock = build_optimizer(net, config, steps_per_epoch, epochs * steps_per_epoch)
    run = RunState(config, task, net, hooks, clock, epochs, callback)
    loop_start = run.loop_start = time.perf_counter()
    with _dropout_rng(config):
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            order = torch.tensor(list(iter(sampler)), dtype=torch.long)
            run.start_epoch(epoch)
            for first in range(0, len(order), per_rank_batch):
                idx = order[first : first + per_rank_batch]
                x, y = task.x_train[idx].to(hooks.device), task.y_train[idx].to(hooks.device)
                if augment is not None:
                    x = augment(x)
                run.advance_selection()
                lr = optimizer.param_groups[0]["lr"]
                out, loss = forward_backward(run.model, optimizer, x, y, task.kind, config.label_smoothing, mixup)
                totals = hooks.all_sum(torch.cat([step_stats(out.detach(), y, loss.detach(), task.kind),
                                                  torch.tensor([time.perf_counter() - loop_start], dtype=torch.float64)]))
                run.check_finite(totals, epoch)
                optimizer.step()
                clock.step += 1
                clock.elapsed = float(totals[-1]) / hooks.world_size  # the same value on every rank
                scheduler.step()  # the next step's lr follows clock.progress
                if run.after_step(totals, lr, epoch_end=first + per_rank_batch >= len(order)):
                    break
            if run.stop_reason is not None:
                break
    return run.finish(start)


def forward_backward(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                     kind: str, label_smoothing: float = 0.0,
                     mixup: Mixup | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first half of one optimizer step of :func:`train`: forward, loss, zeroed gradients, backward.

    With ``mixup`` the batch is first mixed with a shuffled copy of itself and the loss is the same
    mix of the losses against both sets of targets. Returns the outputs ``(B, outputs)`` and the loss.
    :mod:`multires.training.calibrate` times the same step with it, so the run-cost estimate measures
    what the loop does.
    """
    if mixup is None:
        out = model(x)
        loss = loss_fn(out, y, kind, label_smoothing)
    else:
        x, y_other, lam = mixup(x, y)
        out = model(x)
        loss = lam * loss_fn(out, y, kind, label_smoothing) + (1.0 - lam) * loss_fn(out, y_other, kind, label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return out, loss


@contextlib.contextmanager
def _dropout_rng(config: TrainConfig) -> Iterator[None]:
    """Dropout draws from the global generator: fork it, seeded, so the caller's state is kept."""
    if config.dropout <= 0:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        yield


def _check_task(task: TaskData) -> None:
    if task.kind not in ("classify", "recall"):
        raise ValueError(f"task.kind must be 'classify' or 'recall', got {quote(task.kind)}")
    for split in ("train", "val", "test"):
        x, y = getattr(task, f"x_{split}"), getattr(task, f"y_{split}")
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.dtype != torch.float32:
            raise ValueError(f"x_{split} must be a float32 tensor (n, channels, length)")
        if x.shape[1:] != task.x_train.shape[1:] or x.shape[0] != y.shape[0] or x.shape[0] < 1:
            raise ValueError(f"split {quote(split)} has inconsistent shapes: x {tuple(x.shape)}, y {tuple(y.shape)}")
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise TrainingError(
                f"task {quote(task.name)}: x_{split} holds {bad} non-finite value(s) (NaN or inf) of {x.numel()}; "
                "clean or impute the data before training"
            )
        if task.kind == "classify":
            if y.dtype != torch.int64 or y.ndim != 1:
                raise ValueError(f"y_{split} of a classification task must be int64 (n,)")
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= task.n_classes):
                raise ValueError(f"y_{split} has labels outside 0..{task.n_classes - 1}")
        else:
            if y.ndim != 2 or y.shape[1] != len(task.lags) or not y.is_floating_point():
                raise ValueError(f"y_{split} of a recall task must be float (n, {len(task.lags)})")
            bad = int((~torch.isfinite(y)).sum())
            if bad:
                raise TrainingError(f"task {quote(task.name)}: y_{split} holds {bad} non-finite target(s)")
