"""Train a ``MultiresNet`` on a :class:`~multires.data.tasks.TaskData`: one pure, reproducible loop.

:func:`train` is the only training loop in the project: the Streamlit app calls it in-process
(with a ``callback`` that draws progress and can stop it), the CLI ``python -m multires.training``
calls it in one process or as one rank of a ``torchrun`` job (with :class:`DistributedHooks`),
and the scripts that make the shipped models call it too. It imports no Streamlit, never writes a
file and never calls ``torch.set_num_threads`` (the caller owns the thread pool).

The pieces live in their own modules and are re-exported here: :class:`TrainConfig` and the
presets (:mod:`multires.training.config`), AdamW groups and the warm-up + cosine schedule
(:mod:`multires.training.optimization`), what a run reports (:mod:`multires.training.history`), :func:`evaluate`
(:mod:`multires.training.evaluation`) and :class:`DistributedHooks` (:mod:`multires.training.distributed`).

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
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from multires.plaintext import quote

from ..config import ModelConfig
from ..data.tasks.base import TaskData
from ..model import MultiresNet, build_model
from ..options import StopReason
from .augment import make_augmenter
from .config import TrainConfig
from .device import resolve_device
from .diagnostics import undertrained_warnings
from .distributed import DistributedHooks, SingleProcess
from .evaluation import evaluate, loss_fn, running_metric, step_stats
from .history import Progress, SelectionSnapshot, TrainHistory, TrainingError, TrainingWarning, TrainResult
from .optimization import RunClock, build_optimizer

__all__ = ["BN_FORGET", "EVAL_GAP", "SELECTION_SNAPSHOTS", "forward_backward", "train"]

# Selection snapshots per run for the learned TREESELECT, spread over the pruning phase (plus the
# one before training and, if it differs, the final one).
SELECTION_SNAPSHOTS = 20
#: BatchNorm's running statistics start at mean 0, variance 1 and keep ``(1 - momentum)**steps`` of
#: that start: above this share they cannot describe the trained network (44 steps at momentum 0.1).
BN_FORGET = 0.01
#: Warn when the eval-mode training score is this far below the batch-statistics one.
EVAL_GAP = 0.1

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
    augment = make_augmenter(config.augment, config.seed)
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
    run = _RunState(config, task, net, hooks, clock, epochs, callback)
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
                out, loss = forward_backward(run.model, optimizer, x, y, task.kind, config.label_smoothing)
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
                     kind: str, label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The first half of one optimizer step of :func:`train`: forward, loss, zeroed gradients, backward.

    Returns the outputs ``(B, outputs)`` and the loss. :mod:`multires.training.calibrate` times the same
    step with it, so the run-cost estimate measures what the loop does.
    """
    out = model(x)
    loss = loss_fn(out, y, kind, label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return out, loss


@dataclass
class _Best:
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
class _RunState:
    """Everything :func:`train` tracks besides the optimizer: curves, best epoch, selection, stop."""

    config: TrainConfig
    task: TaskData
    net: MultiresNet
    hooks: Any  # DistributedHooks or SingleProcess
    clock: RunClock
    epochs: int
    callback: Callable[[Progress], Any] | None
    history: TrainHistory = field(default_factory=TrainHistory)
    selection: list[SelectionSnapshot] = field(default_factory=list)
    best: _Best = field(default_factory=_Best)
    epoch: int = 0
    epochs_done: int = 0
    running: torch.Tensor | None = None
    stop_reason: StopReason | None = None
    next_snapshot: int = 1
    loop_start: float = 0.0

    def __post_init__(self) -> None:
        self.model = self.hooks.wrap(self.net)
        self.learned = [conv for conv in self.net.convs if conv.tree_select == "learned"]
        self.norm_steps = max([_batchnorm_steps(m) for m in self.net.modules()] + [0])
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
                _next_step_passes(limit, time.perf_counter() - self.loop_start, self.clock.step)):
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
        for message in _score_warnings(result) + undertrained_warnings(result):
            result.warnings.append(message)
            if self.hooks.rank == 0:
                warnings.warn(message, TrainingWarning, stacklevel=3)
        result.wall_time = time.perf_counter() - start
        return result


def _next_step_passes(limit: float, now: float, steps: int) -> bool:
    """True when one more step (at the mean step time so far) would end past ``limit`` seconds.

    Stopping *before* the step that would overrun keeps a run within one step of its time bound
    (epoch-end validation is part of ``now``, so a slow validation pass is counted too).
    """
    return now + (now / max(steps, 1)) > limit


def _batchnorm_steps(module: nn.Module) -> int:
    """Steps a BatchNorm needs before its running statistics keep < :data:`BN_FORGET` of their start."""
    if not isinstance(module, nn.modules.batchnorm._BatchNorm) or not module.momentum:
        return 0
    return math.ceil(math.log(BN_FORGET) / math.log(1.0 - module.momentum))


def _score_warnings(result: TrainResult) -> list[str]:
    """Why the returned model's scores may mislead: unconverged BatchNorm, or a train-score gap."""
    messages = []
    steps = result.best_step if result.best_step is not None else result.steps
    for module in result.net.modules():
        needed = _batchnorm_steps(module)
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
                   "(multires.training.recipe.recalibrate_batchnorm).")
        else:
            fix = ("The kept weights are the last ones, so recompute the statistics on the (unaugmented) training "
                   "data (multires.training.recipe.recalibrate_batchnorm), or use norm='layer', which has no "
                   "running statistics.")
        messages.append(gap + fix)
    return messages


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
