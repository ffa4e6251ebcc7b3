"""Size limits shared by the built-in signals, the upload parsers and the datasets.

One place for every bound on untrusted or user-chosen sizes, so the signal uploads
(:mod:`multires.uploads`) and the dataset files (:mod:`multires.tasks.files`) refuse the same
things with the same numbers.

Examples
--------
>>> from multires.limits import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
>>> MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES // 2**20
(16384, 5)
"""

from __future__ import annotations

__all__ = [
    "MAX_DATASET_SERIES",
    "MAX_SIGNAL_LENGTH",
    "MAX_UPLOAD_BYTES",
    "MAX_WAV_SAMPLE_RATE",
    "MIN_SIGNAL_LENGTH",
]

MIN_SIGNAL_LENGTH = 8
"""Shortest signal accepted anywhere (a depth-3 Haar tree needs 8 samples to be non-trivial)."""

MAX_SIGNAL_LENGTH = 16384
"""Longest signal (and dataset series) accepted: keeps trees and plots responsive on a CPU."""

MAX_UPLOAD_BYTES = 5 * 2**20
"""Largest upload parsed (5 MiB); larger files are refused before any parsing."""

MAX_WAV_SAMPLE_RATE = 384_000
"""Highest WAV sample rate accepted (Hz); the lowest is 1 Hz."""

MAX_DATASET_SERIES = 20_000
"""Most series accepted in one dataset file (train or test)."""
