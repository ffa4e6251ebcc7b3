"""What every task is made of: the :class:`TaskData` container, its exception, shared checks.

Examples
--------
>>> import torch
>>> task = TaskData("toy", torch.zeros(4, 1, 8), torch.tensor([0, 1, 0, 1]), torch.zeros(2, 1, 8),
...                 torch.tensor([0, 1]), torch.zeros(2, 1, 8), torch.tensor([1, 0]), n_classes=2,
...                 kind="classify", lags=(), class_names=("a", "b"), description="a toy task")
>>> task.channels_in, task.length, task.n_outputs, task.source
(1, 8, 2, '')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from multires.options import Readout, TaskKind
from multires.plaintext import quote

__all__ = ["DatasetError", "ImageLayout", "TaskData", "check_count", "check_seed"]



class DatasetError(ValueError):
    """A user's dataset (arrays or files) is unusable; the message is written to be shown as-is."""


@dataclass(frozen=True)
class ImageLayout:
    """How a task's one-channel series are pictures: which pixel each time step reads.

    Augmentations that move the picture (``shift`` in :mod:`multires.training.augment`) need it;
    tasks whose series are not pictures have none.

    Attributes
    ----------
    height, width : int
        The picture's size; a series has ``height * width`` steps.
    order : tuple of int
        ``order[t]`` is the pixel (row-major index) that step ``t`` reads: ``range(height * width)``
        row by row (sMNIST), one fixed permutation for psMNIST.
    background : float
        A blank pixel's value as the model sees it (after the task's normalisation): what a shifted
        picture is filled with where it moved away from the frame.
    """

    height: int
    width: int
    order: tuple[int, ...]
    background: float

    def __post_init__(self) -> None:
        if sorted(self.order) != list(range(self.height * self.width)):
            raise ValueError(f"order must be a permutation of the {self.height} x {self.width} pixels")


@dataclass(frozen=True, eq=False)
class TaskData:
    """A task's three splits as tensors, plus what a model and the UI need to know about it.

    Attributes
    ----------
    name : str
        Task name as given to :func:`~multires.data.tasks.load_task` (or to ``from_arrays``).
    x_train, x_val, x_test : torch.Tensor
        Inputs, float32 ``[n, channels_in, length]``.
    y_train, y_val, y_test : torch.Tensor
        Targets: int64 class labels ``[n]`` for ``kind="classify"``; float32 ``[n, len(lags)]``
        for ``kind="recall"`` (column ``j`` is an input value ``lags[j]`` steps before the end).
    n_classes : int
        Number of classes; 0 for the recall (regression) tasks.
    kind : {"classify", "recall"}
        Classification (cross-entropy on the last or pooled output) or recall (regression).
    lags : tuple of int
        Recall tasks only: the lag ``tau`` of each target column; empty otherwise.
    class_names : tuple of str
        One name per class (classification) or per target column (``"lag 1"``, ... for recall).
    description : str
        One line for the UI.
    source : str, default ""
        Where the data comes from, e.g. ``"aeon bundled GunPoint, official train/test split"``.
    notes : tuple of str, default ()
        Sentences for the user about what was done to the data (e.g. how many series were constant
        and set to zeros by normalisation).
    lag_channels : tuple of int, default ()
        Recall tasks only: the input channel each target column recalls (all 0 for ``"memory"``;
        empty when every column recalls channel 0).
    readout : {"pool", "last"} or None, default None
        Where a model reads its answer: ``"pool"`` (mean over time), ``"last"`` (the last step's
        output: the label is about fixed lags behind the end), or None for the kind's usual head
        (``pool`` for classification, ``last`` for recall).
    image : ImageLayout or None, default None
        The picture each series reads, pixel by pixel (sMNIST, psMNIST); None when series are not pictures.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    kind: TaskKind
    lags: tuple[int, ...]
    class_names: tuple[str, ...]
    description: str
    source: str = ""
    lag_channels: tuple[int, ...] = ()
    readout: Readout | None = None
    notes: tuple[str, ...] = ()
    image: ImageLayout | None = None

    @classmethod
    def from_splits(cls, xs: list[torch.Tensor], ys: list[torch.Tensor], **fields: Any) -> TaskData:
        """A task from its (train, val, test) inputs ``xs`` and targets ``ys``, plus the other fields."""
        return cls(x_train=xs[0], y_train=ys[0], x_val=xs[1], y_val=ys[1], x_test=xs[2], y_test=ys[2], **fields)

    @property
    def channels_in(self) -> int:
        """Input channels (``x.shape[1]``)."""
        return int(self.x_train.shape[1])

    @property
    def length(self) -> int:
        """Sequence length (``x.shape[2]``)."""
        return int(self.x_train.shape[2])

    @property
    def n_outputs(self) -> int:
        """Width of the model head: ``n_classes`` for classification, ``len(lags)`` for recall."""
        return self.n_classes if self.kind == "classify" else len(self.lags)

    @property
    def head(self) -> Readout:
        """The model head this task is read with: :attr:`readout`, else ``pool`` (classify) / ``last`` (recall)."""
        if self.readout is not None:
            return self.readout
        return "pool" if self.kind == "classify" else "last"


def check_seed(seed: int) -> int:
    """Return ``seed`` as an ``int`` after checking it is a non-negative integer.

    Examples
    --------
    >>> check_seed(3)
    3
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {quote(seed)}")
    return int(seed)


def check_count(value: int, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``minimum <= value <= maximum``.

    Examples
    --------
    >>> check_count(5, "n_train", minimum=2)
    5
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {quote(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)
