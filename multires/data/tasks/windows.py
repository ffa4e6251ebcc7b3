"""The distant-windows task: a label that needs exact values far back (the test of uniform vs fading).

White noise; the label says which of two stretches of the input, both far behind the last step, has
the larger mean. Nothing recent carries any information, and an average over a span that holds both
stretches carries none either: a memory must keep the far past at a resolution finer than the
distance between the stretches. That is the case the theory says uniform TREESELECT wins (its cells
tile the past evenly) and resolution fading loses (its far cells hold only long averages).

The answer is read at the last step (``readout="last"``): the label is about fixed lags behind the
end, so averaging the outputs over time would blur exactly what is tested.

Examples
--------
>>> task = distant_windows_task(seed=0, length=32, lags=(10, 20), width=4, n_train=8, n_val=2, n_test=2)
>>> task.x_train.shape, task.readout, task.class_names
(torch.Size([8, 1, 32]), 'last', ('farther stretch higher', 'nearer stretch higher'))
>>> x = task.x_train[:, 0].numpy()
>>> nearer, farther = x[:, 32 - 10 - 4 : 32 - 10].mean(1), x[:, 32 - 20 - 4 : 32 - 20].mean(1)
>>> bool(((nearer > farther) == task.y_train.numpy().astype(bool)).all())
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from multires.data.tasks.base import TaskData, check_count, check_seed
from multires.options import MAX_SIGNAL_LENGTH, MIN_SIGNAL_LENGTH

__all__ = [
    "DEFAULT_WINDOW_LAGS",
    "DEFAULT_WINDOW_WIDTH",
    "WINDOW_CLASSES",
    "best_window_accuracy",
    "distant_windows_task",
    "window_positions",
]

#: Class names, by label: 0 = the farther stretch has the larger mean, 1 = the nearer one has.
WINDOW_CLASSES: tuple[str, str] = ("farther stretch higher", "nearer stretch higher")
#: Default lags of the two stretches' newest samples (at length 64: both in the far half).
DEFAULT_WINDOW_LAGS: tuple[int, int] = (36, 48)
#: Default number of samples in each stretch.
DEFAULT_WINDOW_WIDTH = 12


def window_positions(length: int, lags: tuple[int, int], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Time indices of the nearer and the farther stretch in a sequence of ``length`` samples.

    Stretch ``i`` covers lags ``lags[i] .. lags[i] + width - 1`` behind the last sample, i.e. times
    ``length - lags[i] - width .. length - 1 - lags[i]``.

    >>> [p.tolist() for p in window_positions(16, (2, 8), 3)]
    [[11, 12, 13], [5, 6, 7]]
    """
    length, width, lags = _check_windows(length, lags, width)
    return tuple(np.arange(length - lag - width, length - lag) for lag in lags)  # type: ignore[return-value]


def _check_windows(length: int, lags: tuple[int, int], width: int) -> tuple[int, int, tuple[int, int]]:
    length = check_count(length, "length", minimum=MIN_SIGNAL_LENGTH, maximum=MAX_SIGNAL_LENGTH)
    width = check_count(width, "width", minimum=1)
    lags = tuple(lags)
    if len(lags) != 2 or any(isinstance(t, bool) or not isinstance(t, (int, np.integer)) for t in lags):
        raise ValueError(f"lags must be two integers (nearer stretch, farther stretch), got {lags!r}")
    near, far = (int(t) for t in lags)
    if not 0 <= near < far:
        raise ValueError(f"lags must satisfy 0 <= nearer < farther, got {lags!r}")
    if near + width > far:
        raise ValueError(f"the stretches overlap: nearer lag {near} + width {width} > farther lag {far}")
    if far + width > length:
        raise ValueError(f"the farther stretch (lags {far}..{far + width - 1}) does not fit in length {length}")
    return length, width, (near, far)


def distant_windows_task(
    seed: int = 0,
    length: int = 64,
    lags: tuple[int, int] = DEFAULT_WINDOW_LAGS,
    width: int = DEFAULT_WINDOW_WIDTH,
    n_train: int = 2000,
    n_val: int = 500,
    n_test: int = 1000,
) -> TaskData:
    """Which of two distant stretches of white noise has the larger mean? (2 classes, read at the end.)

    Every sequence is i.i.d. standard normal noise of ``length`` samples (1 channel). Two stretches of
    ``width`` samples sit far behind the last sample: the *nearer* one covers lags
    ``lags[0] .. lags[0] + width - 1``, the *farther* one lags ``lags[1] .. lags[1] + width - 1``
    (see :func:`window_positions`). The label is 1 when the nearer stretch's mean is larger, else 0;
    by symmetry the classes are equally likely. Every other sample is irrelevant noise, so a memory
    that keeps only the recent past, or only one average over both stretches, is at chance (50 %),
    and a memory that keeps both stretches' sums exactly is always right.

    At the defaults (length 64, lags 36 and 48, width 12) the stretches are adjacent and both lie in
    the older half, where resolution fading's cells (Haar, J = 6) average 32 samples at a time.

    Parameters
    ----------
    seed : int, default 0
        Non-negative seed of all draws (``np.random.default_rng(seed)``).
    length : int, default 64
        Sequence length, from 8 to 16384.
    lags : (int, int), default (36, 48)
        Lag of the newest sample of the nearer and of the farther stretch, ``0 <= lags[0] < lags[1]``,
        the stretches not overlapping and both inside the sequence.
    width : int, default 12
        Samples per stretch, >= 1.
    n_train, n_val, n_test : int, default 2000, 500, 1000
        Sequences per split.

    Returns
    -------
    TaskData
        ``x_*`` float32 ``[n, 1, length]``; ``y_*`` int64 ``[n]`` in {0, 1}; ``class_names``
        :data:`WINDOW_CLASSES`; ``readout="last"``.

    Raises
    ------
    ValueError
        If a size or the stretches are invalid (the message says which and why).
    """
    rng = np.random.default_rng(check_seed(seed))
    length, width, lags = _check_windows(length, lags, width)
    sizes = [check_count(value, label) for label, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test))]
    nearer, farther = window_positions(length, lags, width)

    data = rng.standard_normal((sum(sizes), 1, length)).astype(np.float32)  # (n, 1, L)
    difference = data[:, 0, nearer].astype(np.float64).sum(axis=1) - data[:, 0, farther].astype(np.float64).sum(axis=1)
    labels = (difference > 0).astype(np.int64)  # ties have probability 0
    bounds = np.cumsum([0, *sizes])
    x = [torch.from_numpy(np.ascontiguousarray(data[a:b])) for a, b in itertools.pairwise(bounds)]
    y = [torch.from_numpy(np.ascontiguousarray(labels[a:b])) for a, b in itertools.pairwise(bounds)]
    near, far = lags
    return TaskData.from_splits(
        x, y,
        name="distant-windows",
        n_classes=2,
        kind="classify",
        lags=(),
        class_names=WINDOW_CLASSES,
        description=(
            f"White noise (length {length}): is the stretch {near}–{near + width - 1} steps before the end "
            f"higher on average than the stretch {far}–{far + width - 1} steps before the end?"
        ),
        source="seeded white noise (numpy.random.default_rng); label from two distant stretches",
        readout="last",
    )


def best_window_accuracy(
    h0: Any,
    h1: Any,
    slots: Sequence[Any] | Sequence[Sequence[Any]],
    depth: int,
    length: int = 64,
    lags: tuple[int, int] = DEFAULT_WINDOW_LAGS,
    width: int = DEFAULT_WINDOW_WIDTH,
) -> float:
    """Best test accuracy any classifier can reach on this task from one memory read at the last step.

    The memory is the kept tree cells ``slots`` (one channel's filters ``h0, h1``, depth ``J``) plus
    the skip sample ``x[n]``: ``z = A x``, linear in the white-noise input. With several channels
    (``h0, h1`` of shape ``(C, k)`` and one slot list per channel) the memory is every channel's
    cells together: what the first layer of a network holds when each channel gets a scaled copy of
    the input (its filters learned per channel, so the channels may keep different spans). The label is the sign of
    ``d = c . x`` (``c`` = +1 on the nearer stretch, -1 on the farther one). Given ``z``, ``d`` is
    Gaussian with mean its best linear estimate, so the best classifier is the sign of that estimate
    and is right with probability ``1/2 + arcsin(rho)/pi``, ``rho`` the correlation of ``d`` with the
    estimate (``rho**2 = c' P c / c' c``, ``P`` the projection onto the rows of ``A``). No readout of
    that memory -- linear or not, however many channels copy it -- does better. With filters learned
    per channel, or stacked layers, the network's memory is no longer this one projection.

    Examples
    --------
    >>> from multires import memory_slots, wavelet_filters
    >>> h0, h1 = wavelet_filters("haar")
    >>> round(best_window_accuracy(h0, h1, memory_slots("fading", 6, 2), 6), 3)
    0.5
    >>> round(best_window_accuracy(h0, h1, memory_slots("uniform", 6, 2, memory_size=7), 6), 3)
    0.849
    >>> two = np.array([h0, h0]), np.array([h1, h1])  # two channels with the same filters keep the same span
    >>> round(best_window_accuracy(*two, [memory_slots("uniform", 6, 2, memory_size=7)] * 2, 6), 3)
    0.849
    """
    from multires.analysis.memory import (
        memory_matrix,
    )  # the memory analysis; imported here so tasks load without it

    length, width, lags = _check_windows(length, lags, width)
    h0, h1 = np.asarray(h0, dtype=np.float64), np.asarray(h1, dtype=np.float64)
    if h0.ndim == 1:
        h0, h1, slots = h0[None], h1[None], [slots]
    if h0.ndim != 2 or h0.shape != h1.shape or len(slots) != h0.shape[0]:
        raise ValueError(f"h0 and h1 must be (k,) or (channels, k) of equal shape with one slot list per channel; "
                         f"got {h0.shape}, {h1.shape} and {len(slots)} slot list(s)")
    rows = [memory_matrix(lo, hi, list(kept), depth, window=length) for lo, hi, kept in zip(h0, h1, slots) if kept]
    a = np.vstack([*rows, np.eye(length)[-1]])
    nearer, farther = window_positions(length, lags, width)  # a's columns run oldest to newest: time index
    c = np.zeros(length)
    c[nearer], c[farther] = 1.0, -1.0
    projected = np.linalg.pinv(a) @ (a @ c)
    rho = math.sqrt(min(1.0, max(0.0, float(c @ projected) / float(c @ c))))
    return 0.5 + math.asin(rho) / math.pi
