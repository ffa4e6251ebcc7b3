"""Train a ``MultiresNet`` on a :class:`~multires.tasks.TaskData`: one pure, reproducible loop.

:func:`train` is the only training loop in the project: the Streamlit app calls it in-process
(with a ``callback`` that draws progress and can stop it), the CLI ``python -m multires.train``
calls it in one process or as one rank of a ``torchrun`` job (with :class:`DistributedHooks`),
and the scripts that make the shipped models call it too. It imports no Streamlit, never writes a
file and never calls ``torch.set_num_threads`` (the caller owns the thread pool).

Reproducibility: the model is initialised from ``seed`` (under a lock, with PyTorch's global
generator saved and restored around the build) and batches are shuffled by
``DistributedSampler(seed=seed)`` (its own ``torch.Generator``), so the same config and task give
bit-identical weights in a process with the same thread count, and the caller's global RNG state
is unchanged afterwards. With ``dropout > 0`` the dropout masks are drawn inside
``torch.random.fork_rng`` from a generator seeded with ``seed``: still reproducible and still
restored, but not isolated from other threads that use the global generator at the same time.

Examples
--------
>>> from multires.tasks import load_task
>>> task = load_task("digits", seed=0)
>>> result = train(task, TrainConfig(d_model=8, epochs=1, batch_size=64))
>>> 0.0 <= result.test["accuracy"] <= 1.0, result.net.training
(True, False)
"""

from __future__ import annotations

import base64
import json
import math
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DistributedSampler

from .constants import TREE_SELECTS, TreeSelect
from .jsonconfig import JsonConfig
from .config import ModelConfig, Norm
from .model import MultiresNet
from .tasks import TaskData, recall_r2
from .wavelets import check_wavelet_name

__all__ = [
    "TRAIN_LIMITS",
    "TrainConfig",
    "Progress",
    "TrainHistory",
    "SelectionSnapshot",
    "TrainResult",
    "TrainingError",
    "DistributedHooks",
    "train",
    "evaluate",
    "build_model",
    "versions",
]

#: Inclusive bounds ``(low, high)`` that :meth:`TrainConfig.validate` enforces; the app shows them
#: as widget ranges. ``d_model``/``n_layers`` stay well inside ``multires.CONFIG_LIMITS`` so a
#: trained model always fits a checkpoint; ``max_seconds`` is the time bound of one run.
TRAIN_LIMITS: dict[str, tuple[float, float]] = {
    "epochs": (1, 500),
    "d_model": (1, 256),
    "n_layers": (1, 8),
    "kernel_size": (2, 16),
    "memory_size": (1, 4096),
    "batch_size": (1, 4096),
    "lr": (1e-6, 1.0),
    "weight_decay": (0.0, 1.0),
    "seed": (0, 2**31 - 1),
    "max_seconds": (0.1, 24 * 3600.0),
}

# The learning-rate schedule: linear warm-up over this fraction of the steps, then cosine to 0.
WARMUP_FRACTION = 0.05
# Selection snapshots per run for the learned TREESELECT, spread over the pruning phase (plus the
# one before training and, if it differs, the final one).
SELECTION_SNAPSHOTS = 20
# Points kept per curve when a history is compacted for a checkpoint's metrics.
COMPACT_POINTS = 200
# Samples per forward pass in :func:`evaluate`.
EVAL_BATCH = 512

Kind = Literal["classify", "recall"]


class TrainingError(RuntimeError):
    """Training cannot go on: non-finite data, a diverging loss, or ranks out of sync."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass
class TrainConfig(JsonConfig):
    """A training run: the model options plus the optimisation; round-trips through JSON.

    The task fills in the rest of the :class:`~multires.ModelConfig` (input channels, outputs,
    sequence length, and the head: ``pool`` for classification, ``last`` for recall); see
    :meth:`model_config`. Defaults are tuned for the ``digits`` task on a 2-core CPU.

    Examples
    --------
    >>> cfg = TrainConfig(tree_select="uniform", memory_size=8, freeze_filters=True)
    >>> TrainConfig.from_json(cfg.to_json()) == cfg
    True
    """

    _what: ClassVar[str] = "training config"

    tree_select: TreeSelect = "fading"  # TREESELECT rule: fading, uniform or learned
    memory_size: int | None = None  # M slots per channel; needed by uniform and learned
    max_lag: int | None = None  # learned only: largest candidate lag (None: the receptive field)
    wavelet: str | None = "haar"  # filter init from PyWavelets; None: random filters
    kernel_size: int = 2  # filter length k when wavelet is None (a wavelet sets its own)
    freeze_filters: bool = False  # keep h0, h1 fixed at their init: the fixed-wavelet baseline
    d_model: int = 48  # channels of every MultiresConv
    n_layers: int = 2  # residual blocks
    dropout: float = 0.0  # after each MultiresConv's GELU
    norm: Norm = "batch"  # normalisation after each block: batch or layer
    epochs: int = 15  # passes over the training split
    batch_size: int = 64  # samples per optimizer step, summed over all ranks
    lr: float = 0.01  # peak AdamW learning rate (warm-up, then cosine decay to 0)
    weight_decay: float = 0.01  # AdamW decay of the 1x1 convs and the decoder only
    seed: int = 0  # initialisation, shuffling and dropout
    max_seconds: float | None = None  # stop (cleanly) after this much training time

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed."""
        integers = ("epochs", "d_model", "n_layers", "kernel_size", "batch_size", "seed")
        for name in integers + ("memory_size", "max_lag"):
            value = getattr(self, name)
            if value is None and name in ("memory_size", "max_lag"):
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            low, high = TRAIN_LIMITS.get(name, (0, 65536))
            if not low <= value <= high:
                raise ValueError(f"{name} must be in {low}..{high}, got {value}")
        for name in ("lr", "weight_decay", "max_seconds", "dropout"):
            value = getattr(self, name)
            if value is None and name == "max_seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            low, high = TRAIN_LIMITS.get(name, (0.0, 1.0))
            if name == "dropout":
                if not 0.0 <= value < 1.0:
                    raise ValueError(f"dropout must be in [0, 1), got {value!r}")
            elif not low <= value <= high:
                raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {value!r}")
        if self.tree_select not in TREE_SELECTS:
            raise ValueError(f"tree_select must be one of {TREE_SELECTS}, got {self.tree_select!r}")
        if self.tree_select in ("uniform", "learned") and self.memory_size is None:
            raise ValueError(f"tree_select={self.tree_select!r} needs memory_size (the slots M per channel)")
        if self.tree_select == "fading" and self.memory_size is not None:
            raise ValueError("fading keeps depth + 1 slots by itself: leave memory_size as None")
        if self.wavelet is not None:
            check_wavelet_name(self.wavelet)
        if not isinstance(self.freeze_filters, bool):
            raise ValueError(f"freeze_filters must be True or False, got {self.freeze_filters!r}")
        if self.norm not in ("batch", "layer"):
            raise ValueError(f"norm must be 'batch' or 'layer', got {self.norm!r}")

    def model_config(self, task: TaskData) -> ModelConfig:
        """The :class:`~multires.ModelConfig` of this run on ``task`` (validated)."""
        return ModelConfig(
            d_input=task.channels_in,
            d_output=task.n_outputs,
            d_model=self.d_model,
            n_layers=self.n_layers,
            seq_len=task.length,
            kernel_size=self.kernel_size,
            tree_select=self.tree_select,
            memory_size=self.memory_size,
            max_lag=self.max_lag,
            wavelet=self.wavelet,
            dropout=float(self.dropout),
            norm=self.norm,
            head="pool" if task.kind == "classify" else "last",
        )


# --------------------------------------------------------------------------------------------
# What a run reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What the callback sees after every optimizer step (metrics averaged over ranks)."""

    step: int  # optimizer steps done, 1..total_steps
    total_steps: int  # steps of the full run (epochs * steps per epoch)
    epoch: int  # epoch of this step, 0-based
    epochs: int  # epochs of the full run
    loss: float  # this step's training loss (cross entropy, or MSE for recall)
    metric: float  # training accuracy (or mean R^2) over the epoch so far
    metric_name: str  # "accuracy" or "r2"
    elapsed: float  # seconds of training so far
    lr: float  # learning rate used by this step
    val_metric: float | None = None  # validation accuracy / mean R^2, on an epoch's last step only

    @property
    def fraction(self) -> float:
        """Share of the run done, 0..1."""
        return self.step / self.total_steps


@dataclass
class TrainHistory:
    """Per-step and per-epoch curves of a run (all ranks averaged)."""

    step_loss: list[float] = field(default_factory=list)  # one per step
    step_metric: list[float] = field(default_factory=list)  # running epoch metric, one per step
    step_lr: list[float] = field(default_factory=list)  # one per step
    epoch_train: list[float] = field(default_factory=list)  # training metric at each epoch's end
    epoch_val: list[float] = field(default_factory=list)  # validation metric at each epoch's end
    epoch_time: list[float] = field(default_factory=list)  # elapsed seconds at each epoch's end

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
    """A finished (or cleanly stopped) run. ``net`` is in eval mode, on the CPU."""

    net: MultiresNet  # the trained model
    config: TrainConfig  # the run's options
    task_name: str  # which task it was trained on
    kind: Kind  # "classify" or "recall"
    history: TrainHistory  # curves
    val: dict[str, Any]  # evaluate(net, task, "val")
    test: dict[str, Any]  # evaluate(net, task, "test")
    wall_time: float  # seconds from the start of train() to the end of the test evaluation
    train_time: float  # seconds spent in the training loop (what max_seconds bounds)
    steps: int  # optimizer steps done
    total_steps: int  # steps the full run would have done
    epochs_done: int  # completed epochs
    stopped: bool  # True when a callback or max_seconds ended the run early
    stop_reason: str | None  # "callback", "max_seconds" or None
    selection_history: list[SelectionSnapshot]  # learned TREESELECT only; else empty
    world_size: int = 1  # ranks that trained it

    @property
    def model_config(self) -> ModelConfig:
        return self.net.config

    @property
    def test_metric(self) -> float:
        """Test accuracy (classification) or mean R^2 over lags (recall)."""
        return self.test["metric"]

    def metrics(self, include_selection: bool = True) -> dict[str, Any]:
        """JSON-ready summary for a checkpoint's metadata (history thinned, versions recorded)."""
        out: dict[str, Any] = {
            "task": self.task_name,
            "kind": self.kind,
            "metric_name": self.test["metric_name"],
            "test_metric": _json_float(self.test["metric"]),
            "val_metric": _json_float(self.val["metric"]),
            "test": _jsonable(self.test),
            "val": _jsonable(self.val),
            "epochs": self.config.epochs,
            "epochs_done": self.epochs_done,
            "steps": self.steps,
            "total_steps": self.total_steps,
            "wall_time_s": round(self.wall_time, 3),
            "train_time_s": round(self.train_time, 3),
            "stopped": self.stopped,
            "stop_reason": self.stop_reason,
            "seed": self.config.seed,
            "world_size": self.world_size,
            "train_config": self.config.to_dict(),
            "n_parameters": self.net.n_parameters(),
            "memory_slots_per_step": self.net.convs[0].n_slots,
            "versions": versions(),
            "history": self.history.compact(),
        }
        if self.kind == "classify":
            out["test_accuracy"] = out["test_metric"]
        else:
            out["test_r2_mean"] = out["test_metric"]
            out["test_r2_per_lag"] = out["test"]["r2"]
            out["lags"] = out["test"]["lags"]
        if include_selection and self.selection_history:
            encoded = [s.to_dict() for s in self.selection_history]
            if len(json.dumps(encoded)) <= 2**20:  # keep checkpoint headers small
                out["selection_history"] = encoded
        return out


def versions() -> dict[str, str]:
    """Versions that produced a model: torch, multires, numpy, python."""
    from . import __version__

    return {"torch": torch.__version__, "multires": __version__, "numpy": np.__version__,
            "python": platform.python_version()}


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


# --------------------------------------------------------------------------------------------
# Distributed hooks: the only difference between one process and a torchrun rank
# --------------------------------------------------------------------------------------------


class DistributedHooks:
    """Lets :func:`train` run as one rank of an initialised ``torch.distributed`` job.

    Create it after ``torch.distributed.init_process_group``; the CLI does this under ``torchrun``.
    The loop stays the same; only these points differ from a single process:

    * the model is wrapped in ``DistributedDataParallel`` (``forward_sync_buffers=False``, see below);
    * each rank takes its shard of every epoch from ``DistributedSampler`` (``set_epoch`` each
      epoch) and ``batch_size // world_size`` samples per step, so a step sees ``batch_size``
      samples in all, as in one process;
    * step metrics are summed with ``all_reduce``, so every rank reports (and decides to stop on)
      the same numbers; a non-finite loss on any rank stops every rank with ``TrainingError``.

    BatchNorm is used as configured, not converted to ``SyncBatchNorm``: each rank normalises with
    its own shard's batch statistics (``SyncBatchNorm`` needs CUDA). Buffers are *not* broadcast at
    every forward; instead rank 0's buffers (BatchNorm running statistics) are broadcast before
    every validation and at the end, so all ranks evaluate, and rank 0 saves, one model. The learned
    selection masks are computed from parameters, which DDP keeps identical, with a step-based
    schedule; :meth:`in_sync` checks that parameters and masks really are bit-identical on all ranks
    (before the buffer broadcast, so a divergence would not be hidden).
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import torch.distributed as dist

        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("DistributedHooks needs torch.distributed.init_process_group() first")
        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = torch.device(device)

    def wrap(self, net: nn.Module) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # forward_sync_buffers=False: no buffer broadcast at every forward (see the class docstring);
        # parameters and buffers are still broadcast from rank 0 once, at construction.
        return DistributedDataParallel(net, device_ids=device_ids, forward_sync_buffers=False)

    def all_sum(self, values: torch.Tensor) -> torch.Tensor:
        values = values.to(self.device)
        self._dist.all_reduce(values, op=self._dist.ReduceOp.SUM)
        return values.cpu()

    def any(self, flag: bool) -> bool:
        return bool(self.all_sum(torch.tensor([float(flag)], dtype=torch.float64))[0] > 0)

    def sync_buffers(self, net: nn.Module) -> None:
        with torch.no_grad():
            for buffer in net.buffers():
                self._dist.broadcast(buffer, src=0)

    def in_sync(self, net: MultiresNet) -> bool:
        """True when every parameter and selection mask is bit-identical on all ranks."""
        with torch.no_grad():
            flat = torch.cat([p.detach().double().flatten() for p in net.parameters()]
                             + [c.slot_mask.double().flatten() for c in net.convs]).to(self.device)
            low, high = flat.clone(), flat.clone()
            self._dist.all_reduce(low, op=self._dist.ReduceOp.MIN)
            self._dist.all_reduce(high, op=self._dist.ReduceOp.MAX)
            return bool(torch.equal(low, high))


class _SingleProcess:
    """The same interface as :class:`DistributedHooks` for one process: nothing to do."""

    rank = 0
    world_size = 1
    device = torch.device("cpu")

    def wrap(self, net: nn.Module) -> nn.Module:
        return net

    def all_sum(self, values: torch.Tensor) -> torch.Tensor:
        return values

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def sync_buffers(self, net: nn.Module) -> None:
        pass

    def in_sync(self, net: MultiresNet) -> bool:
        return True


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------

# Serialises model builds: a build reseeds PyTorch's global generator, then restores it.
_BUILD_LOCK = threading.Lock()


def build_model(config: ModelConfig, seed: int = 0) -> MultiresNet:
    """``MultiresNet(config)`` initialised from ``seed``; the global RNG state is left as it was.

    >>> state = torch.get_rng_state()
    >>> a, b = build_model(ModelConfig(d_model=4), seed=3), build_model(ModelConfig(d_model=4), seed=3)
    >>> torch.equal(a.convs[0].w, b.convs[0].w), torch.equal(torch.get_rng_state(), state)
    (True, True)
    """
    with _BUILD_LOCK:
        state = torch.get_rng_state()
        try:
            torch.manual_seed(seed)
            return MultiresNet(config)
        finally:
            torch.set_rng_state(state)


def _check_task(task: TaskData) -> None:
    if task.kind not in ("classify", "recall"):
        raise ValueError(f"task.kind must be 'classify' or 'recall', got {task.kind!r}")
    for split in ("train", "val", "test"):
        x, y = getattr(task, f"x_{split}"), getattr(task, f"y_{split}")
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.dtype != torch.float32:
            raise ValueError(f"x_{split} must be a float32 tensor (n, channels, length)")
        if x.shape[1:] != task.x_train.shape[1:] or x.shape[0] != y.shape[0] or x.shape[0] < 1:
            raise ValueError(f"split {split!r} has inconsistent shapes: x {tuple(x.shape)}, y {tuple(y.shape)}")
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise TrainingError(
                f"task {task.name!r}: x_{split} holds {bad} non-finite value(s) (NaN or inf) of {x.numel()}; "
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
                raise TrainingError(f"task {task.name!r}: y_{split} holds {bad} non-finite target(s)")


def _loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    return F.cross_entropy(out, y) if kind == "classify" else F.mse_loss(out, y)


def _param_groups(net: MultiresNet, weight_decay: float) -> list[dict]:
    # Decay only the dense weights (encoder, 1x1 mixers, decoder). Not the wavelet filters h0/h1:
    # decay would shrink a wavelet's energy and pull it away from perfect reconstruction. Not the
    # memory weights w: their magnitudes are what the learned TREESELECT ranks slots by, and decay
    # would bias that ranking. Not biases or norm scales (the usual AdamW practice).
    conv_params = {id(p) for conv in net.convs for p in conv.parameters()}
    decay, no_decay = [], []
    for p in net.parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 and id(p) not in conv_params else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _lr_factor(step: int, total: int) -> float:
    """Linear warm-up then cosine decay to 0, as a factor of the peak lr (``step`` 0-based)."""
    warmup = max(1, int(round(WARMUP_FRACTION * total)))
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))


def _learned(net: MultiresNet) -> list:
    return [conv for conv in net.convs if conv.tree_select == "learned"]


def _snapshot(net: MultiresNet, step: int, progress: float) -> SelectionSnapshot:
    return SelectionSnapshot(step, float(progress), tuple(c.slot_mask.cpu().numpy().copy() for c in _learned(net)))


def train(
    task: TaskData,
    config: TrainConfig | None = None,
    callback: Callable[[Progress], Any] | None = None,
    *,
    distributed: DistributedHooks | None = None,
) -> TrainResult:
    """Train a ``MultiresNet`` on ``task`` with AdamW and a warm-up + cosine schedule.

    Classification minimises cross entropy on the time-pooled output; recall minimises the MSE of
    the last step's output (``head="last"``). For ``tree_select="learned"`` the pruning schedule
    advances every step (``net.update_selection``), ends at exactly ``memory_size`` slots per
    channel, and about :data:`SELECTION_SNAPSHOTS` snapshots of the masks are recorded.
    ``freeze_filters`` keeps ``h0, h1`` at their initial values (``requires_grad=False``).

    Parameters
    ----------
    task : TaskData
        From :func:`multires.tasks.load_task`.
    config : TrainConfig, optional
        Default: ``TrainConfig()``.
    callback : callable, optional
        Called with a :class:`Progress` after every step; a truthy return stops training cleanly
        after that step (``result.stopped``). Under ``distributed`` any rank's stop stops all.
    distributed : DistributedHooks, optional
        Run as one rank of a ``torch.distributed`` job (see :class:`DistributedHooks`).

    Returns
    -------
    TrainResult
        A stopped run is still a valid model: a learned selection is completed to ``memory_size``
        slots at the stop.

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
    model_config = config.model_config(task)
    hooks = _SingleProcess() if distributed is None else distributed
    device = hooks.device

    net = build_model(model_config, config.seed).to(device)
    if config.freeze_filters:
        for conv in net.convs:
            conv.h0.requires_grad_(False)
            conv.h1.requires_grad_(False)
    model = hooks.wrap(net)
    optimizer = torch.optim.AdamW(_param_groups(net, config.weight_decay), lr=config.lr)

    sampler = DistributedSampler(range(len(task.x_train)), num_replicas=hooks.world_size, rank=hooks.rank,
                                 shuffle=True, seed=config.seed)
    per_rank_batch = max(1, config.batch_size // hooks.world_size)
    steps_per_epoch = math.ceil(len(sampler) / per_rank_batch)
    total_steps = config.epochs * steps_per_epoch
    kind = task.kind
    metric_name = "accuracy" if kind == "classify" else "r2"
    learned = bool(_learned(net))
    history = TrainHistory()
    selection: list[SelectionSnapshot] = []
    if learned:
        net.update_selection(0.0)
        selection.append(_snapshot(net, 0, 0.0))
    next_snapshot = 1

    def run_loop() -> tuple[int, int, str | None, float]:
        nonlocal next_snapshot
        step, epochs_done, reason = 0, 0, None
        loop_start = time.perf_counter()
        elapsed = 0.0
        for epoch in range(config.epochs):
            sampler.set_epoch(epoch)
            order = torch.tensor(list(iter(sampler)), dtype=torch.long)
            running = torch.zeros(2 if kind == "classify" else 3 * len(task.lags) + 1, dtype=torch.float64)
            model.train()
            for first in range(0, len(order), per_rank_batch):
                idx = order[first : first + per_rank_batch]
                x, y = task.x_train[idx].to(device), task.y_train[idx].to(device)
                progress = step / total_steps
                if config.max_seconds is not None:  # finish the selection within the time bound too
                    progress = max(progress, elapsed / config.max_seconds)
                if learned:
                    net.update_selection(progress)
                    # Snapshots spread over the pruning phase (the first PRUNE_END of training):
                    # once M slots remain, the selection no longer changes.
                    pruned = min(progress / _learned(net)[0].PRUNE_END, 1.0)
                    if pruned * SELECTION_SNAPSHOTS >= next_snapshot:
                        selection.append(_snapshot(net, step, progress))
                        next_snapshot = int(pruned * SELECTION_SNAPSHOTS) + 1
                lr = config.lr * _lr_factor(step, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                out = model(x)
                loss = _loss(out, y, kind)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                stats = _step_stats(out.detach(), y, loss.detach(), kind)
                local_elapsed = time.perf_counter() - loop_start
                totals = hooks.all_sum(torch.cat([stats, torch.tensor([local_elapsed], dtype=torch.float64)]))
                if totals[2] > 0:
                    raise TrainingError(
                        f"the training loss became non-finite at step {step + 1} (epoch {epoch + 1}); "
                        f"lower the learning rate (lr={config.lr:g}) or check the inputs"
                    )
                optimizer.step()
                step += 1
                elapsed = float(totals[-1]) / hooks.world_size  # same value on every rank
                running += totals[3:-1]
                step_loss = float(totals[0] / totals[1])
                metric = _running_metric(running, kind)
                history.step_loss.append(step_loss)
                history.step_metric.append(metric)
                history.step_lr.append(lr)
                epoch_end = first + per_rank_batch >= len(order)
                val_metric = None
                if epoch_end:
                    val_metric = _validate(net, task, hooks)
                    history.epoch_train.append(metric)
                    history.epoch_val.append(val_metric)
                    history.epoch_time.append(elapsed)
                    epochs_done += 1
                    model.train()
                stop = False
                if callback is not None:
                    stop = bool(callback(Progress(step, total_steps, epoch, config.epochs, step_loss, metric,
                                                  metric_name, elapsed, lr, val_metric)))
                if hooks.any(stop):
                    return step, epochs_done, "callback", elapsed
                if config.max_seconds is not None and elapsed >= config.max_seconds and step < total_steps:
                    return step, epochs_done, "max_seconds", elapsed
        return step, epochs_done, reason, elapsed

    if config.dropout > 0:  # dropout draws from the global generator: fork it so the caller's is kept
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            steps, epochs_done, reason, train_time = run_loop()
    else:
        steps, epochs_done, reason, train_time = run_loop()

    if learned:  # a stopped run still ends with exactly memory_size slots per channel
        net.update_selection(1.0)
        last = _snapshot(net, steps, 1.0)
        if not selection or selection[-1].step != steps or not all(
            np.array_equal(a, b) for a, b in zip(selection[-1].masks, last.masks)
        ):
            selection.append(last)
    if not hooks.in_sync(net):
        raise TrainingError("parameters or selection masks differ between ranks; the run is not usable")
    hooks.sync_buffers(net)
    net = net.cpu().eval()
    for conv in net.convs:  # hand back a model whose filters are trainable again if the user goes on
        conv.h0.requires_grad_(True)
        conv.h1.requires_grad_(True)
    val = evaluate(net, task, "val")
    test = evaluate(net, task, "test")
    return TrainResult(
        net=net,
        config=config,
        task_name=task.name,
        kind=kind,
        history=history,
        val=val,
        test=test,
        wall_time=time.perf_counter() - start,
        train_time=train_time,
        steps=steps,
        total_steps=total_steps,
        epochs_done=epochs_done,
        stopped=reason is not None,
        stop_reason=reason,
        selection_history=selection,
        world_size=hooks.world_size,
    )


def _step_stats(out: torch.Tensor, y: torch.Tensor, loss: torch.Tensor, kind: str) -> torch.Tensor:
    """``[loss * n, n, non-finite flag, then the running-metric sums]`` of one local batch (float64).

    Running sums: ``[correct, n]`` for classification; for recall, per lag the squared error,
    the target sum and the target square sum, then ``n`` (R^2 over the epoch so far from sums alone).
    """
    n = y.shape[0]
    finite = bool(torch.isfinite(loss))
    head = torch.tensor([float(loss) * n if finite else 0.0, n, 0.0 if finite else 1.0], dtype=torch.float64)
    count = torch.tensor([float(n)], dtype=torch.float64)
    if kind == "classify":
        correct = (out.argmax(dim=1) == y).sum().double().reshape(1)
        return torch.cat([head, correct, count])
    o, t = out.double(), y.double()
    return torch.cat([head, ((o - t) ** 2).sum(0), t.sum(0), (t**2).sum(0), count])


def _running_metric(running: torch.Tensor, kind: str) -> float:
    n = float(running[-1])
    if kind == "classify":
        return float(running[0]) / n
    lags = (len(running) - 1) // 3
    sse, total, squares = running[:lags], running[lags : 2 * lags], running[2 * lags : 3 * lags]
    variance = squares - total**2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - (sse / variance).numpy()
    r2 = r2[np.isfinite(r2)]
    return float(r2.mean()) if r2.size else float("nan")


def _validate(net: MultiresNet, task: TaskData, hooks) -> float:
    hooks.sync_buffers(net)  # every rank evaluates rank 0's model
    return evaluate(net, task, "val")["metric"]


def evaluate(net: MultiresNet, task: TaskData, split: str = "test") -> dict[str, Any]:
    """Score ``net`` on one split of ``task`` (in eval mode; the net's mode is restored).

    Returns
    -------
    dict
        Always ``split``, ``n``, ``loss``, ``metric`` and ``metric_name``. Classification:
        ``metric_name="accuracy"`` and ``accuracy``. Recall: ``metric_name="r2_mean"``, ``r2`` (one
        per lag, NaN for a constant target), ``r2_mean`` (mean over finite lags) and ``lags``.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    x, y = getattr(task, f"x_{split}"), getattr(task, f"y_{split}")
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    outputs = []
    try:
        with torch.no_grad():
            for first in range(0, len(x), EVAL_BATCH):
                outputs.append(net(x[first : first + EVAL_BATCH].to(device)).cpu())
    finally:
        net.train(was_training)
    out = torch.cat(outputs)
    loss = float(_loss(out, y, task.kind))
    result: dict[str, Any] = {"split": split, "n": int(len(x)), "loss": loss}
    if task.kind == "classify":
        accuracy = float((out.argmax(dim=1) == y).double().mean())
        result.update(metric_name="accuracy", metric=accuracy, accuracy=accuracy)
    else:
        r2 = recall_r2(out, y) if len(y) >= 2 else np.full(len(task.lags), np.nan)
        finite = r2[np.isfinite(r2)]
        mean = float(finite.mean()) if finite.size else float("nan")
        result.update(metric_name="r2_mean", metric=mean, r2_mean=mean, r2=[float(v) for v in r2],
                      lags=list(task.lags))
    return result
