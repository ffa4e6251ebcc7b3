"""Filter pairs typed in by hand: presets, checks with clear messages, the derived highpass.

The wavelet playground lets a student set the taps of ``h0`` (and optionally ``h1``) and see what
makes a pair a wavelet. This module holds the pure part: where the starting taps come from, what
counts as a usable pair, and the quadrature-mirror highpass. The diagnostics themselves are
:func:`multires.analysis.filters.filter_diagnostics` and :func:`multires.analysis.cascade.cascade`.

Taps are in the layer's cross-correlation convention (``h0 = dec_lo[::-1]``, docs/design.md, section 1).

Examples
--------
>>> h0, h1 = preset_pair("db2")
>>> h0.size, bool(np.allclose(h1, quadrature_mirror(h0)))
(4, True)
>>> playground_pair([1.0, 1.0])[1].tolist()  # h1 derived by the quadrature-mirror rule
[1.0, -1.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from multires.plaintext import quote

from ..options import TAP_PRESETS, TapPreset
from ..wavelets import wavelet_filters
from .filters import quadrature_mirror

__all__ = [
    "CASCADE_LIMIT", "MAX_TAPS", "MIN_TAPS", "PRESET_WAVELETS", "TapsError", "cascade_diverges", "check_taps",
    "parse_taps", "playground_pair", "preset_pair", "random_pair",
]

MIN_TAPS, MAX_TAPS = 2, 8  #: filter lengths the playground accepts
#: ``|phi|`` or ``|psi|`` above this: the cascade does not settle to a bounded function.
CASCADE_LIMIT = 20.0

#: Named presets -> their PyWavelets wavelet.
PRESET_WAVELETS: dict[str, str] = {"Haar": "haar", "db2": "db2", "db3": "db3", "sym4": "sym4"}


class TapsError(ValueError):
    """Taps that cannot form a filter: wrong length, not numbers, NaN/inf, or all zeros."""


def check_taps(values: Any, name: str = "h0") -> np.ndarray:
    """Validate hand-typed taps and return them as a float64 array.

    Parameters
    ----------
    values : array-like
        The taps, ``MIN_TAPS`` to ``MAX_TAPS`` finite real numbers, not all zero.
    name : str
        Filter name used in the message (``"h0"`` or ``"h1"``).

    Raises
    ------
    TapsError
        Saying what was wrong and what is allowed.

    Examples
    --------
    >>> check_taps([0.5, 0.5]).tolist()
    [0.5, 0.5]
    >>> check_taps([0.0, 0.0])
    Traceback (most recent call last):
    ...
    multires.analysis.playground.TapsError: h0 is all zeros: give at least one non-zero tap (e.g. the Haar preset 0.7071, 0.7071)
    """
    try:
        taps = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TapsError(f"{name} must be real numbers, got {quote(values)}") from exc
    if not MIN_TAPS <= taps.size <= MAX_TAPS:
        raise TapsError(f"{name} has {taps.size} taps: use {MIN_TAPS} to {MAX_TAPS} taps")
    bad = np.flatnonzero(~np.isfinite(taps))
    if bad.size:
        raise TapsError(f"{name}[{bad[0]}] is {taps[bad[0]]}: every tap must be a finite number")
    if not np.any(taps):
        raise TapsError(f"{name} is all zeros: give at least one non-zero tap (e.g. the Haar preset 0.7071, 0.7071)")
    return taps


def parse_taps(text: str, name: str = "h0") -> np.ndarray:
    """Taps typed as text, separated by commas, spaces or semicolons, checked by :func:`check_taps`.

    Examples
    --------
    >>> parse_taps("0.7071, 0.7071").tolist()
    [0.7071, 0.7071]
    >>> parse_taps("1, nan")
    Traceback (most recent call last):
    ...
    multires.analysis.playground.TapsError: h0[1] is nan: every tap must be a finite number
    """
    parts = [p for p in text.replace(";", ",").replace(",", " ").split() if p]
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise TapsError(f"{name}: {exc.args[0].split(': ', 1)[-1]} is not a number; type numbers separated by "
                        f"commas, e.g. 0.7071, 0.7071") from exc
    return check_taps(values, name)


def playground_pair(h0: Any, h1: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A checked pair; ``h1`` defaults to the quadrature mirror ``(-1)**n h0[k-1-n]`` of ``h0``.

    Raises
    ------
    TapsError
        If either filter fails :func:`check_taps` or their lengths differ.
    """
    lo = check_taps(h0, "h0")
    if h1 is None:
        return lo, quadrature_mirror(lo)
    hi = check_taps(h1, "h1")
    if hi.size != lo.size:
        raise TapsError(f"h0 has {lo.size} taps but h1 has {hi.size}: both filters need the same length")
    return lo, hi


def random_pair(k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two independent random filters drawn like ``MultiresConv``'s random init.

    Taps are uniform on ``[-sqrt(3/k), sqrt(3/k)]`` (unit expected squared norm per filter), from
    ``numpy.random.default_rng(seed)``: the starting point of a model trained without a wavelet.

    Examples
    --------
    >>> h0, h1 = random_pair(4, seed=1)
    >>> h0.shape, bool(np.abs(h0).max() <= math.sqrt(3 / 4))
    ((4,), True)
    """
    if not isinstance(k, (int, np.integer)) or not MIN_TAPS <= k <= MAX_TAPS:
        raise TapsError(f"k must be a whole number from {MIN_TAPS} to {MAX_TAPS}, got {quote(k)}")
    bound = math.sqrt(3.0 / k)
    rng = np.random.default_rng(seed)
    return rng.uniform(-bound, bound, size=k), rng.uniform(-bound, bound, size=k)


def preset_pair(preset: TapPreset, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Starting taps for a preset: a PyWavelets wavelet, or a random pair of length ``k``.

    Named presets ignore ``k`` (their length is the wavelet's: Haar 2, db2 4, db3 6, sym4 8).

    Raises
    ------
    ValueError
        For an unknown preset name (the message lists :data:`TAP_PRESETS`).
    """
    if preset in PRESET_WAVELETS:
        return wavelet_filters(PRESET_WAVELETS[preset])
    if preset == "random pair":
        return random_pair(k, seed)
    raise ValueError(f"unknown preset {quote(preset)}: use one of {', '.join(TAP_PRESETS)}")


def cascade_diverges(phi: np.ndarray, psi: np.ndarray, limit: float = CASCADE_LIMIT) -> bool:
    """True when the cascade's ``phi`` or ``psi`` leaves ``[-limit, limit]``: no bounded function.

    >>> cascade_diverges(np.array([0.0, 1.0]), np.array([1.0, -1.0]))
    False
    """
    return bool(max(np.abs(phi).max(), np.abs(psi).max()) > limit)
