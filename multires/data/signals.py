"""Signals to look at: the built-in ones, and (re-exported) the parser of uploaded ones.

* :func:`load_signal` returns built-in 1-D signals that ship with the dependencies (no downloads):
  the ECG and Nino-3 SST records of ``pywt.data``, the Donoho-Johnstone test signals of
  ``pywt.data.demo_signal``, one handwritten digit of ``sklearn.datasets.load_digits`` read pixel by
  pixel, and three synthetic probes (white noise, an impulse, a step).
* :func:`parse_upload` (defined in :mod:`multires.data.uploads`, re-exported here) turns the bytes of
  an uploaded ``.csv`` / ``.txt`` / ``.npy`` / ``.wav`` file into a validated float64 signal, or
  raises :class:`SignalError` with a message fit to show a user as-is. Uploads are untrusted:
  ``.npy`` files are never unpickled, WAV headers are checked against the bytes actually present
  before anything is allocated, every size is bounded, and text is parsed in linear time.

Examples
--------
>>> from multires.data.signals import load_signal
>>> load_signal("Doppler", n=256).shape
(256,)
"""

from __future__ import annotations

import functools

import numpy as np
import pywt

from multires.data.uploads import UPLOAD_EXTENSIONS, parse_upload
from multires.data.uploads.checks import ParsedSignal, SignalError, SignalTooLongError, window_signal
from multires.options import (
    MAX_SIGNAL_LENGTH,
    MAX_UPLOAD_BYTES,
    MAX_WAV_SAMPLE_RATE,
    MIN_SIGNAL_LENGTH,
    SIGNAL_NAMES,
)
from multires.plaintext import quote

__all__ = ["DEMO_SIGNAL_NAMES", "digits_arrays", "load_signal"]

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

DEMO_SIGNAL_NAMES: tuple[str, ...] = SIGNAL_NAMES[2:12]
"""The Donoho-Johnstone test signals, generated at any length ``n``.

All but ``"Cusp"`` come from ``pywt.data.demo_signal(name, n)``; PyWavelets 1.8 does not implement
Cusp, so it is computed here from the WaveLab ``MakeSignal`` formula ``sqrt(|t - 0.37|)``.
"""


_ECG_NATIVE_LENGTH = 1024
_N_DIGITS = 1797
_DIGIT_LENGTH = 64


# --------------------------------------------------------------------------------------------
# Built-in signals
# --------------------------------------------------------------------------------------------


def _check_length(n: int, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(n).__name__}")
    if not MIN_SIGNAL_LENGTH <= n <= MAX_SIGNAL_LENGTH:
        raise ValueError(f"{what} must be between {MIN_SIGNAL_LENGTH} and {MAX_SIGNAL_LENGTH}, got {n}")
    return int(n)


def _demo_signal(name: str, n: int) -> np.ndarray:
    """Donoho-Johnstone test signal of exactly ``n`` samples on ``t = 1/n, 2/n, ..., 1``."""
    if name == "Cusp":
        t = np.arange(1, n + 1) / n
        return np.sqrt(np.abs(t - 0.37))
    # pywt builds t with np.arange(1/n, 1 + 1/n, 1/n): for some n (49, 103, ...) that returns one
    # extra sample past t = 1, and for others (93, 117, ...) the last t is 1 + 2e-16, where
    # Doppler's sqrt(t (1 - t)) is NaN instead of its exact value 0. Keep n samples, repair t = 1.
    with np.errstate(invalid="ignore"):
        values = np.array(pywt.data.demo_signal(name, n), dtype=np.float64)[:n]
    if name == "Doppler" and np.isnan(values[-1]):
        values[-1] = 0.0
    return values


@functools.lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 digits of ``sklearn.datasets.load_digits``: images (1797, 64) 0..16 and labels; read-only."""
    # scikit-learn takes about a second to import: only digits need it
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.data.astype(np.float64)  # (1797, 64), values 0..16, rows of the 8x8 image
    labels = bunch.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_signal(name: str, n: int = 1024, seed: int = 0, index: int = 0) -> np.ndarray:
    """Return a built-in 1-D signal as a new float64 array.

    Parameters
    ----------
    name : str
        One of :data:`SIGNAL_NAMES` (case-insensitive).
    n : int, default 1024
        Requested length, between :data:`MIN_SIGNAL_LENGTH` and :data:`MAX_SIGNAL_LENGTH`.
        How it is used depends on the signal:

        * ``"ECG"`` (``pywt.data.ecg()``, 1024 samples at 360 Hz) and ``"Nino SST"`` (the SST
          column of ``pywt.data.nino()``, 264 quarterly samples from 1950) are recordings: they are
          returned at their native length, cropped to the first ``n`` samples if ``n`` is smaller.
          They are never resampled.
        * The Donoho-Johnstone signals of :data:`DEMO_SIGNAL_NAMES`, ``"White noise"``,
          ``"Impulse"`` and ``"Step"`` are generated at exactly ``n`` samples.
        * ``"Digit"`` always has 64 samples (an 8x8 image); ``n`` is ignored.
    seed : int, default 0
        Seed of ``np.random.default_rng`` for ``"White noise"``; ignored otherwise.
    index : int, default 0
        Which of the 1797 ``load_digits`` images ``"Digit"`` returns; ignored otherwise.

    Returns
    -------
    numpy.ndarray
        1-D float64 array. ``"Impulse"`` is 1 at ``n // 2`` and 0 elsewhere; ``"Step"`` is 0 before
        ``n // 2`` and 1 from there on; ``"White noise"`` is standard normal; ``"Digit"`` holds
        raw pixel intensities 0..16 read row by row.

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the allowed names), ``n`` is out of range, or
        ``index`` is not a valid digit index.

    Examples
    --------
    >>> load_signal("Impulse", n=8)
    array([0., 0., 0., 0., 1., 0., 0., 0.])
    >>> load_signal("ECG", n=100).shape, load_signal("ECG", n=4096).shape
    ((100,), (1024,))
    >>> load_signal("Digit", index=3).shape
    (64,)
    """
    canonical = {s.lower(): s for s in SIGNAL_NAMES}.get(str(name).lower())
    if canonical is None:
        raise ValueError(f"unknown signal {quote(name)}; allowed names are: {', '.join(SIGNAL_NAMES)}")
    n = _check_length(n)

    if canonical == "ECG":
        values = np.asarray(pywt.data.ecg(), dtype=np.float64)[:n]
    elif canonical == "Nino SST":
        _, sst = pywt.data.nino()
        values = np.asarray(sst, dtype=np.float64)[:n]
    elif canonical in DEMO_SIGNAL_NAMES:
        values = _demo_signal(canonical, n)
    elif canonical == "Digit":
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < _N_DIGITS:
            raise ValueError(f"index must be an integer from 0 to {_N_DIGITS - 1} for 'Digit', got {quote(index)}")
        values = digits_arrays()[0][int(index)]
    elif canonical == "White noise":
        values = np.random.default_rng(seed).standard_normal(n)
    elif canonical == "Impulse":
        values = np.zeros(n)
        values[n // 2] = 1.0
    else:  # "Step"
        values = np.zeros(n)
        values[n // 2 :] = 1.0
    return np.array(values, dtype=np.float64, copy=True)
