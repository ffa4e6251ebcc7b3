"""The built-in tasks: digits, test signals and the white-noise memory task (plus its score).

Everything is generated or read from data that ships with the dependencies (scikit-learn's digits,
PyWavelets' test signals); randomness comes only from ``np.random.default_rng(seed)``.

Examples
--------
>>> memory_task(seed=0, length=16, lags=(1, 2), n_train=3, n_val=1, n_test=1).y_train.shape
torch.Size([3, 2])
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from multires.data.signals import digits_arrays, load_signal
from multires.data.tasks.base import TaskData, check_count, check_seed
from multires.data.tasks.splits import pooled_task
from multires.options import MAX_SIGNAL_LENGTH, MEMORY_INPUTS, MIN_SIGNAL_LENGTH, MemoryInputs
from multires.plaintext import quote

__all__ = [
    "DEFAULT_LAGS", "INDEPENDENT_MEMORY_CHANNELS", "SIGNAL_CLASSES", "digits_task", "memory_task",
    "recall_r2", "signals_task",
]

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
"""Lags recalled by the memory tasks by default."""


INDEPENDENT_MEMORY_CHANNELS = 8
"""Default number of input channels of ``memory_task(inputs="independent")``."""

_MAX_MEMORY_CHANNELS = 64


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
    rng = np.random.default_rng(check_seed(seed))
    images, labels = digits_arrays()
    inputs = (images / 16.0)[:, None, :]  # (n, 1, 64)
    return pooled_task(
        name="digits",
        inputs=inputs,
        labels=labels,
        rng=rng,
        class_names=tuple(str(d) for d in range(10)),
        description="Handwritten 8x8 digits read pixel by pixel (length 64): which digit is it?",
        standardise=True,
        source="sklearn.datasets.load_digits (bundled with scikit-learn), stratified 70/10/20 split",
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
    rng = np.random.default_rng(check_seed(seed))
    length = check_count(length, "length", minimum=16, maximum=MAX_SIGNAL_LENGTH)
    n_per_class = check_count(n_per_class, "n_per_class", minimum=10)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not 0 <= noise < np.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {quote(noise)}")

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

    return pooled_task(
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
        source="pywt.data.demo_signal templates with seeded noise, stratified 70/10/20 split",
    )


def memory_task(
    seed: int = 0,
    length: int = 256,
    lags: tuple[int, ...] = DEFAULT_LAGS,
    n_train: int = 2000,
    n_val: int = 500,
    n_test: int = 1000,
    inputs: MemoryInputs = "shared",
    channels: int | None = None,
) -> TaskData:
    """Recall white noise: at the last step, output the inputs ``tau`` steps back, for each lag.

    Inputs are i.i.d. standard normal sequences of length ``N``; a model reads its output at the
    last time step, so recalling lag ``tau`` needs ``tau`` steps of memory. Scored per target
    column with :func:`recall_r2` (0 = no better than predicting the mean, 1 = perfect recall).

    * ``inputs="shared"`` (task ``"memory"``, the default): one input channel; the target of a
      sequence is ``(x[N-1-tau] for tau in lags)``. A model that spreads this one input over many
      channels lets its channels share the work: each channel may keep different coefficients of
      the *same* signal.
    * ``inputs="independent"`` (task ``"memory-independent"``): ``channels`` independent
      white-noise inputs, and every channel's input must be recalled at every lag: column
      ``c * len(lags) + j`` of the target is ``x[c, N-1-lags[j]]``. Nothing one channel keeps
      helps another, so with one memory channel per input (``d_model == channels`` and a
      channel-wise encoder) each channel must remember its own input within its own budget — the
      fair test of a per-channel TREESELECT rule. ``channels=1`` is the single-channel variant.

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
    inputs : {"shared", "independent"}, default "shared"
        The variant, as above.
    channels : int, optional
        Input channels: must be 1 (or None) for ``"shared"``; 1 to 64 for ``"independent"``
        (default :data:`INDEPENDENT_MEMORY_CHANNELS` = 8).

    Returns
    -------
    TaskData
        ``x_*`` float32 ``[n, channels, length]``; ``y_*`` float32 ``[n, channels * len(lags)]``,
        exact copies of input values; ``kind="recall"``, ``n_classes=0``; ``lags`` and
        ``lag_channels`` give each column's lag and input channel; ``class_names`` ``"lag 1"``, ...
        (shared) or ``"ch 1 lag 1"``, ... (independent, channels counted from 1).

    Raises
    ------
    ValueError
        If a lag is out of range or repeated, a size is invalid, ``inputs`` is unknown, or
        ``channels`` does not fit the variant.

    Examples
    --------
    >>> task = memory_task(seed=0, length=16, lags=(0, 3), n_train=4, n_val=1, n_test=1)
    >>> bool((task.y_train[:, 1] == task.x_train[:, 0, 16 - 1 - 3]).all())
    True
    >>> ind = memory_task(seed=0, length=16, lags=(0, 3), n_train=4, n_val=1, n_test=1,
    ...                   inputs="independent", channels=2)
    >>> ind.name, tuple(ind.x_train.shape), ind.lags, ind.lag_channels, ind.class_names[3]
    ('memory-independent', (4, 2, 16), (0, 3, 0, 3), (0, 0, 1, 1), 'ch 2 lag 3')
    >>> bool((ind.y_train[:, 3] == ind.x_train[:, 1, 16 - 1 - 3]).all())
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    length = check_count(length, "length", minimum=MIN_SIGNAL_LENGTH, maximum=MAX_SIGNAL_LENGTH)
    split_sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
    sizes = [check_count(value, label) for label, value in split_sizes.items()]
    lags = _check_lags(lags, length)
    n_channels = _memory_channels(inputs, channels)

    data = rng.standard_normal((sum(sizes), n_channels, length)).astype(np.float32)  # (n, C, L)
    positions = [length - 1 - tau for tau in lags]
    targets = data[:, :, positions].reshape(sum(sizes), n_channels * len(lags))  # (n, C * n_lags)
    bounds = np.cumsum([0, *sizes])
    x = [torch.from_numpy(np.ascontiguousarray(data[a:b])) for a, b in itertools.pairwise(bounds)]
    y = [torch.from_numpy(np.ascontiguousarray(targets[a:b])) for a, b in itertools.pairwise(bounds)]

    independent = inputs == "independent"
    names = tuple(
        (f"ch {c + 1} lag {tau}" if independent else f"lag {tau}") for c in range(n_channels) for tau in lags
    )
    what = f"{n_channels} independent white-noise inputs" if independent else "white noise"
    return TaskData.from_splits(
        x, y,
        name="memory-independent" if independent else "memory",
        n_classes=0,
        kind="recall",
        lags=lags * n_channels,
        class_names=names,
        description=(
            f"Recall {what} (length {length}) at the last step, {len(lags)} lags "
            f"from {min(lags)} to {max(lags)} steps back"
        ),
        source="seeded white noise (numpy.random.default_rng)",
        lag_channels=tuple(c for c in range(n_channels) for _ in lags),
    )


def _check_lags(lags: tuple[int, ...], length: int) -> tuple[int, ...]:
    lags = tuple(lags)
    if not lags:
        raise ValueError("lags must hold at least one lag")
    for tau in lags:
        if isinstance(tau, bool) or not isinstance(tau, (int, np.integer)) or not 0 <= tau < length:
            raise ValueError(f"every lag must be an integer from 0 to length - 1 = {length - 1}, got {quote(tau)}")
    if len(set(lags)) != len(lags):
        raise ValueError(f"lags must be distinct, got {lags}")
    return tuple(int(tau) for tau in lags)


def _memory_channels(inputs: str, channels: int | None) -> int:
    if inputs not in MEMORY_INPUTS:
        raise ValueError(f"inputs must be one of {', '.join(MEMORY_INPUTS)}, got {quote(inputs)}")
    if inputs == "shared":
        if channels not in (None, 1):
            raise ValueError(
                f"the shared memory task has exactly 1 input channel, got channels={quote(channels)}; "
                'use inputs="independent" for several inputs'
            )
        return 1
    if channels is None:
        return INDEPENDENT_MEMORY_CHANNELS
    return check_count(channels, "channels", minimum=1, maximum=_MAX_MEMORY_CHANNELS)


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
