"""Hostile or unusual datasets (issue 23): arrays and files whose values, labels or sizes used to
mislead the library silently or crash it with a raw exception.

* Normalisation decided constancy against ``max(1, |mean|)``: a dataset at scale 1e-11 trained on all
  zeros, one near 1.5e308 overflowed its mean; now constancy is relative to each series' own scale,
  computed on the series divided by its largest magnitude, and the task says how many were constant.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from multires.data.tasks import DatasetError, from_arrays, normalize_series
from multires.data.tasks.arrays import count_constant_series

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 32))
Y = [0, 1] * 12


# --- normalisation: constancy relative to the series' own scale, computed safely ---------------------

@pytest.mark.parametrize("scale", [1e-11, 1e-200, 1.0, 1e100, 1.5e308 / 8])
def test_normalisation_is_the_same_at_any_scale(scale):
    expected = normalize_series(X)
    assert np.abs(expected).max() > 1, "the reference is not all zeros"
    np.testing.assert_allclose(normalize_series(X * scale), expected, atol=1e-9)
    assert count_constant_series(X * scale) == 0


def test_values_near_the_float_limit_do_not_overflow():
    near_limit = np.full((3, 16), 1.5e308)
    near_limit[:, ::2] = 1.4e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning either
        out = normalize_series(near_limit)
    np.testing.assert_allclose(out[:, :4], [[-1, 1, -1, 1]] * 3)


def test_a_task_says_how_many_series_were_constant():
    x = X.copy()
    x[:5] = 3.25  # five constant training series
    x_test = X[:6].copy()
    x_test[0] = -1e-9
    task = from_arrays("t", x, Y, x_test, Y[:6])
    assert task.notes == ("5 of 24 training series and 1 of 6 test series were constant (no variation at their own "
                          "scale) and were set to all zeros: a model learns nothing from them.",)
    assert from_arrays("t", X, Y, X[:6], Y[:6]).notes == ()


def test_tiny_scale_data_is_not_trained_on_zeros():
    task = from_arrays("tiny", X * 1e-11, Y, X[:6] * 1e-11, Y[:6])
    assert float(task.x_train.abs().max()) > 1 and task.notes == ()


def test_predict_warns_when_series_are_constant():
    from multires import ModelConfig
    from multires.model import build_model
    from multires.training.inference import predict

    net = build_model(ModelConfig(d_model=4, n_layers=1, seq_len=32, d_output=2), seed=0)
    with pytest.warns(UserWarning, match="1 of 3 series"):
        predict(net, np.stack([X[0], X[1], np.full(32, 2.0)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(net, X[:3] * 1e-11)


# --- labels: never merged or split silently, never quoted in full ----------------------------------------

@pytest.mark.parametrize(("y", "message"), [
    ([1, "1"] * 12, r"the labels 1 and '1': different values that read the same"),
    ([True, 1] * 12, "mixes true/false labels with number labels"),
    ([[1], [1, 2]] * 12, r"y_train\[0\] = \[1\] is a sequence, not a label"),
    ([[1, 2]] * 24, r"is a sequence, not a label"),
    ((i % 2 for i in range(24)), "must be a list or array of labels .* got generator"),
])
def test_labels_that_would_merge_split_or_crash_are_refused_in_words(y, message):
    with pytest.raises(DatasetError, match=message):
        from_arrays("t", X, y, X[:6], Y[:6])


def test_name_none_is_refused():
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        from_arrays(None, X, Y, X[:6], Y[:6])


def test_from_arrays_has_the_files_series_limit():
    from multires.options import MAX_DATASET_SERIES

    many = np.zeros((MAX_DATASET_SERIES + 1, 2), dtype=np.float32)
    with pytest.raises(DatasetError, match=f"{MAX_DATASET_SERIES + 1:,} series; at most"):
        from_arrays("t", many, [0, 1] * (MAX_DATASET_SERIES // 2) + [0], X[:6, :2], Y[:6])


def test_megabyte_labels_are_quoted_shortened():
    huge = ["a" * 10**6, "b" * 10**6]
    with pytest.raises(DatasetError) as info:
        from_arrays("t", X, huge * 12, X[:6], ["c" * 10**6] * 6)
    message = str(info.value)
    assert len(message) < 400 and "(1,000,000 characters)" in message


def test_the_same_file_as_train_and_test_is_said():
    from multires.data.tasks import task_from_files
    from multires.data.tasks.files import SAME_FILES_NOTE

    rows = b"".join(b"%d\t%s\n" % (i % 2, b"\t".join(b"%.3f" % v for v in X[i])) for i in range(24))
    assert SAME_FILES_NOTE in task_from_files(rows, "a_TRAIN.tsv", rows, "a_TEST.tsv").notes
    assert SAME_FILES_NOTE not in task_from_files(rows, "a_TRAIN.tsv", rows[: len(rows) // 2], "a_TEST.tsv").notes
