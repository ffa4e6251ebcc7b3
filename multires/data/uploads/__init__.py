"""Safe parsing of files that users upload: signals now, and the shared checks datasets reuse.

:func:`parse_upload` turns the bytes of an uploaded ``.csv`` / ``.txt`` / ``.npy`` / ``.wav`` file
into a validated float64 signal, or raises :class:`SignalError` with a message fit to show a user
as-is. Uploads are untrusted: ``.npy`` files are never unpickled, WAV headers are checked against
the bytes actually present before anything is allocated, every size is bounded
(:mod:`multires.options`), and text is parsed in time and memory linear in its size.

One module per concept: :mod:`~multires.data.uploads.checks` (the exceptions, the result, the size,
text and value checks every format shares), :mod:`~multires.data.uploads.text` (CSV/TXT),
:mod:`~multires.data.uploads.npy` and :mod:`~multires.data.uploads.wav`. :func:`check_upload_bytes` and
:func:`decode_text` are reused by :mod:`multires.data.tasks.files` for UCR-format dataset files.

Examples
--------
>>> from multires.data.uploads import parse_upload
>>> parsed = parse_upload(b"t,volts\\n0,0.5\\n1,0.25\\n2,0\\n3,1\\n4,2\\n5,3\\n6,4\\n7,5\\n", "x.csv")
>>> parsed.columns, parsed.column
(('t', 'volts'), 't')
"""

from __future__ import annotations

from multires.data.uploads import npy, text, wav
from multires.data.uploads.checks import (
    ParsedSignal,
    SignalError,
    SignalTooLongError,
    check_upload_bytes,
    checked_signal,
    decode_text,
    upload_too_large_message,
    window_signal,
)

__all__ = ["UPLOAD_EXTENSIONS", "parse_upload"]

UPLOAD_EXTENSIONS = (".csv", ".txt", ".npy", ".wav")
"""File name endings :func:`parse_upload` accepts (case-insensitive)."""


def parse_upload(data: bytes, filename: str, column: str | None = None) -> ParsedSignal:
    """Parse an uploaded file into a 1-D float64 signal, refusing anything unsafe or unusable.

    Parameters
    ----------
    data : bytes
        The raw file content (e.g. ``UploadedFile.getvalue()``). At most :data:`MAX_UPLOAD_BYTES`.
    filename : str
        Only its ending is used to pick the format: ``.csv`` / ``.txt`` (delimited text),
        ``.npy`` (NumPy array) or ``.wav`` (PCM audio), case-insensitive.
    column : str, optional
        CSV/TXT only: the column (or, in a wide table, the row) to use; default the first one
        holding numbers. Files without a header row get columns named ``"column 1"``,
        ``"column 2"``, ...; the rows of a wide table are ``"row 1"``, ``"row 2"``, ...

    Returns
    -------
    ParsedSignal
        The signal plus what the file offered (CSV columns, WAV sample rate) and a note.

    Raises
    ------
    SignalError
        For every problem with the file, with a message meant for the user:

        * too large, empty, or an unsupported file type;
        * CSV/TXT: not UTF-8 text, no data rows, no numeric column, the chosen column holding text,
          an unknown ``column``;
        * NPY: corrupt or truncated, not numeric (object arrays are refused and never unpickled),
          not 1-D (2-D arrays with a dimension of size 1 are squeezed);
        * WAV: not plain PCM, not 8/16/32-bit, truncated, sample rate outside 1..384000 Hz;
        * NaN or infinite values, a magnitude above :data:`~multires.options.MAX_ABS_SAMPLE` (its
          squares would overflow), fewer than :data:`MIN_SIGNAL_LENGTH` samples.
    SignalTooLongError
        (a :class:`SignalError`) if there are more than :data:`MAX_SIGNAL_LENGTH` samples; its
        ``parsed`` attribute holds the whole signal for :func:`window_signal`.
    TypeError
        If ``data`` is not bytes-like or ``filename`` is not a string (a programming error).

    Notes
    -----
    * CSV: the delimiter is the first of ``,`` ``;`` tab found on the first non-empty line, else
      whitespace. The first row is a header unless every cell in it is a number. A table with
      more columns than data rows is read along its rows (``axis="row"``; a header row is then
      skipped); a single data row is the signal itself (``columns`` is then empty). Columns (rows)
      with no number at all (dates, labels) are skipped; one mixing numbers and text is refused when
      chosen, naming the value and where it is. Empty cells count as missing values (refused like
      NaN). Time and memory are linear in the file size (see :mod:`multires.data.uploads.text`).
    * NPY: the header is read first and checked (dtype, shape, byte count) before
      ``np.load(..., allow_pickle=False)`` reads the data.
    * WAV: read with the standard library ``wave`` module (uncompressed integer PCM, format tag 1;
      ``WAVE_FORMAT_EXTENSIBLE`` and float WAVs are refused). Samples are scaled to [-1, 1]
      (8-bit unsigned: ``(s - 128) / 128``; 16/32-bit signed: ``s / 2**(bits-1)``) and channels are
      averaged to mono.

    Examples
    --------
    >>> p = parse_upload(b"1\\n2\\n3\\n4\\n5\\n6\\n7\\n8\\n", "ramp.txt")
    >>> p.values
    array([1., 2., 3., 4., 5., 6., 7., 8.])
    >>> p.columns, p.note
    (('column 1',), 'no header row; used column 1')
    >>> parse_upload(b"\\x00", "song.mp3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    multires.data.uploads.checks.SignalError: 'song.mp3' has an unsupported file type; accepted types: .csv, ...
    """
    data, extension = check_upload_bytes(data, filename, UPLOAD_EXTENSIONS)
    if extension in (".csv", ".txt"):
        parsed = text.parse_text(data, column)
    elif extension == ".npy":
        parsed = npy.parse_npy(data)
    else:
        parsed = wav.parse_wav(data)
    return checked_signal(parsed)
