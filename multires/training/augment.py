"""Series augmentation for training on few series: window slicing (crop), jitter, scaling and mixup.

:func:`make_augmenter` turns ``TrainConfig.augment`` (``"none"`` or names joined by ``+``) into a
function applied to every training batch ``(batch, channels, length)`` inside
:func:`multires.training.train`; validation, test and prediction never see it. Draws come from
the augmenter's own ``torch.Generator`` seeded with the run's seed, so a run stays reproducible
and the caller's global generator is untouched.

* ``crop`` -- window slicing (Le Guennec, Malinowski & Tavenard 2016): a random window of
  :data:`CROP_SHARE` of the series, stretched back to the full length by linear interpolation.
* ``jitter`` -- Gaussian noise of standard deviation :data:`JITTER_STD` (series are
  z-normalised, so this is 5 % of their scale; Um et al. 2017).
* ``scale`` -- every series times a factor drawn from ``N(1, SCALE_STD**2)``.

Mixup (Zhang et al. 2018, ``TrainConfig.mixup``) also mixes the targets, so it is not one of the
series transforms: :func:`make_mixup` gives a function of the batch *and* its targets; the loss of
a mixed batch is ``lam * loss(y) + (1 - lam) * loss(y_other)``.

Examples
--------
>>> import torch
>>> aug = make_augmenter("crop+jitter", seed=0)
>>> x = torch.zeros(4, 1, 32)
>>> tuple(aug(x).shape), make_augmenter("none", seed=0) is None
((4, 1, 32), True)
>>> mixed, other, lam = make_mixup(0.4, seed=0)(torch.ones(4, 1, 8), torch.arange(4))
>>> tuple(mixed.shape), tuple(other.shape), 0.5 <= lam <= 1.0
((4, 1, 8), (4,), True)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["CROP_SHARE", "JITTER_STD", "SCALE_STD", "Mixup", "crop", "jitter", "make_augmenter", "make_mixup", "scale"]

CROP_SHARE = 0.9
JITTER_STD = 0.05
SCALE_STD = 0.1


def crop(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Window slicing: a random ``CROP_SHARE`` window per series, resampled to the full length."""
    batch, _, length = x.shape
    window = max(2, round(CROP_SHARE * length))
    if window >= length:
        return x
    starts = torch.randint(0, length - window + 1, (batch,), generator=generator)
    # sample positions start + t * (window - 1) / (length - 1), t = 0..length-1, linear interpolation
    t = torch.linspace(0.0, 1.0, length, dtype=torch.float64)
    pos = starts[:, None].double() + t[None, :] * (window - 1)  # (B, L)
    left = pos.floor().long().clamp(0, length - 1)
    right = (left + 1).clamp(max=length - 1)
    frac = (pos - left.double()).to(x.dtype)[:, None, :]
    index = lambda i: i[:, None, :].expand(-1, x.shape[1], -1).to(x.device)  # noqa: E731
    a, b = torch.gather(x, 2, index(left)), torch.gather(x, 2, index(right))
    return a + (b - a) * frac.to(x.device)


def jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Add Gaussian noise of standard deviation ``JITTER_STD``."""
    return x + JITTER_STD * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


def scale(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Multiply every series (all its channels) by a factor from ``N(1, SCALE_STD**2)``."""
    factors = 1.0 + SCALE_STD * torch.randn((x.shape[0], 1, 1), generator=generator)
    return x * factors.to(x.device, x.dtype)


_AUGMENTS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "crop": crop, "jitter": jitter, "scale": scale}


def make_augmenter(spec: str, seed: int) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The batch transform named by ``spec`` (``"none"`` gives None), drawing from its own generator."""
    if spec == "none":
        return None
    names = spec.split("+")
    unknown = [n for n in names if n not in _AUGMENTS]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {sorted(_AUGMENTS)} joined by '+'")
    generator = torch.Generator().manual_seed(int(seed) + 7919)  # apart from the shuffling seed

    def augment(x: torch.Tensor) -> torch.Tensor:
        for name in names:
            x = _AUGMENTS[name](x, generator)
        return x

    return augment


#: ``mix(x, y) -> (mixed x, the other targets, lam)``: the batch mixed with a shuffled copy of itself.
Mixup = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, float]]


def make_mixup(alpha: float, seed: int) -> Mixup | None:
    """Mixup with ``lam ~ Beta(alpha, alpha)`` per batch (0 gives None), drawing from its own generators.

    ``lam`` is folded into ``[0.5, 1]`` (``max(lam, 1 - lam)``, the same distribution of mixes) so the
    batch's own targets always carry the larger share and the running training accuracy, scored
    against them, stays meaningful.
    """
    if alpha <= 0:
        return None
    shares = np.random.default_rng(int(seed) + 104729)
    generator = torch.Generator().manual_seed(int(seed) + 15485863)

    def mix(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        lam = float(shares.beta(alpha, alpha))
        lam = max(lam, 1.0 - lam)
        perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
        return lam * x + (1.0 - lam) * x[perm], y[perm], lam

    return mix
