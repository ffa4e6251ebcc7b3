"""Shared checks of every signal upload: the exceptions, the parsed result, size/text/value checks.

Every format parser (:mod:`multires.data.uploads.text`, :mod:`~multires.data.uploads.npy`,
:mod:`~multires.data.uploads.wav`) starts with :func:`check_upload_bytes` and ends with
:func:`checked_signal`; :mod:`multires.data.tasks.files` reuses :func:`check_upload_bytes` and
:func:`decode_text` for dataset files, raising its own exception class.

Examples
--------
>>> upload_too_large_message(6_000_000)
'the file is 6.0 MB (6,000,000 bytes); the largest accepted upload is 5 MB (5,000,000 bytes)'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from multires.options import (
    MAX_ABS_SAMPLE,
    MAX_SIGNAL_LENGTH,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    MIN_SIGNAL_LENGTH,
)
from multires.plaintext import quote

__all__ = [
    "ParsedSignal",
    "SignalError",
    "SignalTooLongError",
    "check_finite",
    "check_upload_bytes",
    "decode_text",
    "checked_signal",
    "upload_too_large_message",
    "window_signal",
]


class SignalError(ValueError):
    """An uploaded or windowed signal is unusable; the message is written to be shown as-is."""


class SignalTooLongError(SignalError):
    """The upload parsed fine but has more than :data:`MAX_SIGNAL_LENGTH` samples.

    ``parsed`` holds the whole (finite) signal, so a caller can offer a window of it through
    :func:`window_signal` instead of refusing the file.
    """

    def __init__(self, message: str, parsed: ParsedSignal) -> None:
        super().__init__(message)
        self.parsed = parsed

    def __reduce__(self) -> tuple:
        """Pickled with its signal (an upload checked in a worker process sends its errors back)."""
        return type(self), (self.args[0], self.parsed)


@dataclass(frozen=True, eq=False)
class ParsedSignal:
    """A validated signal read from an upload.

    Attributes
    ----------
    values : numpy.ndarray
        The signal, 1-D float64, finite, length within the limits.
    columns : tuple of str
        For CSV/TXT: every numeric column (or row, see ``axis``) of the file, the choices for
        ``column``; empty otherwise (and for a file that is one row of numbers).
    column : str or None
        For CSV/TXT: the column (or row) that ``values`` holds; ``None`` otherwise.
    sample_rate : int or None
        For WAV: frames per second from the header; ``None`` otherwise.
    note : str
        What was done to get ``values``, for the user (e.g. "used column 'b' of 3").
    axis : str
        ``"column"`` when the signals run down the columns (a tall table), ``"row"`` when they run
        along the rows (a table with more columns than data rows).
    """

    values: np.ndarray
    columns: tuple[str, ...] = ()
    column: str | None = None
    sample_rate: int | None = None
    note: str = ""
    axis: str = "column"


def upload_too_large_message(size: int) -> str:
    """The one message for a file above :data:`MAX_UPLOAD_BYTES`, in the browser's unit (MB = 10**6 bytes)."""
    return (f"the file is {size / 1e6:.1f} MB ({size:,} bytes); the largest accepted upload is "
            f"{MAX_UPLOAD_MB} MB ({MAX_UPLOAD_BYTES:,} bytes)")


def check_upload_bytes(
    data: bytes | bytearray | memoryview,
    filename: str,
    extensions: tuple[str, ...],
    error: type[ValueError] | None = None,
) -> tuple[bytes, str]:
    """First checks of any upload: types, file type, size limit, emptiness.

    Parameters
    ----------
    data : bytes-like
        The raw file content.
    filename : str
        Only its ending is used (case-insensitive).
    extensions : tuple of str
        Accepted endings, e.g. ``(".csv", ".txt")``.
    error : type of ValueError, optional
        Exception class raised for a bad file; default :class:`SignalError`.

    Returns
    -------
    tuple of (bytes, str)
        The content as ``bytes`` and the lower-case extension (with its dot).

    Raises
    ------
    ValueError
        (of class ``error``) for an unsupported type, a file over :data:`MAX_UPLOAD_BYTES`, or an
        empty file.
    TypeError
        If ``data`` is not bytes-like or ``filename`` is not a string (a programming error).

    Examples
    --------
    >>> check_upload_bytes(b"1,2", "Train.TSV", (".tsv",))
    (b'1,2', '.tsv')
    """
    error = SignalError if error is None else error
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    if not isinstance(filename, str):
        raise TypeError(f"filename must be a string, got {type(filename).__name__}")
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in extensions:
        raise error(f"{quote(filename)} has an unsupported file type; accepted types: {', '.join(extensions)}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise error(upload_too_large_message(len(data)))
    if not data:
        raise error("the file is empty")
    return data, extension


def decode_text(data: bytes, error: type[ValueError] | None = None,
                hint: str = "save it as UTF-8 CSV, or upload .npy or .wav") -> str:
    """Decode an upload as UTF-8 text (a byte-order mark is dropped), refusing binary data.

    Parameters
    ----------
    data : bytes
        The raw file content.
    error : type of ValueError, optional
        Exception class raised; default :class:`SignalError`.
    hint : str
        What the user should do instead, appended to the message.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        (of class ``error``) if the bytes are not UTF-8.

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbf1,2\\n")
    '1,2\\n'
    """
    error = SignalError if error is None else error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"the file is not UTF-8 text (undecodable byte at position {exc.start}); {hint}") from None
    return text


def check_finite(values: np.ndarray) -> None:
    """Refuse NaN (missing) and infinite samples, counting them and naming the first one."""
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        n_nan = int(np.isnan(values).sum())
        n_inf = int(bad.sum()) - n_nan
        parts = [f"{count} {kind}" for count, kind in ((n_nan, "NaN/missing"), (n_inf, "infinite")) if count]
        raise SignalError(
            f"the signal has {' and '.join(parts)} value(s), the first at sample index {first} "
            f"(value {values[first]}); only finite numbers are accepted"
        )


def check_magnitude(values: np.ndarray) -> None:
    """Refuse samples so large that squares, sums and tree coefficients would overflow to inf/NaN."""
    if values.size == 0:
        return
    peak_index = int(np.argmax(np.abs(values)))
    peak = abs(float(values[peak_index]))
    if peak > MAX_ABS_SAMPLE:
        raise SignalError(
            f"the signal's largest magnitude is {peak:.3g} (sample index {peak_index}); at most "
            f"{MAX_ABS_SAMPLE:.0e} is accepted so that energies and tree coefficients stay finite. "
            "Rescale the signal (e.g. divide it by its largest value) and upload it again"
        )


def checked_signal(parsed: ParsedSignal) -> ParsedSignal:
    """Last checks of every parsed upload: finite, not huge, not too short; too long is windowable."""
    values = parsed.values
    check_finite(values)
    check_magnitude(values)
    if values.size < MIN_SIGNAL_LENGTH:
        raise SignalError(
            f"the signal has {values.size} sample(s); at least {MIN_SIGNAL_LENGTH} are needed "
            f"(at most {MAX_SIGNAL_LENGTH})"
        )
    if values.size > MAX_SIGNAL_LENGTH:
        raise SignalTooLongError(
            f"the signal has {values.size} samples; at most {MAX_SIGNAL_LENGTH} are accepted "
            f"(at least {MIN_SIGNAL_LENGTH}). Choose a window of at most {MAX_SIGNAL_LENGTH} samples.",
            parsed,
        )
    return parsed


def window_signal(values: np.ndarray, start: int, length: int) -> np.ndarray:
    """Return ``values[start:start + length]`` as a new float64 array, after checking it.

    Use it to cut an allowed window out of a signal that is too long
    (see :class:`SignalTooLongError`).

    Parameters
    ----------
    values : array_like
        1-D real signal.
    start : int
        First sample of the window, ``0 <= start``.
    length : int
        Window length, from :data:`MIN_SIGNAL_LENGTH` to :data:`MAX_SIGNAL_LENGTH`, with
        ``start + length <= len(values)``.

    Returns
    -------
    numpy.ndarray
        The window, 1-D float64.

    Raises
    ------
    SignalError
        If ``values`` is not 1-D and real, the window does not fit, its length is out of limits,
        or the window holds NaN, infinite or too large values.

    Examples
    --------
    >>> window_signal(np.arange(20.0), start=4, length=8)
    array([ 4.,  5.,  6.,  7.,  8.,  9., 10., 11.])
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise SignalError(f"a 1-D signal is expected, got an array of shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise SignalError(f"a real-valued signal is expected, got dtype {array.dtype}")
    for label, value in (("start", start), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise SignalError(f"{label} must be an integer, got {quote(value)}")
    if not MIN_SIGNAL_LENGTH <= length <= MAX_SIGNAL_LENGTH:
        raise SignalError(
            f"the window length must be between {MIN_SIGNAL_LENGTH} and {MAX_SIGNAL_LENGTH} samples, "
            f"got {length}"
        )
    if start < 0 or start + length > array.size:
        raise SignalError(
            f"a window of {length} samples starting at {start} does not fit in a signal of "
            f"{array.size} samples; start must be between 0 and {max(array.size - length, 0)}"
        )
    window = np.array(array[start : start + length], dtype=np.float64, copy=True)
    check_finite(window)
    check_magnitude(window)
    return window
