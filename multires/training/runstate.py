"""What one training run tracks besides the optimizer: its curves, best epoch, selection and stop.

:func:`multires.training.train` is the loop (the order of a step's operations); :class:`RunState`
is its bookkeeping. After every step it records the loss, the running metric and the learning
rate, and decides whether the run stops: the ``callback`` asked (``"callback"``), the next step
would end past ``max_seconds`` (``"max_seconds"``, :func:`next_step_passes`), or ``patience``
epochs passed without a better validation score (``"early_stopping"``). At an epoch's end it
scores the validation split in eval mode and offers the epoch to :class:`BestEpoch` (ties go to the
later epoch; only epochs whose BatchNorm statistics can have converged and whose learned selection
is final compete). For ``tree_select="learned"`` it advances the pruning schedule every step and
keeps about :data:`SELECTION_SNAPSHOTS` snapshots of the masks. :meth:`RunState.finish` restores
the best epoch, completes the selection, checks the ranks agree, scores every split in eval mode
and attaches the diagnostics' warnings (:mod:`multires.training.diagnostics`).

Examples
--------
>>> next_step_passes(limit=10.0, now=9.5, steps=10), next_step_passes(limit=10.0, now=9.0, steps=10)
(True, False)
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.tasks.base import TaskData
from ..model import MultiresNet
from ..options import StopReason
from .batchnorm import settle_steps
from .config import TrainConfig
from .diagnostics import score_warnings, undertrained_warnings
from .evaluation import evaluate, running_metric
from .history import Progress, SelectionSnapshot, TrainHistory, TrainingError, TrainingWarning, TrainResult
from .optimization import RunClock

__all__ = ["SELECTION_SNAPSHOTS", "BestEpoch", "RunState", "next_step_passes"]

#: Selection snapshots per run for the learned TREESELECT, spread over the pruning phase (plus the
#: one before training and, if it differs, the final one).
SELECTION_SNAPSHOTS = 20


@dataclass
class BestEpoch:
    """The best validation epoch so far: its score, and a copy of its weights and buffers."""

    key: float = -math.inf  # the validation metric: higher is better, ties go to the later epoch
    epoch: int | None = None  # 1-based
    step: int | None = None
    state: dict[str, torch.Tensor] | None = None
    stale: int = 0  # eligible epochs since the last improvement

    def offer(self, metric: float, loss: float, epoch: int, step: int, net: nn.Module) -> None:
        # Ties go to the LATER epoch (as the official code's ``val_acc >= best_val_acc``): on a small
        # validation split many epochs tie, and the earliest has the least settled BatchNorm statistics.
        key = metric if math.isfinite(metric) else -math.inf
        if self.epoch is None or key >= self.key:
            self.key, self.epoch, self.step, self.stale = key, epoch, step, 0
            self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            self.stale += 1


@dataclass
class RunState:
    """Everything :func:`~multires.training.train` tracks besides the optimizer: curves, best epoch,
    selection, stop."""

    config: TrainConfig
    task: TaskData
    net: MultiresNet
    hooks: Any  # DistributedHooks or SingleProcess
    clock: RunClock
    epochs: int
    callback: Callable[[Progress], Any] | None
    history: TrainHistory = field(default_factory=TrainHistory)
    selection: list[SelectionSnapshot] = field(default_factory=list)
    best: BestEpoch = field(default_factory=BestEpoch)
    epoch: int = 0
    epochs_done: int = 0
    running: torch.Tensor | None = None
    stop_reason: StopReason | None = None
    next_snapshot: int = 1
    loop_start: float = 0.0

    def __post_init__(self) -> None:
        self.model = self.hooks.wrap(self.net)
        self.learned = [conv for conv in self.net.convs if conv.tree_select == "learned"]
        self.norm_steps = settle_steps(self.net)
        if self.learned:
            self.net.update_selection(0.0)
            self.selection.append(self._snapshot(0, 0.0))

    def _snapshot(self, step: int, progress: float) -> SelectionSnapshot:
        return SelectionSnapshot(step, float(progress), tuple(c.slot_mask.cpu().numpy().copy() for c in self.learned))

    def start_epoch(self, epoch: int) -> None:
        self.epoch, self.running = epoch, None
        self.model.train()

    def advance_selection(self) -> None:
        """Learned TREESELECT: prune to this point of the run; snapshots over the pruning phase."""
        if not self.learned:
            return
        progress = self.clock.progress  # follows max_seconds too, so pruning ends within the bound
        self.net.update_selection(progress)
        pruned = min(progress / self.learned[0].PRUNE_END, 1.0)  # the selection is final after PRUNE_END
        if pruned * SELECTION_SNAPSHOTS >= self.next_snapshot:
            self.selection.append(self._snapshot(self.clock.step, progress))
            self.next_snapshot = int(pruned * SELECTION_SNAPSHOTS) + 1

    def check_finite(self, totals: torch.Tensor, epoch: int) -> None:
        if totals[2] > 0:
            raise TrainingError(
                f"the training loss became non-finite at step {self.clock.step + 1} (epoch {epoch + 1}); "
                f"lower the learning rate (lr={self.config.lr:g}) or check the inputs"
            )

    def after_step(self, totals: torch.Tensor, lr: float, epoch_end: bool) -> bool:
        """Record the step, validate at an epoch's end, call back; True when the run must stop."""
        kind = self.task.kind
        self.running = totals[3:-1] if self.running is None else self.running + totals[3:-1]
        metric = running_metric(self.running, kind)
        step_loss = float(totals[0] / totals[1])
        self.history.step_loss.append(step_loss)
        self.history.step_metric.append(metric)
        self.history.step_lr.append(lr)
        val_metric = self._end_epoch(metric) if epoch_end else None
        stop = False
        if self.callback is not None:
            stop = bool(self.callback(Progress(
                self.clock.step, self.clock.total_steps, self.epoch, self.epochs, step_loss, metric,
                "accuracy" if kind == "classify" else "r2", self.clock.elapsed, lr, val_metric, self.best.epoch,
                self.net)))
        limit = self.config.max_seconds
        patience = self.config.patience
        if self.hooks.any(stop):
            self.stop_reason = "callback"
        elif limit is not None and self.clock.step < self.clock.total_steps and self.hooks.any(
                next_step_passes(limit, time.perf_counter() - self.loop_start, self.clock.step)):
            self.stop_reason = "max_seconds"
        elif epoch_end and patience is not None and self.hooks.any(self.best.stale >= patience):
            self.stop_reason = "early_stopping"
        return self.stop_reason is not None

    def _end_epoch(self, train_metric: float) -> float:
        self.hooks.sync_buffers(self.net)  # every rank evaluates rank 0's model
        val = evaluate(self.net, self.task, "val")
        self.epochs_done += 1
        h = self.history
        h.epoch_train.append(train_metric)
        h.epoch_val.append(val["metric"])
        h.epoch_val_loss.append(val["loss"])
        h.epoch_time.append(self.clock.elapsed)
        h.epoch_step.append(self.clock.step)
        if self._selection_final() and self.clock.step >= self.norm_steps:
            self.best.offer(val["metric"], val["loss"], self.epochs_done, self.clock.step, self.net)
        self.model.train()
        return val["metric"]

    def _selection_final(self) -> bool:
        return all(int(c.slot_mask.sum(dim=1).max()) <= c.memory_size for c in self.learned)

    def finish(self, start: float) -> TrainResult:
        """Restore the best epoch, complete the selection, check ranks, score in eval mode."""
        config, net, steps = self.config, self.net, self.clock.step
        use_best = config.select_best and self.best.state is not None
        if use_best:
            net.load_state_dict(self.best.state)
        if self.learned:  # a stopped run still ends with exactly memory_size slots per channel
            net.update_selection(1.0)
            last = self._snapshot(steps, 1.0)
            previous = self.selection[-1]
            if previous.step != steps or not all(np.array_equal(a, b) for a, b in zip(previous.masks, last.masks)):
                self.selection.append(last)
        if not self.hooks.in_sync(net):
            raise TrainingError("parameters or selection masks differ between ranks; the run is not usable")
        self.hooks.sync_buffers(net)
        net = net.cpu().eval()
        for conv in net.convs:  # hand back a model whose filters are trainable again if the user goes on
            conv.h0.requires_grad_(True)
            conv.h1.requires_grad_(True)
        result = TrainResult(
            net=net, config=config, task_name=self.task.name, kind=self.task.kind, history=self.history,
            val=evaluate(net, self.task, "val"), test=evaluate(net, self.task, "test"),
            wall_time=0.0, train_time=self.clock.elapsed, steps=steps, total_steps=self.clock.total_steps,
            epochs_done=self.epochs_done, stopped=self.stop_reason is not None, stop_reason=self.stop_reason,
            selection_history=self.selection, world_size=self.hooks.world_size,
            train=evaluate(net, self.task, "train"),
            best_epoch=self.best.epoch if use_best else None, best_step=self.best.step if use_best else None,
            total_epochs=self.epochs,
        )
        for message in score_warnings(result) + undertrained_warnings(result):
            result.warnings.append(message)
            if self.hooks.rank == 0:
                warnings.warn(message, TrainingWarning, stacklevel=3)
        result.wall_time = time.perf_counter() - start
        return result


def next_step_passes(limit: float, now: float, steps: int) -> bool:
    """True when one more step (at the mean step time so far) would end past ``limit`` seconds.

    Stopping *before* the step that would overrun keeps a run within one step of its time bound
    (epoch-end validation is part of ``now``, so a slow validation pass is counted too).
    """
    return now + (now / max(steps, 1)) > limit
