"""The causal à trous (undecimated) coefficient tree, the slow exact reference (docs/design.md, section 1).

Level ``l = 1`` is the finest, ``l = J`` the coarsest; level ``l`` uses dilation ``2**(l-1)`` and
zero history before time 0::

    a_l[n] = sum_i h0[i] * a_{l-1}[n - (k-1-i) * 2**(l-1)]     (a_0 = x)
    b_l[n] = sum_i h1[i] * a_{l-1}[n - (k-1-i) * 2**(l-1)]

Each level is one grouped, dilated ``torch.nn.functional.conv1d`` after left padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from multires.plaintext import quote

from .treeselect import Slot, default_depth

__all__ = ["tree_levels", "CoefficientTree", "coefficient_tree"]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def tree_levels(
    x: torch.Tensor, h0: torch.Tensor, h1: torch.Tensor, depth: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Compute the tree level by level.

    Parameters
    ----------
    x : Tensor (B, C, N)
    h0, h1 : Tensor (C, k)
        Cross-correlation taps per channel.
    depth : int
        ``J``.

    Returns
    -------
    approx : Tensor (B, C, N)
        ``a_J``.
    details : Tensor (B, C, J, N)
        ``details[:, :, l-1] = b_l`` (finest first).
    """
    channels, k = h0.shape
    lo = h0.unsqueeze(1)  # (C 1 k)
    hi = h1.unsqueeze(1)
    a = x
    details = []
    for level in range(1, depth + 1):
        dilation = 2 ** (level - 1)
        padded = F.pad(a, ((k - 1) * dilation, 0))
        details.append(F.conv1d(padded, hi, dilation=dilation, groups=channels))  # (B C N)
        a = F.conv1d(padded, lo, dilation=dilation, groups=channels)
    return a, torch.stack(details, dim=2)


@dataclass(frozen=True)
class CoefficientTree(Generic[ArrayT]):
    """All coefficients of the tree. Leading dimensions follow the input (none, or ``B, C``).

    Attributes
    ----------
    approx : (..., N)
        Coarsest approximation ``a_J``.
    details : (..., J, N)
        ``details[..., l-1, :]`` is detail level ``b_l`` (finest first).
    """

    approx: ArrayT
    details: ArrayT

    @property
    def depth(self) -> int:
        return int(self.details.shape[-2])

    def band(self, band: str, level: int) -> ArrayT:
        """The coefficient sequence of ``a_J`` (``band="approx"``) or ``b_level``."""
        if band == "approx":
            if level != self.depth:
                raise ValueError(f"only the coarsest approximation a_{self.depth} is kept, not a_{level}")
            return self.approx
        if not 1 <= level <= self.depth:
            raise ValueError(f"detail level must be in 1..{self.depth}, got {level}")
        return self.details[..., level - 1, :]

    def value(self, slot: Slot, n: int) -> float:
        """The coefficient a slot reads at time ``n`` (0 before time 0) for an unbatched tree."""
        t = n - slot.lag
        return 0.0 if t < 0 else float(self.band(slot.band, slot.level)[..., t])

    def rows(self) -> list[tuple[str, ArrayT]]:
        """``(label, coefficients)`` in display/weight order: ``a_J, b_J, ..., b_1``."""
        out = [(f"a{self.depth}", self.approx)]
        out += [(f"b{lvl}", self.details[..., lvl - 1, :]) for lvl in range(self.depth, 0, -1)]
        return out


def coefficient_tree(x, h0, h1, depth: int | None = None) -> CoefficientTree:
    """Coefficient tree of a signal for given filters; numpy in gives numpy out.

    Parameters
    ----------
    x : array-like (N,) or Tensor (B, C, N)
        A single signal, or a batch of multichannel signals.
    h0, h1 : array-like (k,) or (C, k)
        Filter taps (cross-correlation form); one pair shared by all channels, or one per channel.
    depth : int, optional
        ``J``; default: :func:`multires.default_depth` of ``N``.

    Returns
    -------
    CoefficientTree
        ``approx (..., N)`` and ``details (..., J, N)``.

    Examples
    --------
    >>> tree = coefficient_tree([1.0, 0, 0, 0], [0.5, 0.5], [0.5, -0.5], depth=2)
    >>> tree.details[0].tolist(), tree.approx.tolist()
    ([-0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25])
    """
    as_numpy = not isinstance(x, torch.Tensor)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64) if as_numpy else x)
    if as_numpy:
        if xt.ndim != 1:
            raise ValueError(f"a numpy signal must be 1-D (N,), got shape {tuple(xt.shape)}")
        xt = xt.reshape(1, 1, -1)
    elif xt.ndim != 3:
        raise ValueError(f"a tensor input must be (batch, channels, N), got shape {tuple(xt.shape)}")
    channels, n = xt.shape[1], xt.shape[-1]
    if n < 1:
        raise ValueError("the signal is empty")
    f0 = torch.as_tensor(np.asarray(h0) if not isinstance(h0, torch.Tensor) else h0, dtype=xt.dtype)
    f1 = torch.as_tensor(np.asarray(h1) if not isinstance(h1, torch.Tensor) else h1, dtype=xt.dtype)
    if f0.shape != f1.shape or f0.ndim not in (1, 2) or f0.shape[-1] < 2:
        raise ValueError(f"h0 and h1 must both be (k,) or (C, k) with k >= 2, got {tuple(f0.shape)}, {tuple(f1.shape)}")
    if f0.ndim == 1:
        f0, f1 = f0.expand(channels, -1), f1.expand(channels, -1)
    elif f0.shape[0] != channels:
        raise ValueError(f"filters have {f0.shape[0]} channels but the signal has {channels}")
    if depth is None:
        depth = default_depth(n, int(f0.shape[-1]))
    elif not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {quote(depth)}")
    approx, details = tree_levels(xt, f0, f1, depth)
    if as_numpy:
        return CoefficientTree(approx[0, 0].numpy(), details[0, 0].numpy())
    return CoefficientTree(approx, details)
