"""Your own labelled series as a task: :func:`from_arrays`, with label encoding and normalisation.

Conventions are scikit-learn's and aeon's: ``X`` is ``(n_series, length)`` or
``(n_series, channels, length)``, ``y`` holds one hashable label per series (strings, integers, ...).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X_train, X_test = rng.standard_normal((20, 32)), rng.standard_normal((6, 32))
>>> y_train, y_test = ["up", "down"] * 10, ["down", "up"] * 3
>>> task = from_arrays("toy", X_train, y_train, X_test, y_test, seed=0)
>>> task.class_names, tuple(task.x_train.shape), tuple(task.x_val.shape), tuple(task.x_test.shape)
(('down', 'up'), (16, 1, 32), (4, 1, 32), (6, 1, 32))
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from multires.data.tasks.base import DatasetError, TaskData, check_seed
from multires.data.tasks.splits import classification_task, validation_split
from multires.options import MAX_DATASET_SERIES, NORMALIZATIONS, Normalization
from multires.plaintext import quote

__all__ = ["MIN_SERIES_LENGTH", "constant_note", "count_constant_series", "encode_labels", "from_arrays", "normalize_series",
           "series_array"]


MIN_SERIES_LENGTH = 2
"""Shortest series :func:`from_arrays` accepts."""

#: A series whose standard deviation is at most this share of its largest magnitude is constant: its
#: variation is a few thousand float64 roundings (eps 2.2e-16) of its own values, whatever their scale.
_CONSTANT_RTOL = 1e-12


def normalize_series(X: Any) -> np.ndarray:
    """Z-normalise every series (and every channel of it) on its own: zero mean, unit variance.

    ``(x - mean(x)) / std(x)`` along the last axis (population std, ``ddof=0``, as aeon and the UCR
    archive use). A constant series has no scale: it becomes all zeros instead of dividing by 0.
    Constancy is decided relative to the series' own scale (its largest magnitude), so a series at
    scale 1e-11 is normalised like one at scale 1; the statistics are computed on the series divided
    by that magnitude, so values near the float64 limit (1.5e308) do not overflow.
    :func:`count_constant_series` says how many series were constant.

    Parameters
    ----------
    X : array_like
        Real numbers, any shape with time on the last axis, e.g. ``(n, length)`` or
        ``(n, channels, length)``.

    Returns
    -------
    numpy.ndarray
        float64, same shape.

    Examples
    --------
    >>> normalize_series([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    array([[-1.22474487,  0.        ,  1.22474487],
           [ 0.        ,  0.        ,  0.        ]])
    """
    return _normalized(np.asarray(X, dtype=np.float64))[0]


def count_constant_series(X: Any) -> int:
    """How many series (channels counted separately) :func:`normalize_series` sets to all zeros.

    >>> count_constant_series([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [1e-11, 2e-11, 3e-11]])
    1
    """
    return int(_normalized(np.asarray(X, dtype=np.float64))[1].sum())


def _normalized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(normalised values, boolean mask of constant series)``, overflow-free at any finite scale."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        scale = np.abs(values).max(axis=-1, keepdims=True) if values.shape[-1] else np.zeros(values.shape[:-1] + (1,))
        unit = values / np.where(scale > 0, scale, 1.0)  # |unit| <= 1: mean and std cannot overflow
        mean = unit.mean(axis=-1, keepdims=True)
        std = unit.std(axis=-1, keepdims=True)
        constant = ~(std > _CONSTANT_RTOL)  # also NaN (non-finite input): treated as no information
        out = np.where(constant, 0.0, (unit - mean) / np.where(constant, 1.0, std))
    return out, constant[..., 0]


def constant_note(counts: dict[str, tuple[int, int]]) -> str | None:
    """A sentence saying how many series of each part were constant (set to zeros), or None.

    >>> constant_note({"training": (3, 120), "test": (0, 40)})
    '3 of 120 training series were constant (no variation at their own scale) and were set to all zeros: a model learns nothing from them.'
    """
    parts = [f"{n} of {total} {what} series" for what, (n, total) in counts.items() if n]
    if not parts:
        return None
    return (f"{' and '.join(parts)} were constant (no variation at their own scale) and were set to all zeros: "
            "a model learns nothing from them.")


def _label_sort_key(label: Hashable) -> tuple[int, float, str]:
    """Numbers (and strings that spell numbers) in numeric order first, then the rest as text."""
    if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, bool):
        return (0, float(label), str(label))
    try:
        return (0, float(str(label)), str(label))
    except ValueError:
        return (1, 0.0, str(label))


def encode_labels(
    y_train: Sequence[Hashable], y_test: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Map labels to ``0..C-1`` in a stable sorted order, keeping their names.

    Classes are the distinct labels of ``y_train``, sorted: numbers (and numeric strings such as
    ``"2"``, ``"10"``) in numeric order, then other labels alphabetically.

    Parameters
    ----------
    y_train : sequence of hashable
        Training labels; they define the classes.
    y_test : sequence of hashable, optional
        Labels to encode with the same classes.

    Returns
    -------
    tuple
        ``(codes_train, codes_test, class_names)``: int64 arrays (``codes_test`` is None without
        ``y_test``) and the class names as strings.

    Raises
    ------
    DatasetError
        If there is only one class, or ``y_test`` holds a label absent from ``y_train``.

    Examples
    --------
    >>> encode_labels(["b", "a", "b"], ["a"])
    (array([1, 0, 1]), array([0]), ('a', 'b'))
    >>> encode_labels(["10", "2", "1"])[2]
    ('1', '2', '10')
    """
    train = _label_list(y_train, "y_train")
    _check_label_types(train, "y_train")
    classes = sorted(dict.fromkeys(train), key=_label_sort_key)
    if len(classes) < 2:
        raise DatasetError(
            f"the training labels hold a single class ({quote(classes[0])} for all {len(train)} series); "
            "classification needs at least two classes"
            if classes
            else "there are no training labels"
        )
    index = {label: code for code, label in enumerate(classes)}
    codes_train = np.array([index[label] for label in train], dtype=np.int64)
    codes_test = None
    if y_test is not None:
        test = _label_list(y_test, "y_test")
        unseen = sorted({label for label in test if label not in index}, key=_label_sort_key)
        if unseen:
            raise DatasetError(
                f"the test labels hold {len(unseen)} class(es) that never occur in training: "
                f"{_listed(unseen, 10)}; training classes: {_listed(classes, 20)}"
            )
        codes_test = np.array([index[label] for label in test], dtype=np.int64)
    return codes_train, codes_test, tuple(str(c) for c in classes)


def _listed(labels: Sequence[Hashable], most: int) -> str:
    """Up to ``most`` labels, each quoted shortened (a label may be a megabyte long), and how many more."""
    shown = ", ".join(quote(label, 40) for label in labels[:most])
    return shown + (f" and {len(labels) - most} more" if len(labels) > most else "")


def _check_label_types(labels: list[Hashable], what: str) -> None:
    """Refuse labels that would merge or split silently: ``True`` equals ``1`` (one class), while
    ``1`` and ``"1"`` are two classes both named '1'."""
    kinds = {"true/false" if isinstance(label, bool) else "number" if isinstance(label, (int, float))
             else "text" if isinstance(label, str) else type(label).__name__ for label in labels}
    if "true/false" in kinds and len(kinds) > 1:
        raise DatasetError(f"{what} mixes true/false labels with {' and '.join(sorted(kinds - {'true/false'}))} "
                           "labels (True would count as the class 1); give every label one type")
    names: dict[str, Hashable] = {}
    for label in dict.fromkeys(labels):
        other = names.setdefault(str(label), label)
        if other is not label and not (other == label):
            raise DatasetError(f"{what} holds the labels {quote(other, 40)} and {quote(label, 40)}: different "
                               f"values that read the same ({quote(str(label), 40)}); give every label one type")


def _label_list(y: Sequence[Hashable], what: str) -> list[Hashable]:
    if isinstance(y, np.ndarray):
        if y.ndim != 1:
            raise DatasetError(f"{what} must be 1-D (one label per series), got shape {y.shape}")
        raw = y.tolist()
    elif isinstance(y, (str, bytes)) or not isinstance(y, Sequence) and not hasattr(y, "__array__"):
        raise DatasetError(f"{what} must be a list or array of labels (one per series), got {type(y).__name__}")
    else:
        raw = list(np.asarray(y, dtype=object)) if hasattr(y, "__array__") else list(y)
    labels = [v.item() if isinstance(v, np.generic) else v for v in raw]
    for position, label in enumerate(labels):
        if isinstance(label, (list, tuple, np.ndarray, dict, set)):
            raise DatasetError(f"{what}[{position}] = {quote(label, 40)} is a sequence, not a label: {what} must "
                               "be 1-D (one label per series)")
        if not isinstance(label, Hashable) or (isinstance(label, float) and np.isnan(label)):
            raise DatasetError(f"{what}[{position}] = {quote(label, 40)} is not a usable label (unhashable or NaN)")
    return labels


def series_array(X: Any, what: str = "X") -> np.ndarray:
    """``X`` as a new float64 array ``(n, channels, length)``, after checking it.

    Parameters
    ----------
    X : array_like
        Real numbers, ``(n, length)`` (one channel) or ``(n, channels, length)``.
    what : str
        Name used in error messages.

    Raises
    ------
    DatasetError
        If ``X`` is not real-valued, has another number of dimensions, is empty, has series
        shorter than :data:`MIN_SERIES_LENGTH`, or holds NaN or infinite values (located).

    Examples
    --------
    >>> series_array([[1, 2, 3]]).shape
    (1, 1, 3)
    """
    values = np.asarray(X)
    if values.dtype.kind not in "biuf":
        raise DatasetError(f"{what} must hold real numbers, got dtype {values.dtype}")
    if values.ndim == 2:
        values = values[:, None, :]
    if values.ndim != 3:
        raise DatasetError(
            f"{what} must have shape (n_series, length) or (n_series, channels, length), got {values.shape}"
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise DatasetError(f"{what} is empty (shape {values.shape})")
    if values.shape[0] > MAX_DATASET_SERIES:
        raise DatasetError(f"{what} holds {values.shape[0]:,} series; at most {MAX_DATASET_SERIES:,} are accepted "
                           "(the same limit as a dataset file)")
    if values.shape[2] < MIN_SERIES_LENGTH:
        raise DatasetError(
            f"{what} has series of length {values.shape[2]}; at least {MIN_SERIES_LENGTH} are needed"
        )
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        series, channel, step = (int(i) for i in np.argwhere(bad)[0])
        raise DatasetError(
            f"{what} holds {int(bad.sum())} NaN or infinite value(s), the first in series {series}, "
            f"channel {channel}, time step {step}; only finite numbers are accepted "
            "(fill or drop missing values)"
        )
    return values


def from_arrays(
    name: str,
    X_train: Any,
    y_train: Sequence[Hashable],
    X_test: Any,
    y_test: Sequence[Hashable],
    *,
    val_fraction: float = 0.2,
    normalize: Normalization = "series",
    seed: int = 0,
    source: str = "arrays given to from_arrays",
) -> TaskData:
    """Make a classification task from your own labelled series and their train/test split.

    The test split is yours, used as given. The validation split is carved from the training
    series only, stratified by class and seeded
    (:func:`~multires.data.tasks.splits.validation_split`, on scikit-learn's ``StratifiedShuffleSplit``).

    Parameters
    ----------
    name : str
        Task name (shown in the UI and stored with models).
    X_train, X_test : array_like
        Real numbers (float64, float32 or integers; cast to float32 in the end), shape
        ``(n, length)`` or ``(n, channels, length)``, same channels and length in both.
    y_train, y_test : sequence of hashable
        One label per series, any hashable type. Classes are the training labels, encoded as
        ``0..C-1`` in the sorted order of :func:`encode_labels`; ``class_names`` keeps them.
    val_fraction : float, default 0.2
        Share of the training series held out for validation, ``0 < val_fraction < 1``.
    normalize : {"series", "global", "none"}, default "series"
        ``"series"``: z-normalise every series on its own (:func:`normalize_series`), as usual for
        UCR data. ``"global"``: subtract the mean and divide by the std of all training values,
        per channel (statistics from the training part only). ``"none"``: use the values as given.
    seed : int, default 0
        Non-negative seed of the validation split.
    source : str
        Where the data comes from, kept in :attr:`TaskData.source`.

    Returns
    -------
    TaskData
        ``kind="classify"``; ``x_*`` float32 ``[n, channels, length]``; ``y_*`` int64.

    Raises
    ------
    DatasetError
        (a ``ValueError``) for mismatched shapes or lengths, non-numeric, NaN or infinite values,
        a single class, a test label never seen in training, too few series for a validation split.
    ValueError
        For an invalid ``val_fraction``, ``normalize`` or ``seed``.

    Examples
    --------
    >>> X = np.arange(40.0).reshape(8, 5)
    >>> task = from_arrays("ramp", X, [1, 2] * 4, X[:2], [2, 1], val_fraction=0.25)
    >>> task.class_names, task.n_classes, len(task.y_val)
    (('1', '2'), 2, 2)
    """
    seed = check_seed(seed)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string (the task's name), got {quote(name, 40)}")
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, (int, float))
        or not 0 < val_fraction < 1
    ):
        raise ValueError(f"val_fraction must be a number strictly between 0 and 1, got {quote(val_fraction)}")
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {quote(normalize)}")
    train, test = series_array(X_train, "X_train"), series_array(X_test, "X_test")
    y_train, y_test = _label_list(y_train, "y_train"), _label_list(y_test, "y_test")
    for what, x, y in (("train", train, y_train), ("test", test, y_test)):
        if len(y) != x.shape[0]:
            raise DatasetError(f"X_{what} has {x.shape[0]} series but y_{what} has {len(y)} labels")
    if train.shape[1:] != test.shape[1:]:
        raise DatasetError(
            f"train and test series differ: (channels, length) is {train.shape[1:]} in train and "
            f"{test.shape[1:]} in test; both must match"
        )
    codes_train, codes_test, class_names = encode_labels(y_train, y_test)
    assert codes_test is not None
    keep, held = validation_split(codes_train, float(val_fraction), seed)

    notes: tuple[str, ...] = ()
    if normalize == "series":
        (train, train_constant), (test, test_constant) = _normalized(train), _normalized(test)
        note = constant_note({"training": (int(train_constant.any(axis=-1).sum()), train.shape[0]),
                              "test": (int(test_constant.any(axis=-1).sum()), test.shape[0])})
        notes = (note,) if note else ()
    elif normalize == "global":
        mean = train[keep].mean(axis=(0, 2), keepdims=True)
        std = train[keep].std(axis=(0, 2), keepdims=True)
        std = np.where(std > 0, std, 1.0)
        train, test = (train - mean) / std, (test - mean) / std

    n_classes = len(class_names)
    channels, length = train.shape[1], train.shape[2]
    description = (
        f"{name}: {n_classes} classes, {channels} channel(s) of length {length}; "
        f"{keep.size} train / {held.size} validation / {test.shape[0]} test series"
    )
    return classification_task(
        name,
        {
            "train": (train[keep], codes_train[keep]),
            "val": (train[held], codes_train[held]),
            "test": (test, codes_test),
        },
        class_names,
        description,
        source,
        notes=notes,
    )
