"""Diagnostics for any two-channel filter pair, learned or fixed, and the wavelets they generate.

Filters are 1-D taps ``h0`` (lowpass) and ``h1`` (highpass) in the layer's cross-correlation
convention (docs/design.md, section 1): ``h0 = dec_lo[::-1]`` and ``h1 = dec_hi[::-1]`` for a PyWavelets
wavelet. In that convention every orthogonal PyWavelets wavelet of even length satisfies ::

    sum h0 = sqrt(2),  sum h1 = 0,  h1[n] = (-1)**n * h0[k-1-n]   (quadrature mirror)

and the even-shift correlations of ``h0, h1`` form an orthonormal basis. A learned pair has an
arbitrary scale and sign (the slot weights absorb them), so
:func:`multires.analysis.cascade.normalize_filters` puts it in this convention before it is
compared with wavelets or turned into functions by :func:`multires.analysis.cascade.cascade`.

Functions
---------
frequency_response : magnitude and phase of a filter on 0..0.5 cycles/sample.
filter_diagnostics : how far a pair is from an orthonormal wavelet filter bank, and which wavelet
    it is nearest to.

The dilated and shifted family of a PyWavelets wavelet is :mod:`multires.analysis.families`'.

>>> from multires.wavelets import wavelet_filters
>>> d = filter_diagnostics(*wavelet_filters("db2"))
>>> d.nearest_wavelet, round(d.orthonormality_error, 12) == 0
('db2', True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pywt

from multires.plaintext import quote

__all__ = [
    "ORTHOGONAL_FAMILIES", "frequency_response", "quadrature_mirror", "FilterDiagnostics",
    "filter_diagnostics", "nearest_wavelet", "as_pair", "as_taps", "SQRT2",
]

#: PyWavelets families searched by :func:`nearest_wavelet`: the exactly orthogonal FIR families.
#: ``dmey`` is left out (its FIR approximation misses perfect reconstruction by ~2e-3) and so are
#: the biorthogonal ``bior``/``rbio`` families (their analysis filters are not orthonormal).
ORTHOGONAL_FAMILIES: tuple[str, ...] = ("haar", "db", "sym", "coif")

SQRT2 = math.sqrt(2.0)


def as_taps(h: Any, name: str) -> np.ndarray:
    """1-D float64 copy of ``h`` (array-like or torch tensor); raise ValueError if unusable."""
    if hasattr(h, "detach"):  # torch tensor, possibly a Parameter with grad
        h = h.detach().cpu().numpy()
    try:
        taps = np.array(h, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of real numbers, got {quote(h)}") from exc
    if taps.ndim != 1 or taps.size < 2:
        raise ValueError(
            f"{name} must be a 1-D array of at least 2 taps, got shape {taps.shape}; "
            "for a layer pass one channel, e.g. conv.h0[c]"
        )
    if not np.all(np.isfinite(taps)):
        raise ValueError(f"{name} contains NaN or infinite taps: {taps}")
    return taps


def as_pair(h0: Any, h1: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both taps of a pair as float64 arrays of one length (``ValueError`` otherwise)."""
    a, b = as_taps(h0, "h0"), as_taps(h1, "h1")
    if a.shape != b.shape:
        raise ValueError(f"h0 and h1 must have the same length, got {a.size} and {b.size}")
    return a, b


def quadrature_mirror(h0: Any) -> np.ndarray:
    """The highpass ``h1[n] = (-1)**n * h0[k-1-n]`` that PyWavelets pairs with lowpass ``h0``.

    In the layer's cross-correlation convention (``h0 = dec_lo[::-1]``) this gives exactly
    ``pywt.Wavelet(name).dec_hi[::-1]`` for every orthogonal PyWavelets wavelet (haar, dbN, symN,
    coifN); if ``h0`` is an orthonormal lowpass, ``(h0, h1)`` is then an orthonormal filter bank.

    Parameters
    ----------
    h0 : array-like (k,)
        Lowpass taps, cross-correlation form.

    Returns
    -------
    ndarray (k,)

    Examples
    --------
    >>> import pywt
    >>> w = pywt.Wavelet("db2")
    >>> bool(np.allclose(quadrature_mirror(w.dec_lo[::-1]), w.dec_hi[::-1]))
    True
    """
    taps = as_taps(h0, "h0")
    return (-1.0) ** np.arange(taps.size) * taps[::-1]


_quadrature_mirror = quadrature_mirror


def _modulate(c: np.ndarray) -> np.ndarray:
    """Coefficients of ``C(-z)`` from those of ``C(z)``."""
    return (-1.0) ** np.arange(c.size) * c


def frequency_response(h: Any, n_freqs: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency response of one filter of the tree, sampled on ``n_freqs`` frequencies.

    The response is that of the causal filter the tree applies with cross-correlation taps ``h``,
    ``y[n] = sum_i h[i] x[n - (k-1-i)]``, i.e. ``H(f) = sum_m h[k-1-m] exp(-2j pi f m)``
    (dilation 1). It is computed with ``np.fft.rfft`` of length ``2*(n_freqs-1)`` after folding the
    taps modulo that length, so the samples are exact for any filter length.

    Parameters
    ----------
    h : array-like (k,)
        Cross-correlation taps.
    n_freqs : int
        Number of frequencies, at least 2.

    Returns
    -------
    freqs : ndarray (n_freqs,)
        Frequencies in **cycles per sample**, ``0`` (DC) to ``0.5`` (Nyquist), evenly spaced.
    magnitude : ndarray (n_freqs,)
        ``|H(f)|`` (linear, not dB). An orthonormal lowpass has ``|H(0)| = sqrt(2)``.
    phase : ndarray (n_freqs,)
        Unwrapped ``angle(H(f))`` in radians. Meaningless where the magnitude is ~0.

    Examples
    --------
    >>> f, mag, _ = frequency_response([0.5**0.5, 0.5**0.5], n_freqs=3)
    >>> f.tolist(), mag.round(4).tolist()
    ([0.0, 0.25, 0.5], [1.4142, 1.0, 0.0])
    """
    taps = as_taps(h, "h")
    if not isinstance(n_freqs, (int, np.integer)) or n_freqs < 2:
        raise ValueError(f"n_freqs must be an integer >= 2, got {quote(n_freqs)}")
    nfft = 2 * (int(n_freqs) - 1)
    kernel = taps[::-1]  # convolution form
    folded = np.bincount(np.arange(kernel.size) % nfft, weights=kernel, minlength=nfft)
    response = np.fft.rfft(folded, n=nfft)  # (n_freqs,)
    freqs = np.fft.rfftfreq(nfft)
    return freqs, np.abs(response), np.unwrap(np.angle(response))


@dataclass(frozen=True)
class FilterDiagnostics:
    """How close a filter pair is to an orthonormal wavelet filter bank.

    Every ``*_error`` is 0 (to rounding) for the orthogonal PyWavelets wavelets (haar, dbN, symN,
    coifN) in the cross-correlation convention, and the quantities are computed on the filters
    *as given*: normalise a learned pair first with :func:`~multires.analysis.cascade.normalize_filters`.
    """

    kernel_size: int  #: number of taps k
    highpass_sum: float  #: sum h1; 0 means the wavelet has zero mean (kills constants)
    lowpass_dc_gain: float  #: sum h0; sqrt(2) for an orthonormal lowpass
    dc_gain_error: float  #: |sum h0 - sqrt(2)|
    orthonormality_error: float  #: max deviation of the even-shift correlations from delta / 0
    qmf_error: float  #: max |h1 - (+-)(-1)^n h0[k-1-n]|, best sign
    perfect_reconstruction_error: float  #: max PR-condition deviation with time-reversed synthesis, / 2
    nearest_wavelet: str | None  #: closest orthogonal PyWavelets wavelet of the same length
    nearest_distance: float | None  #: L2 distance of unit-norm, sign-aligned h0 to it (0..sqrt 2)

    _LABELS = {
        "kernel_size": ("kernel size k", "number of taps in each filter"),
        "highpass_sum": ("highpass sum", "sum of h1 = 0: a constant gives no detail (the wavelet has zero mean)"),
        "lowpass_dc_gain": ("lowpass DC gain", "sum of h0 = sqrt 2 = 1.414: it passes constants, times sqrt 2 per level"),
        "dc_gain_error": ("DC gain error", "|sum h0 - sqrt 2|: 0 means h0 has the orthonormal gain for constants"),
        "orthonormality_error": (
            "orthonormality error",
            "0: h0, h1 and their shifts by 2 are orthonormal, so the decimated transform keeps energy",
        ),
        "qmf_error": (
            "quadrature-mirror error",
            "0: h1 is h0 reversed with alternating signs, h1[n] = (-1)^n h0[k-1-n] (or its negative)",
        ),
        "perfect_reconstruction_error": (
            "perfect-reconstruction error",
            "0: the time-reversed filters rebuild the input exactly from every other coefficient",
        ),
        "nearest_wavelet": ("nearest wavelet", "closest orthogonal PyWavelets wavelet (haar, db, sym, coif) of this length"),
        "nearest_distance": (
            "distance to nearest",
            "L2 distance between unit-norm lowpass filters (0 = identical, sqrt 2 = orthogonal)",
        ),
    }
    _IDEALS = {
        "highpass_sum": 0.0,
        "lowpass_dc_gain": SQRT2,
        "dc_gain_error": 0.0,
        "orthonormality_error": 0.0,
        "qmf_error": 0.0,
        "perfect_reconstruction_error": 0.0,
        "nearest_distance": 0.0,
    }

    def to_dict(self) -> dict[str, Any]:
        """Field name to value (JSON-serialisable)."""
        return asdict(self)

    def rows(self) -> list[dict[str, Any]]:
        """One row per quantity for a table: ``quantity``, ``value``, ``ideal``, ``meaning``.

        >>> from multires.wavelets import wavelet_filters
        >>> rows = filter_diagnostics(*wavelet_filters("haar")).rows()
        >>> rows[1]["quantity"], rows[1]["ideal"], rows[1]["meaning"][:25]
        ('highpass sum', 0.0, 'sum of h1 = 0: a constant')
        """
        return [
            {
                "quantity": self._LABELS[name][0],
                "value": value,
                "ideal": self._IDEALS.get(name),
                "meaning": self._LABELS[name][1],
            }
            for name, value in self.to_dict().items()
        ]


def _even_shift_error(h0: np.ndarray, h1: np.ndarray) -> float:
    """Max deviation of the orthonormality conditions of a two-channel filter bank.

    ``sum_n h0[n] h0[n+2m] = delta_m``, the same for ``h1``, and ``sum_n h0[n] h1[n+2m] = 0``.
    """
    k = h0.size
    even = np.arange((k - 1) % 2, 2 * k - 1, 2)  # lags 2m around centre k-1
    delta = (even == k - 1).astype(float)
    r00 = np.correlate(h0, h0, "full")[even]
    r11 = np.correlate(h1, h1, "full")[even]
    r01 = np.correlate(h0, h1, "full")[even]
    return float(max(np.abs(r00 - delta).max(), np.abs(r11 - delta).max(), np.abs(r01).max()))


def _perfect_reconstruction_error(h0: np.ndarray, h1: np.ndarray) -> float:
    """PR conditions with analysis ``H_i`` (taps ``h_i[::-1]``) and synthesis ``F_i`` = time reverse.

    Distortion ``F0 H0 + F1 H1 = 2 z^-(k-1)`` and aliasing ``F0 H0(-z) + F1 H1(-z) = 0``; the
    maximal coefficient deviation is divided by the ideal gain 2.
    """
    k = h0.size
    distortion = np.convolve(h0, h0[::-1]) + np.convolve(h1, h1[::-1])
    distortion[k - 1] -= 2.0
    aliasing = np.convolve(h0, _modulate(h0[::-1])) + np.convolve(h1, _modulate(h1[::-1]))
    return float(max(np.abs(distortion).max(), np.abs(aliasing).max()) / 2.0)


@lru_cache(maxsize=None)
def _orthogonal_lowpass_by_length() -> dict[int, list[tuple[str, np.ndarray]]]:
    """Unit-norm ``h0`` of every wavelet in :data:`ORTHOGONAL_FAMILIES`, grouped by length."""
    table: dict[int, list[tuple[str, np.ndarray]]] = {}
    for family in ORTHOGONAL_FAMILIES:
        for name in pywt.wavelist(family):
            lo = np.asarray(pywt.Wavelet(name).dec_lo[::-1], dtype=np.float64)
            table.setdefault(lo.size, []).append((name, lo / np.linalg.norm(lo)))
    return table


def nearest_wavelet(h0: Any) -> tuple[str | None, float | None]:
    """Orthogonal PyWavelets wavelet whose lowpass is nearest to ``h0``.

    Candidates are the wavelets of :data:`ORTHOGONAL_FAMILIES` (haar, dbN, symN, coifN) with
    ``dec_len == len(h0)``. Both filters are scaled to unit L2 norm and the sign of ``h0`` is chosen
    to minimise the distance (a learned filter's sign is arbitrary). Ties (``db1 = haar``,
    ``sym2 = db2``, ``sym3 = db3``) go to the first in family order haar, db, sym, coif.

    Parameters
    ----------
    h0 : array-like (k,)
        Lowpass taps, cross-correlation form, any scale or sign.

    Returns
    -------
    name : str or None
        ``None`` if no orthogonal wavelet has ``k`` taps (e.g. odd ``k``).
    distance : float or None
        ``min(||u - v||, ||u + v||)`` of the unit-norm filters, in ``[0, sqrt 2]``.

    Examples
    --------
    >>> name, distance = nearest_wavelet([1.0, 1.0])
    >>> name, round(distance, 12), nearest_wavelet([1.0, 2.0, 3.0])
    ('haar', 0.0, (None, None))
    """
    taps = as_taps(h0, "h0")
    norm = np.linalg.norm(taps)
    if norm == 0:
        raise ValueError("h0 is all zeros: it has no direction to compare with a wavelet")
    unit = taps / norm
    best: tuple[str | None, float | None] = (None, None)
    for name, candidate in _orthogonal_lowpass_by_length().get(taps.size, []):
        distance = float(min(np.linalg.norm(unit - candidate), np.linalg.norm(unit + candidate)))
        if best[1] is None or distance < best[1] - 1e-12:
            best = (name, distance)
    return best


def filter_diagnostics(h0: Any, h1: Any) -> FilterDiagnostics:
    """Measure how far ``(h0, h1)`` is from an orthonormal (wavelet) two-channel filter bank.

    Parameters
    ----------
    h0, h1 : array-like (k,)
        Lowpass and highpass taps in cross-correlation form (``dec_lo[::-1]``, ``dec_hi[::-1]``),
        used as given (no normalisation).

    Returns
    -------
    FilterDiagnostics
        ``orthonormality_error``: max over ``m`` of ``|sum h0[n]h0[n+2m] - delta_m|``, the same for
        ``h1``, and ``|sum h0[n]h1[n+2m]|``. ``qmf_error``: ``min_s max_n |h1[n] - s(-1)^n
        h0[k-1-n]|`` over signs ``s = +-1`` (PyWavelets' pairs have ``s = +1`` for even ``k``).
        ``perfect_reconstruction_error``: the analysis bank followed by time-reversed synthesis
        filters (the synthesis orthogonality implies) must give distortion ``2 z^-(k-1)`` and no
        aliasing; max coefficient deviation divided by 2. The nearest wavelet is
        :func:`nearest_wavelet` of ``h0``.

    Examples
    --------
    >>> d = filter_diagnostics([1.0, 1.0], [1.0, -1.0])  # Haar scaled by sqrt 2
    >>> d.nearest_wavelet, round(d.dc_gain_error, 4), d.highpass_sum, d.orthonormality_error
    ('haar', 0.5858, 0.0, 1.0)
    """
    a, b = as_pair(h0, h1)
    mirror = _quadrature_mirror(a)
    name, distance = nearest_wavelet(a) if np.any(a) else (None, None)
    return FilterDiagnostics(
        kernel_size=int(a.size),
        highpass_sum=float(b.sum()),
        lowpass_dc_gain=float(a.sum()),
        dc_gain_error=float(abs(a.sum() - SQRT2)),
        orthonormality_error=_even_shift_error(a, b),
        qmf_error=float(min(np.abs(b - mirror).max(), np.abs(b + mirror).max())),
        perfect_reconstruction_error=_perfect_reconstruction_error(a, b),
        nearest_wavelet=name,
        nearest_distance=distance,
    )
