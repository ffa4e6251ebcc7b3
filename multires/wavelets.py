"""Fixed wavelet filters from PyWavelets, in the layer's cross-correlation convention.

``h0 = dec_lo[::-1]`` and ``h1 = dec_hi[::-1]`` (docs/design.md, section 1), so that the tree computed with
them matches ``pywt.swt(x, name, trim_approx=False, norm=False)`` up to a known shift.

>>> h0, h1 = wavelet_filters("haar")
>>> h0.round(4).tolist(), h1.round(4).tolist()
([0.7071, 0.7071], [0.7071, -0.7071])
"""

from __future__ import annotations

import numpy as np
import pywt

from multires.plaintext import quote

__all__ = ["discrete_wavelet_names", "check_wavelet_name", "wavelet_filters"]


def discrete_wavelet_names() -> list[str]:
    """Every discrete wavelet PyWavelets knows (``pywt.wavelist(kind="discrete")``)."""
    return pywt.wavelist(kind="discrete")


def check_wavelet_name(name: str) -> str:
    """Return ``name`` if it is a discrete PyWavelets wavelet, else raise a helpful ``ValueError``."""
    names = discrete_wavelet_names()
    if not isinstance(name, str) or name not in names:
        families = ", ".join(pywt.families(short=True))
        raise ValueError(
            f"unknown wavelet {quote(name)}: use a discrete PyWavelets name such as 'haar', 'db2', "
            f"'sym4', 'coif1' (families: {families}); see pywt.wavelist(kind='discrete')"
        )
    return name


def wavelet_filters(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Lowpass and highpass taps ``(h0, h1)`` of a PyWavelets wavelet, cross-correlation form.

    Parameters
    ----------
    name : str
        Discrete wavelet name, e.g. ``"haar"``, ``"db2"``, ``"sym4"``.

    Returns
    -------
    h0, h1 : ndarray of shape (k,)
        ``dec_lo[::-1]`` and ``dec_hi[::-1]``; ``k = pywt.Wavelet(name).dec_len``.
    """
    w = pywt.Wavelet(check_wavelet_name(name))
    return np.asarray(w.dec_lo[::-1], dtype=np.float64), np.asarray(w.dec_hi[::-1], dtype=np.float64)
