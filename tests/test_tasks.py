"""Tests for multires.data.tasks: shapes, determinism, splits, targets, and untouched global RNGs."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import r2_score

from multires import tasks
from multires.data.signals import load_signal
from multires.data.tasks import (
    DEFAULT_LAGS,
    SIGNAL_CLASSES,
    TaskData,
    load_task,
    memory_task,
    recall_r2,
    signals_task,
)
from multires.options import TASK_NAMES

STANDARDISED_ATOL = 1e-5  # float32 mean/std of the standardised digits training set
R2_ATOL = 1e-12
SHIFT_MATCH_ATOL = 1e-5  # noiseless signals sample vs rolled template, float32

# Small options keep the parametrized tests fast; defaults are exercised separately.
SMALL = {
    "digits": {},
    "signals": {"length": 128, "n_per_class": 20},
    "memory": {"length": 64, "lags": (0, 1, 5, 63), "n_train": 40, "n_val": 10, "n_test": 20},
    "memory-independent": {"length": 64, "lags": (0, 7), "n_train": 40, "n_val": 10, "n_test": 20, "channels": 3},
    "distant-windows": {"length": 32, "lags": (10, 20), "width": 4, "n_train": 40, "n_val": 10, "n_test": 20},
    "smnist": {},
    "psmnist": {},
    "ucr:ItalyPowerDemand": {},
}
CHANNELS_IN = {"memory-independent": 3}
N_DIGITS = 1797
SPLITS = ("train", "val", "test")


def splits(task: TaskData) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    return [(s, getattr(task, f"x_{s}"), getattr(task, f"y_{s}")) for s in SPLITS]


# --------------------------------------------------------------------------------------------
# all tasks
# --------------------------------------------------------------------------------------------


def test_every_fixed_task_name_is_tested() -> None:
    assert set(TASK_NAMES) <= set(SMALL)


@pytest.mark.parametrize("name", SMALL)
def test_shapes_and_dtypes(name: str) -> None:
    task = load_task(name, seed=0, **SMALL[name])
    assert task.name == name
    for split, x, y in splits(task):
        assert x.dtype == torch.float32, split
        assert x.ndim == 3 and x.shape[1] == task.channels_in == CHANNELS_IN.get(name, 1), split
        assert x.shape[2] == task.length, split
        assert x.shape[0] == y.shape[0], split
        assert torch.isfinite(x).all(), split
        if task.kind == "classify":
            assert y.dtype == torch.int64 and y.ndim == 1, split
            assert 0 <= int(y.min()) and int(y.max()) < task.n_classes, split
        else:
            assert y.dtype == torch.float32, split
            assert tuple(y.shape[1:]) == (len(task.lags),), split
    assert len(task.class_names) == task.n_outputs
    assert task.description and "\n" not in task.description


@pytest.mark.parametrize("name", SMALL)
def test_same_seed_same_data(name: str) -> None:
    first, second = load_task(name, seed=7, **SMALL[name]), load_task(name, seed=7, **SMALL[name])
    for (split, x1, y1), (_, x2, y2) in zip(splits(first), splits(second)):
        assert torch.equal(x1, x2), split
        assert torch.equal(y1, y2), split


@pytest.mark.parametrize("name", SMALL)
def test_different_seed_different_data(name: str) -> None:
    first, second = load_task(name, seed=0, **SMALL[name]), load_task(name, seed=1, **SMALL[name])
    assert not torch.equal(first.x_train, second.x_train)


@pytest.mark.parametrize("name", SMALL)
def test_global_rng_state_is_untouched(name: str) -> None:
    np.random.seed(1234)
    torch.manual_seed(1234)
    numpy_before = np.random.get_state()
    torch_before = torch.get_rng_state()
    load_task(name, seed=3, **SMALL[name])
    numpy_after = np.random.get_state()
    assert numpy_before[0] == numpy_after[0]
    np.testing.assert_array_equal(numpy_before[1], numpy_after[1])
    assert numpy_before[2:] == numpy_after[2:]
    assert torch.equal(torch_before, torch.get_rng_state())


def test_unknown_task_lists_names() -> None:
    with pytest.raises(ValueError, match="allowed names are: digits, signals, memory, memory-independent, distant-windows, smnist, "
                                         "psmnist, ucr:ACSF1, ucr:ArrowHead, ucr:GunPoint, .*TRAIN.tsv,TEST.tsv"):
        load_task("cifar")


def test_unknown_option_lists_accepted_options() -> None:
    with pytest.raises(TypeError, match="no option.*noise.*accepted options: length, lags, n_train"):
        load_task("memory", noise=0.1)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed_is_refused(seed) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        load_task("digits", seed=seed)


# --------------------------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------------------------


def test_digits_splits_partition_the_dataset() -> None:
    task = load_task("digits", seed=0)
    x = torch.cat([task.x_train, task.x_val, task.x_test])[:, 0].numpy().astype(np.float64)
    y = torch.cat([task.y_train, task.y_val, task.y_test]).numpy()
    assert x.shape == (N_DIGITS, 64)
    # Standardisation is one affine map, so pixel 0 maps to the minimum and 16 to the maximum.
    pixels = np.round((x - x.min()) / (x.max() - x.min()) * 16)
    reference = load_digits()
    ours = sorted(zip(map(tuple, pixels), y))
    theirs = sorted(zip(map(tuple, reference.data), reference.target))
    assert ours == theirs  # same multiset of (image, label): every digit in exactly one split


def test_digits_training_set_is_standardised() -> None:
    x_train = load_task("digits", seed=0).x_train
    assert abs(float(x_train.mean())) < STANDARDISED_ATOL
    assert abs(float(x_train.std(unbiased=False)) - 1.0) < STANDARDISED_ATOL


def test_digits_splits_are_stratified() -> None:
    task = load_task("digits", seed=0)
    totals = np.bincount(load_digits().target, minlength=10)
    for split, fraction in zip(SPLITS, (0.7, 0.1, 0.2)):
        counts = np.bincount(getattr(task, f"y_{split}").numpy(), minlength=10)
        # per-class rounding moves at most one sample per class
        np.testing.assert_allclose(counts, fraction * totals, atol=1.0, err_msg=split)


def test_digits_sequences_are_row_major_images() -> None:
    task = load_task("digits", seed=0)
    x = task.x_train[:, 0].numpy()
    pixels = np.round((x - x.min()) / (x.max() - x.min()) * 16).reshape(-1, 8, 8)
    reference = {tuple(img.reshape(-1)) for img in load_digits().images}
    assert all(tuple(img.reshape(-1)) in reference for img in pixels[:20])


# --------------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_per_class", [20, 200])
def test_signals_labels_are_balanced(n_per_class: int) -> None:
    task = signals_task(seed=0, length=64, n_per_class=n_per_class)
    n_classes = len(SIGNAL_CLASSES)
    for split, fraction in zip(SPLITS, (0.7, 0.1, 0.2)):
        counts = np.bincount(getattr(task, f"y_{split}").numpy(), minlength=n_classes)
        assert len(set(counts.tolist())) == 1, split  # every class equally often
        assert counts[0] == pytest.approx(fraction * n_per_class, abs=1), split


def test_signals_samples_are_normalised() -> None:
    x = signals_task(seed=0, length=128, n_per_class=10).x_train[:, 0].double()
    np.testing.assert_allclose(x.mean(dim=1).numpy(), 0.0, atol=STANDARDISED_ATOL)
    np.testing.assert_allclose(x.std(dim=1, unbiased=False).numpy(), 1.0, atol=STANDARDISED_ATOL)


def test_noiseless_signals_are_shifted_templates() -> None:
    length = 128
    task = signals_task(seed=0, length=length, n_per_class=10, noise=0.0)
    templates = []
    for name in SIGNAL_CLASSES:
        t = load_signal(name, n=length)
        templates.append((t - t.mean()) / t.std())
    for x, label in zip(task.x_train[:16, 0].numpy(), task.y_train[:16].numpy()):
        rolls = np.stack([np.roll(templates[label], s) for s in range(length)])
        assert np.abs(rolls - x).max(axis=1).min() < SHIFT_MATCH_ATOL


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": float("inf")}, "noise must be a finite number >= 0"),
        ({"length": 8}, "length must be an integer >= 16"),
        ({"n_per_class": 2}, "n_per_class must be an integer >= 10"),
    ],
)
def test_signals_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        signals_task(**options)


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lags", [DEFAULT_LAGS, (0, 3, 255), (7,)])
def test_recall_targets_are_inputs_at_the_lags(lags: tuple[int, ...]) -> None:
    length = 256
    task = memory_task(seed=2, length=length, lags=lags, n_train=30, n_val=5, n_test=5)
    assert task.lags == lags and task.kind == "recall" and task.n_classes == 0
    for split, x, y in splits(task):
        for column, tau in enumerate(lags):
            assert torch.equal(y[:, column], x[:, 0, length - 1 - tau]), (split, tau)


def test_memory_defaults() -> None:
    task = memory_task()
    assert task.lags == DEFAULT_LAGS
    assert [t.shape[0] for t in (task.x_train, task.x_val, task.x_test)] == [2000, 500, 1000]
    assert task.length == 256
    assert task.class_names[0] == "lag 1"


def test_memory_splits_differ() -> None:
    task = memory_task(seed=0, n_train=10, n_val=10, n_test=10)
    assert not torch.equal(task.x_train, task.x_val)
    assert not torch.equal(task.x_val, task.x_test)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lags": (1, 64)}, "from 0 to length - 1 = 63"),
        ({"lags": (-1,)}, "from 0 to length - 1"),
        ({"lags": (2, 2)}, "lags must be distinct"),
        ({"lags": ()}, "at least one lag"),
        ({"n_val": 0}, "n_val must be an integer >= 1"),
    ],
)
def test_memory_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        memory_task(length=64, **options)


# --------------------------------------------------------------------------------------------
# recall_r2
# --------------------------------------------------------------------------------------------


def test_recall_r2_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    target = rng.standard_normal((50, 4))
    pred = target + rng.standard_normal((50, 4)) * np.array([0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(
        recall_r2(pred, target), r2_score(target, pred, multioutput="raw_values"), atol=R2_ATOL
    )


def test_recall_r2_accepts_tensors_and_bounds() -> None:
    target = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(recall_r2(target, target), 1.0, atol=R2_ATOL)
    mean_prediction = target.mean(dim=0, keepdim=True).expand_as(target)
    np.testing.assert_allclose(recall_r2(mean_prediction, target), 0.0, atol=1e-6)


def test_recall_r2_constant_target_is_nan() -> None:
    target = np.stack([np.ones(5), np.arange(5.0)], axis=1)
    r2 = recall_r2(target, target)
    assert np.isnan(r2[0]) and r2[1] == 1.0


def test_recall_r2_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="same shape"):
        recall_r2(np.zeros((5, 2)), np.zeros((5, 3)))


def test_docstring_examples() -> None:
    result = doctest.testmod(tasks, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


# --------------------------------------------------------------------------------------------
# memory variants
# --------------------------------------------------------------------------------------------


def test_memory_data_is_the_seeded_white_noise_in_split_order() -> None:
    task = memory_task(seed=5, length=32, lags=(1, 3), n_train=6, n_val=2, n_test=3)
    noise = np.random.default_rng(5).standard_normal((11, 1, 32)).astype(np.float32)
    np.testing.assert_array_equal(torch.cat([task.x_train, task.x_val, task.x_test]).numpy(), noise)
    assert task.lag_channels == (0, 0) and task.source


@pytest.mark.parametrize("channels", [1, 3])
def test_independent_memory_targets_are_each_channels_own_input(channels: int) -> None:
    lags = (0, 2, 9)
    task = load_task("memory-independent", seed=2, length=16, lags=lags, n_train=5, n_val=2, n_test=2,
                     channels=channels)
    assert task.name == "memory-independent" and task.channels_in == channels
    assert task.n_outputs == channels * len(lags) == len(task.class_names) == len(task.lag_channels)
    for column, (tau, channel) in enumerate(zip(task.lags, task.lag_channels)):
        for _, x, y in splits(task):
            assert torch.equal(y[:, column], x[:, channel, 16 - 1 - tau]), (column, tau, channel)
    assert task.class_names[-1] == f"ch {channels} lag 9"


def test_independent_memory_channels_are_independent_draws() -> None:
    task = memory_task(seed=0, n_train=200, n_val=1, n_test=1, inputs="independent")
    assert task.channels_in == 8
    x = task.x_train.permute(1, 0, 2).reshape(8, -1).double()
    correlation = torch.corrcoef(x) - torch.eye(8, dtype=torch.float64)
    assert float(correlation.abs().max()) < 0.05  # 51200 samples per channel: |r| ~ 0.004


@pytest.mark.parametrize(
    ("options", "message"),
    [({"channels": 2}, "shared memory task has exactly 1 input channel"),
     ({"inputs": "mixed"}, "inputs must be one of shared, independent"),
     ({"inputs": "independent", "channels": 0}, "channels must be an integer >= 1"),
     ({"inputs": "independent", "channels": 65}, "channels must be at most 64")],
)
def test_memory_variant_options_are_checked(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        memory_task(n_train=2, n_val=1, n_test=1, **options)


def test_memory_independent_name_does_not_take_inputs() -> None:
    with pytest.raises(TypeError, match="no option.*inputs"):
        load_task("memory-independent", inputs="shared")
