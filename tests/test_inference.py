"""multires.predict: raw arrays in, labels out, the network's mode restored."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

import multires
from multires import ModelConfig, MultiresNet, predict
from multires.data.tasks import DatasetError, normalize_series, ucr_task
from multires.training import inference

TRAIN_STEPS = 30


@pytest.fixture(scope="module")
def trained():
    """A small MultiresNet trained for a few full-batch steps on GunPoint (seeded)."""
    torch.manual_seed(0)
    task = ucr_task("GunPoint", seed=0)
    net = MultiresNet(ModelConfig(d_output=task.n_classes, d_model=8, seq_len=task.length))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(TRAIN_STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(task.x_train), task.y_train)
        loss.backward()
        optimizer.step()
    return net, task


def raw_test_series() -> tuple[np.ndarray, np.ndarray]:
    from aeon.datasets import load_gunpoint

    X, y = load_gunpoint(split="test")  # float64 (150, 1, 150), string labels
    return X, y


def test_predict_matches_argmax_of_the_network(trained) -> None:
    net, task = trained
    X, _ = raw_test_series()
    net.eval()
    with torch.no_grad():
        expected = net(task.x_test).argmax(dim=1).numpy()
    net.train()
    got = predict(net, X[:, 0, :], batch_size=7)  # (n, length) float64, uneven batches
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64
    names = predict(net, X, class_names=task.class_names)
    assert names.tolist() == [task.class_names[i] for i in expected]
    # Real behaviour, not only plumbing: the trained net beats chance clearly.
    accuracy = float(np.mean(names == np.array([str(v) for v in raw_test_series()[1]])))
    assert accuracy > 0.6


@pytest.mark.parametrize("training", [True, False])
def test_predict_restores_the_mode_and_needs_no_grad(trained, training: bool) -> None:
    net, _ = trained
    net.train(training)
    net.zero_grad(set_to_none=True)
    X = np.random.default_rng(0).standard_normal((4, 150)).astype(np.float32)
    predict(net, X)
    assert net.training is training
    assert all(p.grad is None for p in net.parameters())


def test_eval_mode_gives_batch_independent_answers(trained) -> None:
    net, _ = trained
    X, _ = raw_test_series()
    whole = predict(net, X)
    one_by_one = np.concatenate([predict(net, X[i : i + 1]) for i in range(10)])
    np.testing.assert_array_equal(one_by_one, whole[:10])


def test_normalize_none_passes_values_through(trained) -> None:
    net, _ = trained
    X, _ = raw_test_series()
    np.testing.assert_array_equal(predict(net, normalize_series(X), normalize="none"), predict(net, X))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"class_names": ("a", "b", "c")},
            ValueError,
            "class_names has 3 names but the network gives 2 scores",
        ),
        ({"normalize": "global"}, ValueError, "normalize must be one of series, none"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ],
)
def test_bad_options(trained, kwargs, error, message) -> None:
    net, _ = trained
    with pytest.raises(error, match=message):
        predict(net, np.zeros((2, 150)), **kwargs)


def test_bad_input_is_a_dataset_error(trained) -> None:
    net, _ = trained
    with pytest.raises(DatasetError, match="NaN or infinite"):
        predict(net, np.full((2, 150), np.nan))


def test_exported_at_the_root() -> None:
    assert multires.predict is predict


def test_docstring_examples() -> None:
    result = doctest.testmod(inference)
    assert result.failed == 0 and result.attempted > 0
