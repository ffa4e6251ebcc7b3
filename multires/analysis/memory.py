"""What the memory remembers: reconstruction of the past and memory capacity, for one channel.

Every TREESELECT rule reads fixed lags of a linear tree, so the memory at time ``n`` is a linear
function of the recent past: ``z = A x`` with ``x = (x[n-W+1], ..., x[n])`` ordered **oldest to
newest** and ``A`` the *memory matrix* (one row per slot, built from
:func:`multires.kernel.slot_filters`). Everything here follows from ``A``:

* :func:`reconstruct_past` -- the minimum-norm ``x_hat = pinv(A) z``: what the memory still
  "knows" about the window (fading keeps the newest samples exactly and older ones only as averages
  over longer and longer spans; uniform spreads its slots over the window, and with ``k = 2`` and
  ``M = 2**J`` recovers the last ``2**J`` samples exactly);
* :func:`reconstruction_error_by_lag` -- the expected squared error of that reconstruction per lag
  for white-noise input, ``diag(I - pinv(A) A)``;
* :func:`memory_capacity` -- the R^2 of a ridge readout of ``x[n - tau]`` from ``z_n`` (Jaeger's
  memory capacity), in closed form or by simulation;

How many numbers each kind of memory holds is :func:`multires.analysis.footprint.footprint`; how far
back the slots reach (:func:`memory_span`, the default window here) and how many of them one analysis
may take is :mod:`multires.analysis.span` (its names are handed on from here too).

Filters are one channel's taps ``h0, h1`` (1-D, cross-correlation form, any scale: learned or
fixed); ``slots`` come from :func:`multires.treeselect.memory_slots`.

>>> from multires.treeselect import memory_slots
>>> from multires.wavelets import wavelet_filters
>>> slots = memory_slots("uniform", depth=2, kernel_size=2, memory_size=4)
>>> memory_matrix(*wavelet_filters("haar"), slots, depth=2).round(3)
array([[ 0.5  ,  0.5  ,  0.5  ,  0.5  ],
       [ 0.5  ,  0.5  , -0.5  , -0.5  ],
       [ 0.   ,  0.   ,  0.707, -0.707],
       [ 0.707, -0.707,  0.   ,  0.   ]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from multires.plaintext import quote

from ..config import check_at_least
from ..kernel import slot_filters
from ..treeselect import Slot
from .filters import as_taps

# Where the memory reads and the work bound of analysing it live in :mod:`multires.analysis.span`;
# they are handed on here, where the pages have always imported them.
from .span import cell_span, max_analysed_slots, memory_span, nearest_slots, shared_analysed_slots

__all__ = [
    "cell_span",
    "max_analysed_slots",
    "memory_capacity",
    "memory_matrix",
    "memory_span",
    "nearest_slots",
    "reconstruct_past",
    "reconstruction_error_by_lag",
    "shared_analysed_slots",
]

#: Singular values below this fraction of the largest are treated as 0 in pseudo-inverses.
PINV_RTOL = 1e-10


def _impulse_responses(h0: Any, h1: Any, slots: Sequence[Slot], depth: int) -> np.ndarray:
    """``G (S, span)``: ``z_s[n] = sum_m G[s, m] x[n - m]`` (index ``m`` = lag)."""
    a, b = as_taps(h0, "h0"), as_taps(h1, "h1")
    if a.shape != b.shape:
        raise ValueError(f"h0 and h1 must have the same length, got {a.size} and {b.size}")
    span = memory_span(slots, depth, a.size)
    g = slot_filters(torch.from_numpy(a)[None], torch.from_numpy(b)[None], list(slots), depth)  # (1 S L)
    return g[0, :, :span].numpy()


def memory_matrix(
    h0: Any, h1: Any, slots: Sequence[Slot], depth: int, window: int | None = None
) -> np.ndarray:
    """The matrix ``A`` with ``z_n = A @ x[n-W+1 : n+1]``, past window ordered oldest to newest.

    Row ``s`` is slot ``s``'s impulse response reversed: ``A[s, j]`` weights ``x[n - W + 1 + j]``
    (column ``W - 1`` is the newest sample ``x[n]``, column ``W - 1 - tau`` is lag ``tau``).

    Parameters
    ----------
    h0, h1 : array-like (k,)
        One channel's cross-correlation taps.
    slots : list of Slot
        Kept coefficients, e.g. ``memory_slots("fading", depth, k)``.
    depth : int
        Tree depth ``J``.
    window : int, optional
        ``W``; default :func:`memory_span` (exact). A longer window adds zero columns for samples
        the memory never sees; a shorter one drops the oldest columns, so ``A x`` then equals ``z``
        only for inputs that are zero before the window.

    Returns
    -------
    A : ndarray (len(slots), W)

    Examples
    --------
    >>> from multires.treeselect import memory_slots
    >>> memory_matrix([1.0, 1.0], [1.0, -1.0], memory_slots("fading", 1, 2), depth=1)
    array([[ 1.,  1.],
           [ 1., -1.]])
    """
    g = _impulse_responses(h0, h1, slots, depth)  # (S span)
    span = g.shape[1]
    width = span if window is None else check_at_least("window", window, 1)
    g = np.pad(g, ((0, 0), (0, max(0, width - span))))[:, :width]
    return g[:, ::-1].copy()


def _pinv(a: np.ndarray) -> np.ndarray:
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    keep = s > PINV_RTOL * (s[0] if s.size else 0.0)
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def reconstruct_past(
    x: Any,
    n: int,
    h0: Any,
    h1: Any,
    slots: Sequence[Slot],
    depth: int,
    window: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-norm reconstruction of the window ending at ``n`` from the memory ``z_n`` alone.

    ``z_n`` is computed from ``x`` with zero history before time 0 (as the tree computes it), and
    ``x_hat = pinv(A) z_n`` over every sample ``z_n`` can depend on, i.e. times
    ``max(0, n - span + 1) .. n`` (samples before 0 are known zeros and are not unknowns).
    ``x_hat`` is the minimum-norm signal (smallest Euclidean norm over those times) that gives the same
    memory as ``x``, i.e. the orthogonal projection of ``x`` onto the row space of ``A``: where it matches
    ``x``, the memory remembers; where it is flat or blurred, it has forgotten.

    Parameters
    ----------
    x : array-like (N,)
        One channel of the input.
    n : int
        Time of the memory, ``0 <= n < N``.
    h0, h1, slots, depth
        As for :func:`memory_matrix`.
    window : int, optional
        Length of the returned window, default :func:`memory_span`. Samples older than the span are
        never seen by the memory; there ``x_hat`` is 0.

    Returns
    -------
    t : ndarray (W',)
        Times ``max(0, n - W + 1) .. n``, oldest first (``W' < W`` near the start of ``x``).
    x_window : ndarray (W',)
        ``x[t]``.
    x_hat : ndarray (W',)
        The reconstruction at ``t``.

    Examples
    --------
    Uniform memory with Haar and ``M = 2**J`` is the DWT of the last ``2**J`` samples: exact.

    >>> from multires.treeselect import memory_slots
    >>> from multires.wavelets import wavelet_filters
    >>> x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    >>> slots = memory_slots("uniform", depth=2, kernel_size=2, memory_size=4)
    >>> t, xw, xh = reconstruct_past(x, 6, *wavelet_filters("haar"), slots, depth=2)
    >>> t.tolist(), xh.round(6).tolist()
    ([3, 4, 5, 6], [1.0, 5.0, 9.0, 2.0])
    """
    signal = np.asarray(x, dtype=np.float64)
    if signal.ndim != 1 or signal.size == 0:
        raise ValueError(f"x must be a non-empty 1-D array (one channel), got shape {signal.shape}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < signal.size:
        raise ValueError(f"n must be an integer time in 0..{signal.size - 1}, got {quote(n)}")
    k = as_taps(h0, "h0").size
    span = memory_span(slots, depth, k)
    width = span if window is None else check_at_least("window", window, 1)
    total = max(span, width)
    a = memory_matrix(h0, h1, slots, depth, window=total)  # (S total), oldest first
    start = max(0, n - total + 1)
    a = a[:, total - (n + 1 - start) :]  # only times >= 0 are unknowns
    past = signal[start : n + 1]
    z = a @ past  # the memory z_n, exactly as the tree computes it
    x_hat = _pinv(a) @ z
    keep = min(width, n + 1)
    t = np.arange(n + 1 - keep, n + 1)
    return t, past[-keep:].copy(), x_hat[-keep:]


def reconstruction_error_by_lag(
    h0: Any, h1: Any, slots: Sequence[Slot], depth: int, window: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected squared error of :func:`reconstruct_past` at each lag, for unit white noise.

    With ``x`` white with unit variance over the whole span and ``P = pinv(A) A`` the projection
    onto what the memory retains, ``E (x - x_hat)_t**2 = (I - P)_tt``: the fraction of ``x[n - tau]``
    the memory cannot recover (0 = remembered exactly, 1 = forgotten). Equals
    ``1 - memory_capacity(..., ridge=0)``.

    Parameters
    ----------
    h0, h1, slots, depth
        As for :func:`memory_matrix`.
    window : int, optional
        Number of lags, default :func:`memory_span`; lags beyond the span have error 1.

    Returns
    -------
    lags : ndarray (W,)
        ``0 .. W-1`` (0 = the newest sample).
    error : ndarray (W,)
        In ``[0, 1]``.

    Examples
    --------
    >>> from multires.treeselect import memory_slots
    >>> from multires.wavelets import wavelet_filters
    >>> lags, err = reconstruction_error_by_lag(*wavelet_filters("haar"), memory_slots("fading", 2, 2), 2)
    >>> lags.tolist(), err.round(3).tolist()  # newest pair exact, older pair only as its mean
    ([0, 1, 2, 3], [0.0, 0.0, 0.5, 0.5])
    """
    k = as_taps(h0, "h0").size
    span = memory_span(slots, depth, k)
    width = span if window is None else check_at_least("window", window, 1)
    total = max(span, width)
    a = memory_matrix(h0, h1, slots, depth, window=total)
    retained = np.einsum("ij,ji->i", _pinv(a), a)  # diag(P), oldest first
    error = np.clip(1.0 - retained[::-1][:width], 0.0, 1.0)
    return np.arange(width), error


def memory_capacity(
    h0: Any,
    h1: Any,
    slots: Sequence[Slot],
    depth: int,
    max_lag: int,
    ridge: float = 1e-6,
    n_samples: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """R^2 of the best ridge readout of ``x[n - tau]`` from the memory ``z_n``, white-noise input.

    Closed form (``n_samples=None``): with ``A`` over a window covering the memory span and
    ``max_lag``, unit white noise gives ``Cov z = A A^T`` and ``Cov(z, x[n-tau]) = a_tau`` (the
    column of lag ``tau``), so ::

        R^2(tau) = a_tau^T (A A^T + ridge I)^{-1} a_tau

    (Jaeger's memory capacity; ``sum(r2)`` is the total capacity, at most ``len(slots)``). With
    ``ridge = 0`` it is ``diag(pinv(A) A) = 1 - reconstruction_error_by_lag``. ``ridge`` is
    absolute, in units of the input variance.

    Empirical (``n_samples`` given): drive the memory with ``n_samples`` steps of seeded unit
    white noise (after a burn-in of the span, so no zero history is seen) and evaluate the same
    formula with sample moments, i.e. the in-sample R^2 of the ridge fit. It converges to the
    closed form (within ~0.02 for ``n_samples = 20000``) and is there to check it.

    Parameters
    ----------
    h0, h1, slots, depth
        As for :func:`memory_matrix`.
    max_lag : int
        Largest lag ``tau``, ``>= 0``.
    ridge : float
        ``>= 0``; 0 uses the pseudo-inverse.
    n_samples : int, optional
        Simulation length (more than ``len(slots)``); ``None`` for the closed form.
    seed : int
        Seed of ``numpy.random.default_rng`` for the simulation.

    Returns
    -------
    lags : ndarray (max_lag + 1,)
    r2 : ndarray (max_lag + 1,)
        In ``[0, 1]``.

    Examples
    --------
    >>> from multires.treeselect import memory_slots
    >>> from multires.wavelets import wavelet_filters
    >>> lags, r2 = memory_capacity(*wavelet_filters("haar"), memory_slots("fading", 2, 2), 2, max_lag=5)
    >>> r2.round(3).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.0, 0.0]
    """
    depth = check_at_least("depth", depth, 1)
    max_lag = check_at_least("max_lag", max_lag, 0)
    if not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite number >= 0, got {quote(ridge)}")
    lags = np.arange(max_lag + 1)
    if n_samples is None:
        k = as_taps(h0, "h0").size
        total = max(memory_span(slots, depth, k), max_lag + 1)
        a = memory_matrix(h0, h1, slots, depth, window=total)  # (S total)
        cov = a @ a.T  # (S S)
        cross = a[:, total - 1 - lags]  # (S lags)
        var = np.ones(lags.size)
    else:
        n_samples = check_at_least("n_samples", n_samples, len(slots) + 1)
        g = _impulse_responses(h0, h1, slots, depth)  # (S span)
        burn = max(g.shape[1], max_lag + 1) - 1
        x = np.random.default_rng(seed).standard_normal(burn + n_samples)
        z = np.stack([np.convolve(x, row)[: x.size] for row in g])[:, burn:]  # (S n_samples)
        targets = np.stack([x[burn - tau : burn - tau + n_samples] for tau in lags])  # (lags n_samples)
        cov = z @ z.T / n_samples
        cross = z @ targets.T / n_samples
        var = np.mean(targets**2, axis=1)
    if ridge > 0:
        solved = np.linalg.solve(cov + ridge * np.eye(cov.shape[0]), cross)
    else:
        solved = _pinv(cov) @ cross
    r2 = np.sum(cross * solved, axis=0) / var
    return lags, np.clip(r2, 0.0, 1.0)
