"""Your own arrays as a task: from_arrays, encode_labels, normalize_series, series_array."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch

import multires
from multires.data.tasks import DatasetError, encode_labels, from_arrays, normalize_series, series_array

ZNORM_ATOL = 1e-6
FLOAT32_ATOL = 1e-6


def toy(n_per_class: int = 10, length: int = 32, channels: int | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    shape = (2 * n_per_class, length) if channels is None else (2 * n_per_class, channels, length)
    X = rng.standard_normal(shape) * 3.0 + 5.0  # float64, not normalised
    y = np.array(["walk", "run"] * n_per_class, dtype=object)
    return X, y


def test_string_labels_and_float64_arrays() -> None:
    X, y = toy()
    task = from_arrays("toy", X, y, X[:6], y[:6], seed=0)
    assert task.class_names == ("run", "walk")  # sorted, stable
    assert task.x_train.dtype == torch.float32 and task.y_train.dtype == torch.int64
    assert (len(task.y_train), len(task.y_val), len(task.y_test)) == (16, 4, 6)
    assert [task.class_names[i] for i in task.y_test.tolist()] == list(y[:6])
    assert task.kind == "classify" and task.n_classes == 2 and task.source == "arrays given to from_arrays"


def test_float32_and_integer_labels_and_channels() -> None:
    X, _ = toy(channels=3)
    y = np.array([10, 2] * 10)
    task = from_arrays("multi", X.astype(np.float32), y, X[:4], y[:4])
    assert task.channels_in == 3 and task.length == 32
    assert task.class_names == ("2", "10")  # numeric order, not text order


def test_validation_comes_from_train_only_and_test_is_kept_whole() -> None:
    X, y = toy(n_per_class=20)
    X_test, y_test = toy(n_per_class=5, seed=1)
    task = from_arrays("toy", X, y, X_test, y_test, seed=4, val_fraction=0.25)
    expected_train = {r.astype(np.float32).tobytes() for r in normalize_series(X)}
    val = {r.numpy().tobytes() for r in task.x_val[:, 0]}
    train = {r.numpy().tobytes() for r in task.x_train[:, 0]}
    assert val | train == expected_train and not val & train
    np.testing.assert_allclose(task.x_test[:, 0].numpy(), normalize_series(X_test), atol=FLOAT32_ATOL)
    assert torch.bincount(task.y_val).tolist() == [5, 5]


def test_same_seed_same_split_other_seed_other_split() -> None:
    X, y = toy()
    a, b, c = (from_arrays("t", X, y, X, y, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)


@pytest.mark.parametrize("normalize", ["series", "global", "none"])
def test_normalisation_modes(normalize: str) -> None:
    X, y = toy()
    task = from_arrays("t", X, y, X, y, normalize=normalize)
    x = task.x_train.double()
    if normalize == "series":
        np.testing.assert_allclose(x.mean(-1), 0.0, atol=ZNORM_ATOL)
        np.testing.assert_allclose(x.std(-1, unbiased=False), 1.0, atol=ZNORM_ATOL)
    elif normalize == "global":
        assert abs(float(x.mean())) < ZNORM_ATOL and abs(float(x.std(unbiased=False)) - 1) < ZNORM_ATOL
    else:
        given = {row.astype(np.float32).tobytes() for row in X}
        assert {row.numpy().tobytes() for row in task.x_train[:, 0]} <= given


def test_normalize_series_zero_mean_unit_variance_and_constant_series() -> None:
    X = np.array([[1.0, 2.0, 3.0, 4.0], [7.0, 7.0, 7.0, 7.0], [1e9, 1e9, 1e9, 1e9]])
    Z = normalize_series(X)
    np.testing.assert_allclose(Z[0], (X[0] - 2.5) / np.std(X[0]))
    np.testing.assert_array_equal(Z[1:], 0.0)  # constant series: zeros, no division by zero
    assert np.isfinite(Z).all()


def test_normalize_series_works_per_channel() -> None:
    X = np.random.default_rng(0).standard_normal((4, 3, 16)) * [[[1.0], [10.0], [100.0]]]
    Z = normalize_series(X)
    np.testing.assert_allclose(Z.std(axis=-1), 1.0)
    np.testing.assert_allclose(Z.mean(axis=-1), 0.0, atol=1e-12)


def test_encode_labels_stable_sorted_order() -> None:
    codes, test_codes, names = encode_labels(["b", "a", "c", "a"], ["c", "a"])
    assert names == ("a", "b", "c")
    assert codes.tolist() == [1, 0, 2, 0] and test_codes.tolist() == [2, 0]
    assert encode_labels(["-1", "1", "-1"])[2] == ("-1", "1")


X_OK, Y_OK = toy()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (X_OK, Y_OK, X_OK[:, :20], Y_OK),
            r"\(channels, length\) is \(1, 32\) in train and \(1, 20\) in test",
        ),
        (
            (np.where(np.arange(32) == 5, np.nan, X_OK), Y_OK, X_OK, Y_OK),
            "X_train holds 20 NaN or infinite value.*series 0, channel 0, time step 5",
        ),
        ((X_OK, Y_OK, np.full_like(X_OK, np.inf), Y_OK), "X_test holds 640 NaN or infinite"),
        ((X_OK, ["a"] * 20, X_OK, ["a"] * 20), "single class .*'a' for all 20 series"),
        ((X_OK, Y_OK, X_OK[:2], ["walk", "swim"]), "never occur in training: 'swim'"),
        ((X_OK[:2], ["a", "b"], X_OK, Y_OK[:20]), "never occur in training"),
        (
            (X_OK[:3], ["a", "b", "c"], X_OK[:3], ["a", "b", "c"]),
            "too few training series for a validation split",
        ),
        ((X_OK, Y_OK[:5], X_OK, Y_OK), "X_train has 20 series but y_train has 5 labels"),
        (
            (X_OK[:, None, None], Y_OK, X_OK, Y_OK),
            r"shape \(n_series, length\) or \(n_series, channels, length\)",
        ),
        ((X_OK.astype(str), Y_OK, X_OK, Y_OK), "X_train must hold real numbers"),
        ((X_OK[:, :1], Y_OK, X_OK[:, :1], Y_OK), "length 1; at least 2"),
        ((X_OK, [[1, 2]] * 20, X_OK, Y_OK), "y_train must be 1-D"),
    ],
    ids=[
        "length-mismatch",
        "nan",
        "inf",
        "single-class",
        "unseen-test-label",
        "unseen-2",
        "too-few",
        "label-count",
        "ndim",
        "strings",
        "too-short",
        "2d-labels",
    ],
)
def test_bad_arrays_raise_dataset_error(args, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        from_arrays("bad", *args)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"val_fraction": 1.0}, "val_fraction must be"),
        ({"normalize": "minmax"}, "normalize must be one of series, global, none"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_options_are_value_errors(option: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_arrays("t", X_OK, Y_OK, X_OK, Y_OK, **option)


def test_dataset_error_is_a_value_error_and_exported_at_the_root() -> None:
    assert issubclass(DatasetError, ValueError)
    assert multires.DatasetError is DatasetError and multires.from_arrays is from_arrays
    assert multires.TaskData is importlib.import_module("multires.data.tasks").TaskData


def test_series_array_shapes() -> None:
    assert series_array(np.zeros((3, 5), dtype=np.float32)).shape == (3, 1, 5)
    assert series_array(np.zeros((3, 2, 5), dtype=np.int16)).dtype == np.float64


@pytest.mark.parametrize(
    "module", ["base", "splits", "arrays", "builtin", "mnist", "ucr", "files", "registry"]
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(
        importlib.import_module(f"multires.data.tasks.{module}"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0
