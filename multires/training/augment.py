"""Series augmentation for training on few series: window slicing (crop), jitter, scaling, shifted pictures, mixup.

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
* ``shift`` -- for series that read a picture pixel by pixel (``TaskData.image``: sMNIST, psMNIST):
  the picture moved by up to :data:`SHIFT_PIXELS` pixels in each direction (blank pixels fill the
  edge it leaves), then read in the task's pixel order again. The classic augmentation of small
  MNIST sets; a sequence model cannot see that neighbouring steps of a permuted series are far
  apart in the picture, so this is the one place it learns that a digit moved is the same digit.

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
>>> from multires.data.tasks import ImageLayout
>>> image = ImageLayout(5, 5, order=tuple(range(25)), background=0.0)  # 5 x 5 pictures read row by row
>>> dot = torch.zeros(16, 1, 25)
>>> dot[:, 0, 12] = 1.0  # one lit pixel, in the centre
>>> moved = make_augmenter("shift", seed=0, image=image)(dot)
>>> bool((moved.sum(dim=2) == 1).all()), len({int(i) for i in moved[:, 0].argmax(dim=1)}) > 1  # moved, kept
(True, True)
>>> mixed, other, lam = make_mixup(0.4, seed=0)(torch.ones(4, 1, 8), torch.arange(4))
>>> tuple(mixed.shape), tuple(other.shape), 0.5 <= lam <= 1.0
((4, 1, 8), (4,), True)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from ..data.tasks import ImageLayout

__all__ = ["CROP_SHARE", "JITTER_STD", "SCALE_STD", "SHIFT_PIXELS", "Mixup", "crop", "jitter", "make_augmenter",
           "make_mixup", "scale", "shift"]

CROP_SHARE = 0.9
JITTER_STD = 0.05
SCALE_STD = 0.1
SHIFT_PIXELS = 1


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


def shift(x: torch.Tensor, generator: torch.Generator, image: ImageLayout) -> torch.Tensor:
    """Move each series' picture by ``dy, dx`` drawn uniformly from ``-SHIFT_PIXELS..SHIFT_PIXELS``."""
    batch, s = x.shape[0], SHIFT_PIXELS
    order = torch.tensor(image.order, device=x.device)
    picture = torch.empty_like(x[:, 0]).index_copy_(1, order, x[:, 0]).reshape(batch, image.height, image.width)
    framed = F.pad(picture, (s, s, s, s), value=image.background)
    dy, dx = (torch.randint(-s, s + 1, (batch, 1), generator=generator).to(x.device) for _ in range(2))
    rows = torch.arange(image.height, device=x.device) + s - dy  # picture row r shows framed row r + s - dy
    cols = torch.arange(image.width, device=x.device) + s - dx
    moved = framed[torch.arange(batch, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return moved.reshape(batch, 1, -1)[:, :, order]


_AUGMENTS: dict[str, Callable[..., torch.Tensor]] = {"crop": crop, "jitter": jitter, "scale": scale, "shift": shift}


def make_augmenter(spec: str, seed: int,
                   image: ImageLayout | None = None) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The batch transform named by ``spec`` (``"none"`` gives None), drawing from its own generator.

    ``image`` is the task's :class:`~multires.data.tasks.ImageLayout`, which ``shift`` needs.

    Raises
    ------
    ValueError
        An unknown name, or ``shift`` for a task whose series are not pictures.
    """
    if spec == "none":
        return None
    names = spec.split("+")
    unknown = [n for n in names if n not in _AUGMENTS]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {sorted(_AUGMENTS)} joined by '+'")
    if "shift" in names and image is None:
        raise ValueError("augment 'shift' moves a picture inside its frame, so it needs series that read a "
                         "picture pixel by pixel (the smnist and psmnist tasks); this task's series are not pictures")
    generator = torch.Generator().manual_seed(int(seed) + 7919)  # apart from the shuffling seed
    steps = [functools.partial(shift, image=image) if name == "shift" else _AUGMENTS[name] for name in names]

    def augment(x: torch.Tensor) -> torch.Tensor:
        for step in steps:
            x = step(x, generator)
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
