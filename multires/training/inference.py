"""Predict labels for raw series with a trained classification network.

Examples
--------
>>> import numpy as np
>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 2))  # any (B, C, L) -> (B, classes) net
>>> X = np.random.default_rng(0).standard_normal((5, 8))  # float64, (n, length)
>>> predict(net, X, class_names=("no", "yes")).shape
(5,)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from multires.data.tasks.arrays import _normalized, normalize_series, series_array
from multires.options import PREDICT_NORMALIZATIONS, PredictNormalization
from multires.plaintext import quote

from .device import resolve_device

__all__ = ["PredictNormalization", "predict", "predict_proba"]



def predict(
    net: torch.nn.Module,
    X: Any,
    *,
    class_names: Sequence[str] | None = None,
    normalize: PredictNormalization = "series",
    batch_size: int = 512,
    device: str | None = None,
) -> np.ndarray:
    """Class predictions of a classification network for raw series.

    The series go through the same per-series z-normalisation as :func:`~multires.data.tasks.from_arrays`
    and the UCR tasks (``normalize="series"``); the network runs in eval mode without gradients, in
    batches, and is put back in the mode it was in (train or eval) afterwards.

    Parameters
    ----------
    net : torch.nn.Module
        Maps float32 ``(batch, channels, length)`` to scores ``(batch, n_classes)``, e.g. a
        :class:`~multires.MultiresNet` trained on a classification task.
    X : array_like
        Real numbers (float64, float32, integers), ``(n, length)`` or ``(n, channels, length)``.
    class_names : sequence of str, optional
        One name per output (e.g. ``task.class_names``); then names are returned instead of indices.
    normalize : {"series", "none"}, default "series"
        ``"series"`` z-normalises each series (what models trained on UCR data or on
        ``from_arrays(..., normalize="series")`` saw). Use ``"none"`` for inputs already scaled as
        in training (e.g. the digits and MNIST tasks, standardised with training statistics).
    batch_size : int, default 512
        Series per forward pass.
    device : {"auto", "cpu", "cuda", "mps"}, optional
        Where to compute (``auto``: an accelerator when present). The network is moved there for
        the call and back to where it was afterwards. Default: where the network already is.

    Returns
    -------
    numpy.ndarray
        ``(n,)``: int64 class indices (the argmax of the scores), or the matching ``class_names``.

    Raises
    ------
    multires.data.tasks.DatasetError
        If ``X`` is malformed or holds NaN/infinite values.
    ValueError
        For a bad option, or ``class_names`` whose length differs from the network's outputs.
    """
    logits = _scores(net, X, normalize, batch_size, device)  # (n, n_classes)
    indices = logits.argmax(dim=1).numpy().astype(np.int64)
    if class_names is None:
        return indices
    names = list(class_names)
    if len(names) != logits.shape[1]:
        raise ValueError(f"class_names has {len(names)} names but the network gives {logits.shape[1]} scores")
    return np.asarray([str(name) for name in names])[indices]


def predict_proba(
    net: torch.nn.Module,
    X: Any,
    *,
    normalize: PredictNormalization = "series",
    batch_size: int = 512,
    device: str | None = None,
) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` (float64, rows sum to 1): the softmax of the scores
    :func:`predict` takes the argmax of, with the same options. For a seed ensemble
    (:class:`~multires.MultiresEnsemble`, whose scores are the log of its members' mean
    probabilities) they are that mean."""
    return _scores(net, X, normalize, batch_size, device).double().softmax(dim=1).numpy()


def _scores(net: torch.nn.Module, X: Any, normalize: str, batch_size: int, device: str | None) -> torch.Tensor:
    """The network's scores ``(n, n_classes)`` for raw series (see :func:`predict`)."""
    if normalize not in PREDICT_NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {', '.join(PREDICT_NORMALIZATIONS)}, got {quote(normalize)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {quote(batch_size)}")
    values = series_array(X, "X")  # (n, C, L) float64
    if normalize == "series":
        values, constant_mask = _normalized(values)
        constant = int(constant_mask.sum())
        if constant:
            warnings.warn(f"{constant} of {values.shape[0] * values.shape[1]} series (channels counted "
                          "separately) were constant at their own scale and were set to all zeros before "
                          "predicting", UserWarning, stacklevel=3)
    inputs = torch.from_numpy(values.astype(np.float32))
    params = next(iter(net.parameters()), None)
    home = params.device if params is not None else torch.device("cpu")
    target = home if device is None else resolve_device(device)
    was_training = net.training
    net.eval()
    try:
        net.to(target)
        with torch.no_grad():
            scores = [net(inputs[start : start + batch_size].to(target)).cpu()
                      for start in range(0, len(inputs), batch_size)]
    finally:
        net.to(home)
        net.train(was_training)
    logits = torch.cat(scores)  # (n, n_classes)
    if logits.ndim != 2:
        raise ValueError(
            f"the network must return scores of shape (batch, n_classes), got {tuple(logits.shape)}"
        )
    return logits
