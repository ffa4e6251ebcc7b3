"""What a training run reports: per-step :class:`Progress`, the curves (:class:`TrainHistory`), the
learned selection over time (:class:`SelectionSnapshot`) and the finished :class:`TrainResult`.

Also the two ways a run tells that something is wrong: :class:`TrainingError` (it cannot go on)
and :class:`TrainingWarning` (it finished, but a score may mislead; every such warning is also
kept in ``TrainResult.warnings`` and in the checkpoint's metrics).

Scores of two kinds appear here and are named apart:

* *batch-statistics* training scores (``Progress.metric``, ``TrainHistory.epoch_train``): running
  over an epoch while the model trains, with BatchNorm normalising by each batch's own statistics
  and dropout on. Cheap, but they can be far above what the model scores in eval mode.
* *eval-mode* scores (``TrainResult.train``, ``val``, ``test`` and ``TrainHistory.epoch_val``):
  :func:`multires.training.evaluation.evaluate`, BatchNorm on its running statistics, dropout off.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checkpoint.metrics import RunMetrics, SelectionRecord, versions
from ..options import StopReason, TaskKind
from .config import TrainConfig

if TYPE_CHECKING:
    from ..config import ModelConfig
    from ..model import MultiresNet

__all__ = [
    "COMPACT_POINTS", "Progress", "SelectionSnapshot", "TrainHistory", "TrainResult", "TrainingError",
    "TrainingWarning",
]

# Points kept per curve when a history is compacted for a checkpoint's metrics.
COMPACT_POINTS = 200


class TrainingError(RuntimeError):
    """Training cannot go on: non-finite data, a diverging loss, or ranks out of sync."""


class TrainingWarning(UserWarning):
    """A run finished but one of its scores may mislead (e.g. BatchNorm statistics not converged)."""


@dataclass(frozen=True)
class Progress:
    """What the callback sees after every optimizer step (metrics averaged over ranks)."""

    step: int  # optimizer steps done, 1..total_steps
    total_steps: int  # steps of the full run (epochs * steps per epoch)
    epoch: int  # epoch of this step, 0-based
    epochs: int  # epochs of the full run (TrainConfig.total_epochs: at least min_steps steps)
    loss: float  # this step's training loss (cross entropy, or MSE for recall)
    metric: float  # batch-statistics training accuracy (or mean R^2) over the epoch so far
    metric_name: str  # "accuracy" or "r2"
    elapsed: float  # seconds of training so far
    lr: float  # learning rate used by this step
    val_metric: float | None = None  # eval-mode validation accuracy / mean R^2, on an epoch's last step only
    best_epoch: int | None = None  # 1-based epoch with the best validation score so far (None: none yet)
    # The model being trained (the plain module, not a DDP wrapper), so a callback can look at its
    # filters or selection. Read-only view; do not modify: it is the live model, and changing it
    # changes the run. Left out of repr and equality.
    net: MultiresNet | None = field(default=None, repr=False, compare=False)

    @property
    def fraction(self) -> float:
        """Share of the run done, 0..1."""
        return self.step / self.total_steps


@dataclass
class TrainHistory:
    """Per-step and per-epoch curves of a run (all ranks averaged)."""

    step_loss: list[float] = field(default_factory=list)  # one per step
    step_metric: list[float] = field(default_factory=list)  # running batch-statistics metric, one per step
    step_lr: list[float] = field(default_factory=list)  # one per step
    epoch_train: list[float] = field(default_factory=list)  # batch-statistics training metric of each epoch
    epoch_val: list[float] = field(default_factory=list)  # eval-mode validation metric at each epoch's end
    epoch_time: list[float] = field(default_factory=list)  # elapsed seconds at each epoch's end
    epoch_val_loss: list[float] = field(default_factory=list)  # eval-mode validation loss at each epoch's end
    epoch_step: list[int] = field(default_factory=list)  # optimizer steps done at each epoch's end

    def compact(self, points: int = COMPACT_POINTS) -> dict[str, list]:
        """JSON-ready copy with the per-step curves thinned to at most ``points`` (step numbers kept)."""
        n = len(self.step_loss)
        keep = sorted({int(round(i)) for i in np.linspace(0, n - 1, min(n, points))}) if n else []
        return {
            "step": [i + 1 for i in keep],
            "loss": [_json_float(self.step_loss[i]) for i in keep],
            "metric": [_json_float(self.step_metric[i]) for i in keep],
            "lr": [_json_float(self.step_lr[i]) for i in keep],
            "epoch_train": [_json_float(v) for v in self.epoch_train],
            "epoch_val": [_json_float(v) for v in self.epoch_val],
            "epoch_time": [_json_float(v) for v in self.epoch_time],
            "epoch_val_loss": [_json_float(v) for v in self.epoch_val_loss],
            "epoch_step": list(self.epoch_step),
        }


@dataclass(frozen=True)
class SelectionSnapshot:
    """Which candidate slots the learned TREESELECT kept at one point of training.

    ``masks[i]`` is the ``slot_mask`` (channels, candidates) of the ``i``-th learned layer
    (``net.convs`` order, learned layers only); column ``s`` is ``net.convs[i].slots[s]``.
    """

    step: int  # optimizer steps done when the snapshot was taken (0: before training)
    progress: float  # training progress given to net.update_selection, 0..1 (M reached at PRUNE_END)
    masks: tuple[np.ndarray, ...]  # bool (channels, candidates) per learned layer

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: every mask as base64 of ``np.packbits`` (row-major) with its shape."""
        return {
            "step": self.step,
            "progress": self.progress,
            "masks": [
                {"shape": list(m.shape), "bits": base64.b64encode(np.packbits(m, axis=None).tobytes()).decode()}
                for m in self.masks
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SelectionSnapshot":
        masks = []
        for item in data["masks"]:
            shape = tuple(int(v) for v in item["shape"])
            bits = np.frombuffer(base64.b64decode(item["bits"]), dtype=np.uint8)
            masks.append(np.unpackbits(bits, count=int(np.prod(shape))).astype(bool).reshape(shape))
        return cls(int(data["step"]), float(data["progress"]), tuple(masks))


@dataclass
class TrainResult:
    """A finished (or cleanly stopped) run. ``net`` is in eval mode, on the CPU.

    With ``config.select_best`` (the default) ``net`` holds the weights of the best validation
    epoch (``best_epoch``), and ``train``/``val``/``test`` are that model's eval-mode scores.
    """

    net: MultiresNet  # the trained model
    config: TrainConfig  # the run's options
    task_name: str  # which task it was trained on
    kind: TaskKind  # "classify" or "recall"
    history: TrainHistory  # curves
    val: dict[str, Any]  # evaluate(net, task, "val")
    test: dict[str, Any]  # evaluate(net, task, "test")
    wall_time: float  # seconds from the start of train() to the end of the test evaluation
    train_time: float  # seconds spent in the training loop (what max_seconds bounds)
    steps: int  # optimizer steps done
    total_steps: int  # steps the full run would have done
    epochs_done: int  # completed epochs
    stopped: bool  # True when a callback, max_seconds or early stopping ended the run early
    stop_reason: StopReason | None  # "callback", "max_seconds", "early_stopping" or None
    selection_history: list[SelectionSnapshot]  # learned TREESELECT only; else empty
    world_size: int = 1  # ranks that trained it
    train: dict[str, Any] = field(default_factory=dict)  # evaluate(net, task, "train"): eval mode
    best_epoch: int | None = None  # 1-based epoch whose weights net holds (None: the last step's)
    best_step: int | None = None  # optimizer steps done at best_epoch (None: steps)
    total_epochs: int = 0  # epochs the full run would have done (config.total_epochs)
    warnings: list[str] = field(default_factory=list)  # every TrainingWarning the run raised

    @property
    def model_config(self) -> ModelConfig:
        return self.net.config

    @property
    def test_metric(self) -> float:
        """Test accuracy (classification) or mean R^2 over lags (recall)."""
        return self.test["metric"]

    def _batch_stats_train_metric(self) -> float | None:
        """The batch-statistics training metric of the epoch whose weights ``net`` holds."""
        if not self.history.epoch_train:
            return None
        index = (self.best_epoch or len(self.history.epoch_train)) - 1
        return self.history.epoch_train[min(index, len(self.history.epoch_train) - 1)]

    def metrics(self, include_selection: bool = True) -> dict[str, Any]:
        """JSON-ready summary for a checkpoint's metadata (:class:`~multires.checkpoint.metrics.RunMetrics`).

        The history is thinned to :data:`COMPACT_POINTS` points per curve and the versions recorded;
        the selection history is left out when its JSON would exceed 1 MiB (headers stay small).
        """
        scores = {"test_accuracy": self.test["metric"], "train_accuracy_eval_mode": self.train.get("metric")} \
            if self.kind == "classify" else {"test_r2_mean": self.test["metric"], "test_r2_per_lag": self.test["r2"],
                                             "lags": self.test["lags"]}
        record = RunMetrics(
            task=self.task_name, kind=self.kind, metric_name=self.test["metric_name"],
            test_metric=_json_float(self.test["metric"]), val_metric=_json_float(self.val["metric"]),
            test=_jsonable(self.test), val=_jsonable(self.val), train=_jsonable(self.train),
            train_metric_eval_mode=_json_float(self.train.get("metric")),
            train_metric_batch_stats=_json_float(self._batch_stats_train_metric()),
            **_jsonable(scores),
            epochs=self.config.epochs, total_epochs=self.total_epochs, epochs_done=self.epochs_done,
            best_epoch=self.best_epoch, best_step=self.best_step, warnings=list(self.warnings), steps=self.steps,
            total_steps=self.total_steps, wall_time_s=round(self.wall_time, 3), train_time_s=round(self.train_time, 3),
            stopped=self.stopped, stop_reason=self.stop_reason, seed=self.config.seed, world_size=self.world_size,
            train_config=self.config.to_dict(), n_parameters=self.net.n_parameters(),
            memory_slots_per_step=self.net.convs[0].n_slots, versions=versions(), history=self.history.compact(),
        )
        if include_selection and self.selection_history:
            encoded = [s.to_dict() for s in self.selection_history]
            if len(json.dumps(encoded)) <= 2**20:  # keep checkpoint headers small
                record.selection_history = [SelectionRecord.model_validate(s) for s in encoded]
        return record.dump()


def _json_float(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return _json_float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
