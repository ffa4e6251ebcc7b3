"""Reference classifiers on a :class:`~multires.data.tasks.TaskData`: aeon's MiniRocket and 1-NN DTW.

Both use the task's own splits and are never tuned on its test split: they are fit on the
training and validation series together (the official UCR train split, when the task carved its
validation set out of it; neither baseline tunes anything on validation data) and scored once on
the test split. Fit and predict times are wall-clock seconds of this process (one thread unless
the caller allows more).

* :func:`minirocket`: ``aeon.classification.convolution_based.MiniRocketClassifier`` (MiniRocket
  features + ``RidgeClassifierCV``, aeon's defaults: 10,000 kernels), seeded.
* :func:`dtw_1nn`: ``aeon.classification.distance_based.KNeighborsTimeSeriesClassifier`` with
  ``distance="dtw"``, one neighbour, and an optional Sakoe-Chiba band (``window`` as a fraction of
  the length, aeon's convention). Full-window DTW costs O(length^2) per pair; on sequential MNIST
  (length 784, thousands of series) use a window such as 0.1 and/or ``max_train``/``max_test``
  (a stratified subsample, recorded in the result) to keep it to minutes.

aeon is imported inside the functions: ``import multires`` stays light.

Examples
--------
>>> import numpy as np, torch
>>> from multires.data.tasks import TaskData
>>> rng = np.random.default_rng(0)
>>> def split(n):  # class 1 has a bump in the middle, class 0 is noise
...     y = np.arange(n) % 2
...     x = rng.normal(0, 0.3, (n, 1, 32)) + y[:, None, None] * np.exp(-((np.arange(32) - 16) / 3.0) ** 2)
...     return torch.tensor(x, dtype=torch.float32), torch.tensor(y)
>>> (xtr, ytr), (xva, yva), (xte, yte) = split(20), split(6), split(20)
>>> task = TaskData("toy", xtr, ytr, xva, yva, xte, yte, 2, "classify", (), ("a", "b"), "toy")
>>> dtw_1nn(task)["accuracy"] >= 0.8
True
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from multires.plaintext import quote

__all__ = ["BASELINE_NAMES", "dtw_1nn", "minirocket"]

#: Baseline names as they appear in result tables and on the Study/Compare pages.
BASELINE_NAMES: tuple[str, ...] = ("MiniRocket", "1-NN DTW")


def _arrays(task: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train (train + val) and test as aeon arrays ``(n, channels, length)`` float64 and labels."""
    if task.kind != "classify":
        raise ValueError(f"baselines are classifiers; task {quote(task.name)} is a {quote(task.kind)} task")
    x_fit = np.concatenate([task.x_train.numpy(), task.x_val.numpy()]).astype(np.float64)
    y_fit = np.concatenate([task.y_train.numpy(), task.y_val.numpy()])
    return x_fit, y_fit, task.x_test.numpy().astype(np.float64), task.y_test.numpy()


def _subsample(x: np.ndarray, y: np.ndarray, limit: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` series, stratified by class (same share of every class), in a seeded order."""
    if limit is None or len(y) <= limit:
        return x, y
    if limit < 1:
        raise ValueError(f"a subsample limit must be >= 1, got {limit}")
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        keep.append(members[: max(1, int(round(limit * len(members) / len(y))))])
    idx = np.sort(np.concatenate(keep))
    return x[idx], y[idx]


def _score(model: Any, x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    start = time.perf_counter()
    model.fit(x_fit, y_fit)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(x_test)
    predict_s = time.perf_counter() - start
    return {"accuracy": float(np.mean(pred == y_test)), "fit_s": fit_s, "predict_s": predict_s,
            "n_train": int(len(y_fit)), "n_test": int(len(y_test))}


def minirocket(task: Any, seed: int = 0, n_kernels: int = 10_000) -> dict[str, Any]:
    """Fit aeon's MiniRocket classifier on ``task`` (train + val) and score it on the test split.

    Parameters
    ----------
    task : TaskData
        A classification task.
    seed : int, default 0
        ``random_state`` of MiniRocket's kernels.
    n_kernels : int, default 10_000
        aeon's default.

    Returns
    -------
    dict
        ``accuracy`` (test), ``fit_s``, ``predict_s``, ``n_train``, ``n_test``.

    Raises
    ------
    ValueError
        If the task is not a classification task.
    """
    # aeon takes seconds to import: only baselines need it
    from aeon.classification.convolution_based import MiniRocketClassifier

    x_fit, y_fit, x_test, y_test = _arrays(task)
    return _score(MiniRocketClassifier(n_kernels=n_kernels, random_state=seed, n_jobs=1), x_fit, y_fit, x_test, y_test)


def dtw_1nn(task: Any, window: float | None = None, max_train: int | None = None, max_test: int | None = None,
            seed: int = 0) -> dict[str, Any]:
    """1-nearest-neighbour classifier under dynamic time warping (aeon), scored on the test split.

    Parameters
    ----------
    task : TaskData
        A classification task.
    window : float, optional
        Sakoe-Chiba band as a fraction of the length, in (0, 1]; None is the full window
        (unconstrained DTW, the usual "1-NN DTW" UCR baseline).
    max_train, max_test : int, optional
        Stratified, seeded subsamples of the fit and test series (for long, large tasks such as
        sequential MNIST); None uses all of them.
    seed : int, default 0
        Seed of the subsamples only (1-NN DTW itself is deterministic).

    Returns
    -------
    dict
        ``accuracy``, ``fit_s``, ``predict_s``, ``n_train``, ``n_test``, ``window``.

    Raises
    ------
    ValueError
        If ``window`` is not in (0, 1], a limit is below 1, or the task is not a classification task.
    """
    if window is not None and not (isinstance(window, (int, float)) and 0.0 < window <= 1.0):
        raise ValueError(f"window must be a fraction of the length in (0, 1] or None (full window), got {quote(window)}")
    # as above: aeon on first use
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    x_fit, y_fit, x_test, y_test = _arrays(task)
    x_fit, y_fit = _subsample(x_fit, y_fit, max_train, seed)
    x_test, y_test = _subsample(x_test, y_test, max_test, seed + 1)
    params = None if window is None else {"window": float(window)}
    model = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", distance_params=params, n_jobs=1)
    return {**_score(model, x_fit, y_fit, x_test, y_test), "window": window}
