"""What the memory remembers: reconstruction of the past, memory capacity and footprint, for one channel.

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
* :func:`footprint` -- how many numbers each kind of memory holds.

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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from multires.options import MAX_ANALYSIS_WORK
from multires.plaintext import quote

from ..config import check_at_least
from ..kernel import slot_filters
from ..treeselect import Slot
from .filters import as_taps

__all__ = [
    "cell_span",
    "memory_span",
    "max_analysed_slots",
    "shared_analysed_slots",
    "nearest_slots",
    "memory_matrix",
    "reconstruct_past",
    "reconstruction_error_by_lag",
    "memory_capacity",
]

#: Singular values below this fraction of the largest are treated as 0 in pseudo-inverses.
PINV_RTOL = 1e-10


def _check_slots(slots: Sequence[Slot], depth: int) -> list[Slot]:
    slots = list(slots)
    if not slots:
        raise ValueError("slots is empty: pass the list from multires.treeselect.memory_slots(...)")
    for s in slots:
        if not isinstance(s, Slot):
            raise ValueError(f"slots must be multires.treeselect.Slot objects, got {quote(s)}")
        if s.band == "approx" and s.level != depth:
            raise ValueError(
                f"slot {s} reads an approximation of level {s.level}; only a{depth} (depth) is kept"
            )
        if not 1 <= s.level <= depth:
            raise ValueError(f"slot {s} has level {s.level}, outside 1..depth={depth}")
        if s.lag < 0:
            raise ValueError(f"slot {s} has a negative lag; lags must be >= 0 (causal)")
    return slots


def memory_span(slots: Sequence[Slot], depth: int, kernel_size: int) -> int:
    """Number of past samples the memory depends on: ``max_s lag_s + (k-1)(2**level_s - 1) + 1``.

    ``z_n`` depends on ``x[n-span+1..n]`` only; it is the default window of the functions below.

    >>> from multires.treeselect import memory_slots
    >>> memory_span(memory_slots("fading", 3, 2), depth=3, kernel_size=2)
    8
    >>> memory_span(memory_slots("uniform", 3, 2, memory_size=8), depth=3, kernel_size=2)
    8
    """
    depth = check_at_least("depth", depth, 1)
    kernel_size = check_at_least("kernel_size", kernel_size, 2)
    slots = _check_slots(slots, depth)
    return max(s.lag + (kernel_size - 1) * (2**s.level - 1) + 1 for s in slots)


def max_analysed_slots(window: int) -> int:
    """Most slots one analysis over ``window`` past samples takes: ``isqrt(MAX_ANALYSIS_WORK // window)``.

    The work of an analysis of the memory (a least-squares solve over the slots' impulse responses)
    grows as slots² x window (:data:`multires.options.MAX_ANALYSIS_WORK`); every page view that
    analyses or draws kept slots (reconstruction, capacity, kernel rows, selection rows) keeps at most
    this many, so a legal checkpoint cannot cost a page much more than the largest shipped model.

    >>> max_analysed_slots(4096), max_analysed_slots(1024)
    (128, 256)
    """
    return max(1, math.isqrt(MAX_ANALYSIS_WORK // max(int(window), 1)))


def shared_analysed_slots(counts: dict[str, int], window: int) -> dict[str, int]:
    """How many slots each of several memories analysed together over ``window`` samples may keep.

    One view that analyses several memories (the TREESELECT rules side by side) shares one bound:
    the sum of slots² stays within ``max_analysed_slots(window)²``. Smaller memories keep all their
    slots and leave the rest of the budget to the larger ones, which share it equally.

    >>> shared_analysed_slots({"fading": 12, "learned": 9, "uniform": 127}, 4096)
    {'fading': 12, 'learned': 9, 'uniform': 127}
    >>> shared_analysed_slots({"fading": 12, "learned": 1103, "uniform": 127}, 4096)
    {'fading': 12, 'learned': 90, 'uniform': 90}
    """
    budget = max_analysed_slots(window) ** 2
    shares: dict[str, int] = {}
    for left, (name, count) in zip(range(len(counts), 0, -1), sorted(counts.items(), key=lambda item: item[1])):
        shares[name] = max(1, min(int(count), math.isqrt(max(budget, 0) // left)))
        budget -= shares[name] ** 2
    return {name: shares[name] for name in counts}


def nearest_slots(slots: Sequence[Slot], depth: int, kernel_size: int, most: int) -> list[Slot]:
    """The ``most`` slots of ``slots`` that read nearest the present (shortest :func:`memory_span`), in their order.

    >>> from multires.treeselect import memory_slots
    >>> [str(s) for s in nearest_slots(memory_slots("fading", 3, 2), 3, 2, most=2)]
    ['b2[n]', 'b1[n]']
    """
    slots = list(slots)
    if len(slots) <= most:
        return slots
    spans = [memory_span([slot], depth, kernel_size) for slot in slots]
    keep = set(sorted(range(len(slots)), key=lambda i: (spans[i], i))[:most])
    return [slot for i, slot in enumerate(slots) if i in keep]


def cell_span(slot: Slot, t: int, kernel_size: int) -> tuple[int, int]:
    """First and last input times the tree cell of ``slot`` at time ``t`` depends on (its receptive field).

    ``a_l[t]`` and ``b_l[t]`` read ``x[t - (k-1)(2**l - 1) .. t]``; times before 0 are the causal zero
    padding, so the first time is clipped at 0. The cell a memory slot reads at step ``n`` has
    ``t = n - slot.lag``.

    >>> cell_span(Slot("detail", 3, 8), 20, kernel_size=2)
    (13, 20)
    >>> cell_span(Slot("approx", 2, 0), 1, kernel_size=3)
    (0, 1)
    """
    kernel_size = check_at_least("kernel_size", kernel_size, 2)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise ValueError(f"t must be a time >= 0, got {quote(t)}")
    return max(0, int(t) - (kernel_size - 1) * (2**slot.level - 1)), int(t)


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
