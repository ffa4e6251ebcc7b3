"""A learned filter pair put in the wavelet convention, and the functions ``phi, psi`` it generates.

A learned pair has an arbitrary scale and sign (the slot weights absorb them): :func:`normalize_filters`
removes them, and :func:`cascade` turns the pair into its scaling and wavelet functions through
``pywt.Wavelet.wavefun`` (the cascade algorithm), as the Filters and Playground pages draw them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pywt

from ..plaintext import quote
from .filters import SQRT2, as_pair, quadrature_mirror

__all__ = ["cascade", "normalize_filters"]

#: ``|sum h0|`` below this fraction of ``sqrt(k) * ||h0||`` counts as "no DC gain" in normalisation.
_DC_RELATIVE_TOL = 1e-8


def normalize_filters(h0: Any, h1: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Remove the arbitrary scale and sign of a learned pair; a no-op on PyWavelets filters.

    Rule:

    1. ``h0`` is multiplied by ``sqrt(2) / sum(h0)`` (a negative factor flips its sign), so that
       ``sum h0 = sqrt 2`` like an orthonormal lowpass. If ``sum h0`` is ~0 (below ``1e-8 *
       sqrt(k) * ||h0||``) the pair cannot be read as lowpass/highpass: ``h0`` is scaled to unit L2
       norm with its largest-magnitude tap positive instead, and the note says so.
    2. ``h1`` is scaled to ``||h1|| = ||h0||`` and its sign is chosen so that its inner product
       with the quadrature mirror ``(-1)**n h0[k-1-n]`` is non-negative (the PyWavelets
       convention; its sign is kept when that inner product is 0).

    The result is idempotent: normalising twice changes nothing.

    Parameters
    ----------
    h0, h1 : array-like (k,)
        Cross-correlation taps, any scale and sign.

    Returns
    -------
    h0n, h1n : ndarray (k,)
    note : str
        What was done, in words, for display.

    Raises
    ------
    ValueError
        If either filter is all zeros (no scale or direction to normalise).

    Examples
    --------
    >>> h0, h1, note = normalize_filters([-2.0, -2.0], [1.0, -1.0])
    >>> h0.round(4).tolist(), h1.round(4).tolist()
    ([0.7071, 0.7071], [0.7071, -0.7071])
    >>> note
    'scaled h0 by -0.3536 (sign flipped) so that sum h0 = sqrt 2; scaled h1 by 0.7071 so that ||h1|| = ||h0||'
    """
    a, b = as_pair(h0, h1)
    if not np.any(a) or not np.any(b):
        which = "h0" if not np.any(a) else "h1"
        raise ValueError(f"{which} is all zeros: a zero filter has no scale or sign to normalise")
    notes = []
    dc = a.sum()
    if abs(dc) > _DC_RELATIVE_TOL * math.sqrt(a.size) * np.linalg.norm(a):
        factor = SQRT2 / dc
        target = "sum h0 = sqrt 2"
    else:
        peak = a[np.argmax(np.abs(a))]
        factor = math.copysign(1.0 / np.linalg.norm(a), peak)
        target = "||h0|| = 1 with its largest tap positive (sum h0 is ~0, so h0 is not a lowpass)"
    if not math.isclose(factor, 1.0, rel_tol=1e-12):
        flip = " (sign flipped)" if factor < 0 else ""
        notes.append(f"scaled h0 by {factor:.4g}{flip} so that {target}")
    a = a * factor
    scale = np.linalg.norm(a) / np.linalg.norm(b)
    if float(b @ quadrature_mirror(a)) < 0:
        scale = -scale
    if not math.isclose(scale, 1.0, rel_tol=1e-12):
        flip = " (sign flipped to match the quadrature mirror of h0)" if scale < 0 else ""
        notes.append(f"scaled h1 by {scale:.4g}{flip} so that ||h1|| = ||h0||")
    b = b * scale
    note = "; ".join(notes) if notes else "already normalised: sum h0 = sqrt 2 and ||h1|| = ||h0||"
    return a, b, note


def cascade(h0: Any, h1: Any, level: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaling function ``phi`` and wavelet ``psi`` of a filter pair by the cascade algorithm.

    The pair is first put through :func:`normalize_filters`, then handed to PyWavelets as an
    orthogonal bank ``pywt.Wavelet("learned", filter_bank=(dec_lo, dec_hi, rec_lo, rec_hi))``
    with ``dec_lo = h0[::-1]``, ``dec_hi = h1[::-1]``, ``rec_lo = h0``, ``rec_hi = h1``, and
    ``.wavefun(level=level)`` is returned. For a PyWavelets orthogonal wavelet this equals
    ``pywt.Wavelet(name).wavefun(level)``. For a learned pair that is far from orthonormal the
    iteration need not converge to a function: large or jagged curves say so.

    Parameters
    ----------
    h0, h1 : array-like (k,)
    level : int
        Cascade iterations, 1..20; the grid spacing is ``2**-level``.

    Returns
    -------
    x : ndarray
        Grid on ``[0, k-1]`` (PyWavelets may pad a few points beyond).
    phi, psi : ndarray
        Samples of the scaling and wavelet functions on ``x``.

    Examples
    --------
    >>> from multires.wavelets import wavelet_filters
    >>> x, phi, psi = cascade(*wavelet_filters("haar"), level=2)
    >>> x.tolist(), psi.round(6).tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0, 1.25], [0.0, 1.0, 1.0, -1.0, -1.0, 0.0])
    """
    if not isinstance(level, (int, np.integer)) or not 1 <= level <= 20:
        raise ValueError(f"level must be an integer in 1..20, got {quote(level)}")
    a, b, _ = normalize_filters(h0, h1)
    bank = (a[::-1].tolist(), b[::-1].tolist(), a.tolist(), b.tolist())
    wavelet = pywt.Wavelet("learned", filter_bank=bank)
    wavelet.orthogonal = True  # makes wavefun return (phi, psi, x) from the rec filters
    phi, psi, x = wavelet.wavefun(level=int(level))
    return np.asarray(x), np.asarray(phi), np.asarray(psi)
