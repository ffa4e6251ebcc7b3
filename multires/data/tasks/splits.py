"""The three-way split of the built-in pooled tasks, and turning split NumPy arrays into a
:class:`~multires.data.tasks.base.TaskData`. (The validation carve of your own train/test data is
``multires.data.tasks.arrays.validation_split``, on scikit-learn.)
"""

from __future__ import annotations

import numpy as np
import torch

from multires.data.tasks.base import TaskData

__all__ = [
    "SPLIT_FRACTIONS",
    "classification_task",
    "pooled_task",
    "stratified_three_way",
]

SPLIT_FRACTIONS: tuple[float, float, float] = (0.7, 0.1, 0.2)
"""Fractions of every class in (train, val, test) for tasks without an official split."""


def stratified_three_way(
    labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of (train, val, test), stratified by label, each split in random order.

    Per class, ``round(0.1 n)`` go to val, ``round(0.2 n)`` to test and the rest to train
    (:data:`SPLIT_FRACTIONS`).

    Examples
    --------
    >>> train, val, test = stratified_three_way(np.repeat([0, 1], 10), np.random.default_rng(0))
    >>> len(train), len(val), len(test)
    (14, 2, 4)
    """
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = round(SPLIT_FRACTIONS[1] * members.size)
        n_test = round(SPLIT_FRACTIONS[2] * members.size)
        parts[1].append(members[:n_val])
        parts[2].append(members[n_val : n_val + n_test])
        parts[0].append(members[n_val + n_test :])
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, val, test


def classification_task(
    name: str,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    class_names: tuple[str, ...],
    description: str,
    source: str = "",
    notes: tuple[str, ...] = (),
) -> TaskData:
    """Pack ``{"train": (X, y), "val": (X, y), "test": (X, y)}`` into a classification task.

    ``X`` arrays are ``(n, channels, length)`` (cast to float32), ``y`` integer labels in
    ``0..len(class_names)-1`` (cast to int64).

    Examples
    --------
    >>> x, y = np.zeros((2, 1, 8)), np.array([0, 1])
    >>> splits = {"train": (x, y), "val": (x, y), "test": (x, y)}
    >>> classification_task("t", splits, ("a", "b"), "toy").n_classes
    2
    """

    def tensors(part: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = splits[part]
        return (
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)),
        )

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (tensors(p) for p in ("train", "val", "test"))
    return TaskData(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        n_classes=len(class_names),
        kind="classify",
        lags=(),
        class_names=tuple(class_names),
        description=description,
        source=source,
        notes=tuple(notes),
    )


def pooled_task(
    name: str,
    inputs: np.ndarray,  # (n, channels, length)
    labels: np.ndarray,  # (n,)
    rng: np.random.Generator,
    class_names: tuple[str, ...],
    description: str,
    standardise: bool,
    source: str = "",
) -> TaskData:
    """A classification task from one pool of labelled series, split by :func:`stratified_three_way`.

    With ``standardise``, inputs are shifted and scaled by one mean and standard deviation per
    channel over all training samples and time steps (as in sequential CIFAR); per-position
    statistics would divide by zero at always-blank border pixels.

    Examples
    --------
    >>> x, y = np.arange(80.0).reshape(20, 1, 4), np.repeat([0, 1], 10)
    >>> task = pooled_task("t", x, y, np.random.default_rng(0), ("a", "b"), "toy", standardise=True)
    >>> len(task.y_train), len(task.y_val), len(task.y_test)
    (14, 2, 4)
    """
    train, val, test = stratified_three_way(labels, rng)
    if standardise:
        mean = inputs[train].mean(axis=(0, 2), keepdims=True)
        std = inputs[train].std(axis=(0, 2), keepdims=True)
        inputs = (inputs - mean) / std
    splits = {
        part: (inputs[idx], labels[idx]) for part, idx in (("train", train), ("val", val), ("test", test))
    }
    return classification_task(name, splits, class_names, description, source)
