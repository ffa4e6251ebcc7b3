"""Stratified splits (the three-way split of the built-in pooled tasks; the validation split carved
from your own training series, on scikit-learn), and turning split NumPy arrays into a
:class:`~multires.data.tasks.base.TaskData`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from multires.data.tasks.base import DatasetError, ImageLayout, TaskData

__all__ = [
    "SPLIT_FRACTIONS",
    "classification_task",
    "pooled_task",
    "stratified_three_way",
    "validation_split",
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


def validation_split(codes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, held)`` of the training series: about ``fraction`` of them held out for
    validation, stratified by class (scikit-learn's ``StratifiedShuffleSplit``, ``random_state=seed``),
    both in random order.

    A class of a single series stays whole in ``keep`` (it cannot be split). Of the others,
    ``round(fraction * n)`` are held out, but at least as many as there are classes and never so many
    that fewer stay in ``keep``; scikit-learn shares them out in proportion to the classes' sizes, so a
    class far rarer than the others may have no series in validation.

    >>> keep, held = validation_split(np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), 0.2, seed=0)
    >>> sorted(np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])[held].tolist()), len(keep)
    ([0, 1], 8)
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    splittable = np.flatnonzero(np.bincount(codes)[codes] >= 2)
    if splittable.size == 0:
        raise DatasetError(
            f"too few training series for a validation split: {codes.size} series and no class has "
            "two of them; give at least two series of some class"
        )
    n_classes = np.unique(codes[splittable]).size
    n_held = min(max(round(fraction * splittable.size), n_classes), splittable.size - n_classes)
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_held, random_state=seed)
    kept, held = next(splitter.split(splittable, codes[splittable]))
    single = np.setdiff1d(np.arange(codes.size), splittable)
    keep = np.random.default_rng(seed).permutation(np.concatenate([splittable[kept], single]))
    return keep.astype(np.int64), splittable[held].astype(np.int64)


def classification_task(
    name: str,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    class_names: tuple[str, ...],
    description: str,
    source: str = "",
    notes: tuple[str, ...] = (),
    image: ImageLayout | None = None,
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
        image=image,
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
    image: ImageLayout | None = None,
) -> TaskData:
    """A classification task from one pool of labelled series, split by :func:`stratified_three_way`.

    With ``standardise``, inputs are shifted and scaled by one mean and standard deviation per
    channel over all training samples and time steps (as in sequential CIFAR); per-position
    statistics would divide by zero at always-blank border pixels. ``image`` (one-channel pictures)
    gives its blank pixel's value in the raw units of ``inputs``; the task's layout holds it standardised.

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
        if image is not None:
            image = replace(image, background=float((image.background - mean.item()) / std.item()))
    splits = {
        part: (inputs[idx], labels[idx]) for part, idx in (("train", train), ("val", val), ("test", test))
    }
    return classification_task(name, splits, class_names, description, source, image=image)
