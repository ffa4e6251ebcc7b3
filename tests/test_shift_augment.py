"""The ``shift`` augmentation: pictures read pixel by pixel (sMNIST, psMNIST) moved inside their frame.

Checked against a plain numpy reference (un-permute, pad with the blank value, cut the moved window,
permute again), on the real psMNIST layout.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from multires.data.tasks import ImageLayout, from_arrays, load_task, pixel_permutation
from multires.training.augment import SHIFT_PIXELS, make_augmenter
from multires.training.config import TrainConfig
from multires.training.loop import train


def _reference_shift(series: np.ndarray, image: ImageLayout, dy: int, dx: int) -> np.ndarray:
    """One series' picture moved down ``dy`` and right ``dx`` pixels, read in the layout's order again."""
    order = np.asarray(image.order)
    picture = np.empty(image.height * image.width)
    picture[order] = series
    picture = picture.reshape(image.height, image.width)
    moved = np.full_like(picture, image.background)
    h, w = image.height, image.width
    moved[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = picture[max(-dy, 0):h - max(dy, 0),
                                                                         max(-dx, 0):w - max(dx, 0)]
    return moved.reshape(-1)[order]


@pytest.fixture(scope="module")
def psmnist():
    return load_task("psmnist", seed=0)


def test_mnist_tasks_carry_their_picture_layout(psmnist):
    assert psmnist.image.order == tuple(pixel_permutation().tolist())
    assert load_task("smnist", seed=0).image.order == tuple(range(784))
    # a blank pixel (0 of 255) standardised: the smallest value of every digit
    assert psmnist.image.background == pytest.approx(float(psmnist.x_train.min()), abs=1e-6)
    assert load_task("digits", seed=0).image is None
    with pytest.raises(ValueError, match="permutation"):
        ImageLayout(2, 2, order=(0, 1, 1, 2), background=0.0)


def test_each_shifted_series_is_its_picture_moved_by_at_most_the_limit(psmnist):
    x = psmnist.x_train[:64]
    before = x.clone()
    out = make_augmenter("shift", seed=4, image=psmnist.image)(x)
    assert torch.equal(x, before) and out.shape == x.shape
    seen = set()
    for series, shifted in zip(x[:, 0].double().numpy(), out[:, 0].double().numpy()):
        matches = [(dy, dx) for dy in range(-SHIFT_PIXELS, SHIFT_PIXELS + 1)
                   for dx in range(-SHIFT_PIXELS, SHIFT_PIXELS + 1)
                   if np.allclose(shifted, _reference_shift(series, psmnist.image, dy, dx), atol=1e-6)]
        assert matches, "a shifted series is not its picture moved by any allowed (dy, dx)"
        seen.update(matches)
    assert len(seen) == (2 * SHIFT_PIXELS + 1) ** 2  # every allowed move occurs in the (seeded) batch


def test_shift_is_seeded_and_needs_a_picture():
    image = ImageLayout(4, 4, order=tuple(reversed(range(16))), background=-1.0)
    x = torch.randn(8, 1, 16)
    first, again = (make_augmenter("shift", seed=1, image=image)(x) for _ in range(2))
    assert torch.equal(first, again) and not torch.equal(first, make_augmenter("shift", seed=2, image=image)(x))
    assert TrainConfig(augment="shift+jitter").augment == "shift+jitter"
    with pytest.raises(ValueError, match="picture"):
        make_augmenter("shift", seed=0)


def test_training_with_shift_runs_on_a_picture_task_and_is_refused_on_other_series():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 1, 16)), np.repeat([0, 1], 12)
    series = from_arrays("toy", x, y, x[:4], y[10:14], seed=0)
    tiny = dict(d_model=4, n_layers=1, epochs=2, min_steps=0, batch_size=8, augment="shift")
    with pytest.raises(ValueError, match="picture"):
        train(series, TrainConfig(**tiny))
    pictures = dataclasses.replace(series, image=ImageLayout(4, 4, order=tuple(range(16)), background=0.0))
    assert np.isfinite(train(pictures, TrainConfig(**tiny)).history.step_loss).all()


def test_cli_refuses_shift_on_series_that_are_not_pictures(tmp_path, capsys):
    from multires.training.cli import main

    status = main(["--task", "digits", "--augment", "shift", "--epochs", "1", "--min-steps", "0", "--quiet",
                   "--out", str(tmp_path / "run")])
    assert status == 2 and "needs series that read a picture" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.safetensors").exists()
