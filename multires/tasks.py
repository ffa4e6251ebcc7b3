"""Training tasks as plain functions: deterministic from a seed, no downloads, no global RNG.

Three tasks, all returning a :class:`TaskData` of ready-to-train tensors
(inputs ``[n, channels_in, length]`` float32):

* ``"digits"`` (:func:`digits_task`): the 1797 real 8x8 handwritten digits of
  ``sklearn.datasets.load_digits``, read pixel by pixel as length-64 sequences; 10 classes.
* ``"signals"`` (:func:`signals_task`): which Donoho-Johnstone test signal a noisy, circularly
  shifted, rescaled copy came from; 8 classes, length 1024 by default.
* ``"memory"`` (:func:`memory_task`): recall, at the last time step, white-noise input values
  ``tau`` steps back for several lags; a regression scored per lag with :func:`recall_r2`.

Randomness comes only from ``np.random.default_rng(seed)``; the global NumPy and PyTorch generators
are never touched.

Examples
--------
>>> from multires.tasks import load_task
>>> task = load_task("digits", seed=0)
>>> tuple(task.x_train.shape[1:]), task.n_classes
((1, 64), 10)
>>> load_task("memory", seed=1, n_train=10, n_val=2, n_test=2).y_train.shape
torch.Size([10, 8])
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np
import torch

from multires.signals import MAX_SIGNAL_LENGTH, MIN_SIGNAL_LENGTH, load_signal

__all__ = [
    "TaskName",
    "TaskKind",
    "TASK_NAMES",
    "SIGNAL_CLASSES",
    "DEFAULT_LAGS",
    "TaskData",
    "load_task",
    "digits_task",
    "signals_task",
    "memory_task",
    "recall_r2",
]

TaskName = Literal["digits", "signals", "memory"]
TaskKind = Literal["classify", "recall"]

TASK_NAMES: tuple[str, ...] = ("digits", "signals", "memory")
"""Names :func:`load_task` accepts."""

SIGNAL_CLASSES: tuple[str, ...] = (
    "Blocks",
    "Bumps",
    "HeaviSine",
    "Doppler",
    "Ramp",
    "LinChirp",
    "QuadChirp",
    "MishMash",
)
"""Classes of the ``"signals"`` task, all from ``pywt.data.demo_signal`` (label = position here)."""

DEFAULT_LAGS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
"""Lags recalled by the ``"memory"`` task by default."""

# Fractions of every class that go to (train, val, test); the rest of each class after val and
# test is train, so every split is stratified.
_SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


@dataclass(frozen=True, eq=False)
class TaskData:
    """A task's three splits as tensors, plus what a model and the UI need to know about it.

    Attributes
    ----------
    name : str
        Task name, one of :data:`TASK_NAMES`.
    x_train, x_val, x_test : torch.Tensor
        Inputs, float32 ``[n, channels_in, length]``.
    y_train, y_val, y_test : torch.Tensor
        Targets: int64 class labels ``[n]`` for ``kind="classify"``; float32 ``[n, len(lags)]``
        for ``kind="recall"`` (column ``j`` is the input value ``lags[j]`` steps before the end).
    n_classes : int
        Number of classes; 0 for the recall (regression) task.
    kind : {"classify", "recall"}
        Classification (cross-entropy on the last or pooled output) or recall (regression).
    lags : tuple of int
        Recall task only: the lags ``tau`` of the target columns; empty otherwise.
    class_names : tuple of str
        One name per class (classification) or per target column (``"lag 1"``, ... for recall).
    description : str
        One line for the UI.
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


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


def load_task(name: str, seed: int = 0, **options: Any) -> TaskData:
    """Build a task by name.

    Parameters
    ----------
    name : {"digits", "signals", "memory"}
        Which task; see :func:`digits_task`, :func:`signals_task`, :func:`memory_task`.
    seed : int, default 0
        Non-negative seed; the same seed always gives the same tensors.
    **options
        Keyword options of the task's function (e.g. ``noise=0.5`` for ``"signals"``).

    Returns
    -------
    TaskData

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists :data:`TASK_NAMES`), or an option value is invalid.
    TypeError
        If an option is not one the task accepts (the message lists the accepted options).

    Examples
    --------
    >>> load_task("signals", seed=0, n_per_class=10, length=64).x_train.shape
    torch.Size([56, 1, 64])
    """
    builders: dict[str, Callable[..., TaskData]] = {
        "digits": digits_task,
        "signals": signals_task,
        "memory": memory_task,
    }
    if name not in builders:
        raise ValueError(f"unknown task {name!r}; allowed names are: {', '.join(TASK_NAMES)}")
    builder = builders[name]
    accepted = [p for p in inspect.signature(builder).parameters if p != "seed"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"task {name!r} has no option(s) {', '.join(unknown)}; "
            f"accepted options: {', '.join(accepted) or 'none'}"
        )
    return builder(seed=seed, **options)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_count(value: int, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def _stratified_split(
    labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of (train, val, test), stratified by label, each split in random order."""
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = int(round(_SPLIT_FRACTIONS[1] * members.size))
        n_test = int(round(_SPLIT_FRACTIONS[2] * members.size))
        parts[1].append(members[:n_val])
        parts[2].append(members[n_val : n_val + n_test])
        parts[0].append(members[n_val + n_test :])
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, val, test


def _classification(
    name: str,
    inputs: np.ndarray,  # (n, channels, length)
    labels: np.ndarray,  # (n,)
    rng: np.random.Generator,
    class_names: tuple[str, ...],
    description: str,
    standardise: bool,
) -> TaskData:
    train, val, test = _stratified_split(labels, rng)
    if standardise:
        # One mean/std per channel over all train samples and time steps (as in sequential CIFAR);
        # per-position statistics would divide by zero at always-blank border pixels.
        mean = inputs[train].mean(axis=(0, 2), keepdims=True)
        std = inputs[train].std(axis=(0, 2), keepdims=True)
        inputs = (inputs - mean) / std

    def x(idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(inputs[idx], dtype=np.float32))

    def y(idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(labels[idx].astype(np.int64))

    return TaskData(
        name=name,
        x_train=x(train),
        y_train=y(train),
        x_val=x(val),
        y_val=y(val),
        x_test=x(test),
        y_test=y(test),
        n_classes=len(class_names),
        kind="classify",
        lags=(),
        class_names=class_names,
        description=description,
    )


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.data.astype(np.float64)  # (1797, 64), values 0..16, rows of the 8x8 image
    labels = bunch.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


def digits_task(seed: int = 0) -> TaskData:
    """Handwritten digits read pixel by pixel: 10-class classification of length-64 sequences.

    Each 8x8 image of ``sklearn.datasets.load_digits()`` (1797 in all, shipped with scikit-learn)
    is read row-major into a length-64 sequence with 1 channel, scaled to [0, 1] (``/ 16``), then
    standardised with the mean and standard deviation of all training pixels. The split is
    stratified per digit (rounded per class), 70 / 10 / 20 % train / val / test
    (1259 / 179 / 359), drawn from
    ``np.random.default_rng(seed)``.

    Parameters
    ----------
    seed : int, default 0
        Non-negative seed of the split.

    Returns
    -------
    TaskData
        ``x_*`` float32 ``[n, 1, 64]``; ``y_*`` int64 ``[n]`` in 0..9; ``class_names`` "0".."9".

    Examples
    --------
    >>> task = digits_task(seed=0)
    >>> task.x_train.shape, task.x_val.shape, task.x_test.shape
    (torch.Size([1259, 1, 64]), torch.Size([179, 1, 64]), torch.Size([359, 1, 64]))
    """
    rng = np.random.default_rng(_check_seed(seed))
    images, labels = _digits()
    inputs = (images / 16.0)[:, None, :]  # (n, 1, 64)
    return _classification(
        name="digits",
        inputs=inputs,
        labels=labels,
        rng=rng,
        class_names=tuple(str(d) for d in range(10)),
        description="Handwritten 8x8 digits read pixel by pixel (length 64): which digit is it?",
        standardise=True,
    )


def signals_task(
    seed: int = 0,
    length: int = 1024,
    n_per_class: int = 200,
    noise: float = 1.0,
    normalize: bool = True,
) -> TaskData:
    """Which Donoho-Johnstone test signal did a noisy, shifted, rescaled copy come from?

    For each of the 8 :data:`SIGNAL_CLASSES`, the template ``pywt.data.demo_signal(name, length)``
    is standardised (zero mean, unit variance). Every sample is then

        ``x = a * roll(template, s) + c + noise * e``

    with a circular shift ``s`` uniform in ``0..length-1``, amplitude ``a`` uniform in [0.5, 2],
    offset ``c`` uniform in [-1, 1] and ``e`` standard normal white noise; finally (if
    ``normalize``) each sample is z-normalised on its own. After normalisation the offset is gone
    and ``a / noise`` is the sample's signal-to-noise amplitude ratio, so classes must be told
    apart by shape at varying SNR, anywhere in the sequence.

    Parameters
    ----------
    seed : int, default 0
        Non-negative seed of all random draws.
    length : int, default 1024
        Sequence length, from 16 to 16384.
    n_per_class : int, default 200
        Samples per class before the split; split per class 70 / 10 / 20 % train / val / test
        (at the default 1120 / 160 / 320 in all), so every split is balanced.
    noise : float, default 1.0
        Standard deviation of the additive noise relative to the unit-variance template. At 1.0
        the task is learnable but not trivial; 0 gives clean (shifted, scaled) templates.
    normalize : bool, default True
        Z-normalise every sample (removes offset and amplitude).

    Returns
    -------
    TaskData
        ``x_*`` float32 ``[n, 1, length]``; ``y_*`` int64 ``[n]``, indices into ``SIGNAL_CLASSES``.

    Raises
    ------
    ValueError
        If an option is out of range.

    Examples
    --------
    >>> task = signals_task(seed=0, length=128, n_per_class=20)
    >>> task.x_train.shape, task.class_names[:3]
    (torch.Size([112, 1, 128]), ('Blocks', 'Bumps', 'HeaviSine'))
    """
    rng = np.random.default_rng(_check_seed(seed))
    length = _check_count(length, "length", minimum=16, maximum=MAX_SIGNAL_LENGTH)
    n_per_class = _check_count(n_per_class, "n_per_class", minimum=10)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not 0 <= noise < np.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")

    templates = np.stack([load_signal(name, n=length) for name in SIGNAL_CLASSES])  # (C, L)
    templates = (templates - templates.mean(axis=1, keepdims=True)) / templates.std(axis=1, keepdims=True)

    n_classes = len(SIGNAL_CLASSES)
    n_total = n_classes * n_per_class
    labels = np.repeat(np.arange(n_classes), n_per_class)  # (n,)
    shifts = rng.integers(0, length, size=n_total)
    amplitudes = rng.uniform(0.5, 2.0, size=(n_total, 1))
    offsets = rng.uniform(-1.0, 1.0, size=(n_total, 1))
    # roll(template, s)[t] = template[(t - s) mod length], gathered for all samples at once.
    positions = (np.arange(length)[None, :] - shifts[:, None]) % length  # (n, L)
    inputs = amplitudes * templates[labels[:, None], positions] + offsets  # (n, L)
    inputs += float(noise) * rng.standard_normal((n_total, length))
    if normalize:
        inputs = (inputs - inputs.mean(axis=1, keepdims=True)) / inputs.std(axis=1, keepdims=True)

    return _classification(
        name="signals",
        inputs=inputs[:, None, :],  # (n, 1, L)
        labels=labels,
        rng=rng,
        class_names=SIGNAL_CLASSES,
        description=(
            f"Which of {n_classes} wavelet test signals is this noisy, shifted copy "
            f"(length {length}, noise {float(noise):g})?"
        ),
        standardise=False,
    )


def memory_task(
    seed: int = 0,
    length: int = 256,
    lags: tuple[int, ...] = DEFAULT_LAGS,
    n_train: int = 2000,
    n_val: int = 500,
    n_test: int = 1000,
) -> TaskData:
    """Recall white noise: at the last step, output the inputs ``tau`` steps back, for each lag.

    Inputs are i.i.d. standard normal sequences ``x[0..N-1]`` (1 channel, ``N = length``); the target
    of a sequence is the vector ``(x[N-1-tau] for tau in lags)``. A model reads its output at the
    last time step, so recalling lag ``tau`` needs ``tau`` steps of memory. Scored per lag with
    :func:`recall_r2` (0 = no better than predicting the mean, 1 = perfect recall).

    Parameters
    ----------
    seed : int, default 0
        Non-negative seed of all draws.
    length : int, default 256
        Sequence length, from 8 to 16384.
    lags : tuple of int, default (1, 2, 4, 8, 16, 32, 64, 128)
        Distinct lags, each ``0 <= tau < length``, in the order of the target columns.
    n_train, n_val, n_test : int, default 2000, 500, 1000
        Number of sequences per split.

    Returns
    -------
    TaskData
        ``x_*`` float32 ``[n, 1, length]``; ``y_*`` float32 ``[n, len(lags)]`` with
        ``y[:, j] == x[:, 0, length - 1 - lags[j]]`` exactly; ``kind="recall"``, ``n_classes=0``,
        ``class_names`` ``("lag 1", "lag 2", ...)``.

    Raises
    ------
    ValueError
        If a lag is out of range or repeated, or a size is invalid.

    Examples
    --------
    >>> task = memory_task(seed=0, length=16, lags=(0, 3), n_train=4, n_val=1, n_test=1)
    >>> bool((task.y_train[:, 1] == task.x_train[:, 0, 16 - 1 - 3]).all())
    True
    """
    rng = np.random.default_rng(_check_seed(seed))
    length = _check_count(length, "length", minimum=MIN_SIGNAL_LENGTH, maximum=MAX_SIGNAL_LENGTH)
    split_sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
    sizes = [_check_count(value, label) for label, value in split_sizes.items()]
    lags = tuple(lags)
    if not lags:
        raise ValueError("lags must hold at least one lag")
    for tau in lags:
        if isinstance(tau, bool) or not isinstance(tau, (int, np.integer)) or not 0 <= tau < length:
            raise ValueError(f"every lag must be an integer from 0 to length - 1 = {length - 1}, got {tau!r}")
    if len(set(lags)) != len(lags):
        raise ValueError(f"lags must be distinct, got {lags}")
    lags = tuple(int(tau) for tau in lags)

    inputs = rng.standard_normal((sum(sizes), 1, length)).astype(np.float32)  # (n, 1, L)
    positions = [length - 1 - tau for tau in lags]
    targets = inputs[:, 0, positions]  # (n, len(lags)), exact copies of input values
    bounds = np.cumsum([0, *sizes])
    x = [torch.from_numpy(np.ascontiguousarray(inputs[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
    y = [torch.from_numpy(np.ascontiguousarray(targets[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]

    return TaskData(
        name="memory",
        x_train=x[0],
        y_train=y[0],
        x_val=x[1],
        y_val=y[1],
        x_test=x[2],
        y_test=y[2],
        n_classes=0,
        kind="recall",
        lags=lags,
        class_names=tuple(f"lag {tau}" for tau in lags),
        description=(
            f"Recall white noise (length {length}) at the last step, {len(lags)} lags "
            f"from {min(lags)} to {max(lags)} steps back"
        ),
    )


def recall_r2(pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> np.ndarray:
    """Coefficient of determination R^2 of each target column (one per lag of the memory task).

    ``R^2_j = 1 - sum_i (pred_ij - target_ij)^2 / sum_i (target_ij - mean_i target_ij)^2``, as
    ``sklearn.metrics.r2_score(target, pred, multioutput="raw_values")`` except that a constant
    target column gives NaN (R^2 is undefined there).

    Parameters
    ----------
    pred, target : array_like or torch.Tensor
        Shape ``[n, n_lags]`` (or ``[n]`` for a single lag), same shape, ``n >= 2``.

    Returns
    -------
    numpy.ndarray
        float64 ``[n_lags]``; 1 is perfect recall, 0 no better than the mean, negative worse.

    Raises
    ------
    ValueError
        If the shapes differ or there are fewer than 2 rows.

    Examples
    --------
    >>> target = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> recall_r2(target, target)
    array([1., 1.])
    >>> recall_r2(np.zeros((3, 2)) + target.mean(axis=0), target)
    array([0., 0.])
    """

    def as_array(value: np.ndarray | torch.Tensor) -> np.ndarray:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        return np.asarray(value, dtype=np.float64)

    p, t = as_array(pred), as_array(target)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {p.shape} and {t.shape}")
    if t.ndim == 1:
        p, t = p[:, None], t[:, None]
    if t.ndim != 2 or t.shape[0] < 2:
        raise ValueError(f"expected shape [n, n_lags] with n >= 2, got {t.shape}")
    residual = ((p - t) ** 2).sum(axis=0)
    total = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - residual / total
    return np.where(total > 0, r2, np.nan)
