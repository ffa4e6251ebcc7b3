"""Safe parsing of files that users upload: signals now, and the shared checks datasets reuse.

:func:`parse_upload` turns the bytes of an uploaded ``.csv`` / ``.txt`` / ``.npy`` / ``.wav`` file
into a validated float64 signal, or raises :class:`SignalError` with a message fit to show a user
as-is. Uploads are untrusted: ``.npy`` files are never unpickled, WAV headers are checked against
the bytes actually present before anything is allocated, and every size is bounded
(:mod:`multires.limits`).

:func:`check_upload_bytes` (type, size and emptiness) and :func:`decode_text` (UTF-8 with a clear
message) are the first steps of every upload parser; :mod:`multires.tasks.files` reuses them for
UCR-format dataset files, raising its own exception class.

Everything here is also importable from :mod:`multires.signals`, where it used to live.

Examples
--------
>>> from multires.uploads import parse_upload
>>> parsed = parse_upload(b"t,volts\\n0,0.5\\n1,0.25\\n2,0\\n3,1\\n4,2\\n5,3\\n6,4\\n7,5\\n", "x.csv")
>>> parsed.columns, parsed.column
(('t', 'volts'), 't')
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass

import numpy as np

from multires.limits import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES, MAX_WAV_SAMPLE_RATE, MIN_SIGNAL_LENGTH

__all__ = [
    "UPLOAD_EXTENSIONS",
    "ParsedSignal",
    "SignalError",
    "SignalTooLongError",
    "check_upload_bytes",
    "decode_text",
    "parse_upload",
    "window_signal",
]

UPLOAD_EXTENSIONS = (".csv", ".txt", ".npy", ".wav")
"""File name endings :func:`parse_upload` accepts (case-insensitive)."""


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
        raise error(f"{filename!r} has an unsupported file type; accepted types: {', '.join(extensions)}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise error(
            f"the file is {len(data) / 2**20:.1f} MiB; the largest accepted upload is "
            f"{MAX_UPLOAD_BYTES / 2**20:.0f} MiB"
        )
    if not data:
        raise error("the file is empty")
    return data, extension


def decode_text(data: bytes, error: type[ValueError] | None = None, hint: str = "save it as UTF-8 CSV, or upload .npy or .wav") -> str:
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


@dataclass(frozen=True, eq=False)
class ParsedSignal:
    """A validated signal read from an upload.

    Attributes
    ----------
    values : numpy.ndarray
        The signal, 1-D float64, finite, length within the limits.
    columns : tuple of str
        For CSV/TXT: every numeric column of the file (the choices for ``column``); empty otherwise.
    column : str or None
        For CSV/TXT: the column that ``values`` holds; ``None`` otherwise.
    sample_rate : int or None
        For WAV: frames per second from the header; ``None`` otherwise.
    note : str
        What was done to get ``values``, for the user (e.g. "used column 'b' of 3").
    """

    values: np.ndarray
    columns: tuple[str, ...] = ()
    column: str | None = None
    sample_rate: int | None = None
    note: str = ""


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
        CSV/TXT only: the column to use; default the first column holding numbers. Files without a
        header row get columns named ``"column 1"``, ``"column 2"``, ...

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
        * NaN or infinite values, fewer than :data:`MIN_SIGNAL_LENGTH` samples.
    SignalTooLongError
        (a :class:`SignalError`) if there are more than :data:`MAX_SIGNAL_LENGTH` samples; its
        ``parsed`` attribute holds the whole signal for :func:`window_signal`.
    TypeError
        If ``data`` is not bytes-like or ``filename`` is not a string (a programming error).

    Notes
    -----
    * CSV: the delimiter is the first of ``,`` ``;`` tab found on the first non-empty line, else
      whitespace. The first row is a header unless every cell in it is a number. A file that is a
      single row of numbers is read along the row (``columns`` is then empty). Columns with no
      number at all (dates, labels) are skipped; a column mixing numbers and text is refused when
      chosen, naming the line and value. Empty cells count as missing values (refused like NaN).
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
    multires.uploads.SignalError: 'song.mp3' has an unsupported file type; accepted types: .csv, ...
    """
    data, extension = check_upload_bytes(data, filename, UPLOAD_EXTENSIONS)
    if extension in (".csv", ".txt"):
        parsed = _parse_text(data, column)
    elif extension == ".npy":
        parsed = _parse_npy(data)
    else:
        parsed = _parse_wav(data)
    return _finish(parsed)


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
        or the window holds NaN or infinite values.

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
            raise SignalError(f"{label} must be an integer, got {value!r}")
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
    _check_finite(window)
    return window


# --- shared validation -----------------------------------------------------------------------


def _check_finite(values: np.ndarray) -> None:
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


def _finish(parsed: ParsedSignal) -> ParsedSignal:
    values = parsed.values
    _check_finite(values)
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


# --- CSV / TXT -------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in (",", ";", "\t"):
        if delimiter in first_line:
            return delimiter
    return r"\s+"


def _is_number(cell: object) -> bool:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return False
    text = str(cell).strip()
    if "_" in text:  # float() accepts "1_000"; CSV readers do not
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_text(data: bytes, column: str | None) -> ParsedSignal:
    text = decode_text(data)
    if not text.strip():
        raise SignalError("the file is empty (no text in it)")

    import pandas as pd  # only CSV uploads need it (0.3 s to import): the built-in signals do not

    delimiter = _sniff_delimiter(text)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            skipinitialspace=True,
            engine="python" if delimiter == r"\s+" else "c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise SignalError(f"the file could not be read as delimited text: {error}") from None
    if table.empty:
        raise SignalError("the file has no rows")

    # Empty cells mean missing values; keep them as empty strings here and turn them into NaN
    # below, so the finite check reports them with their position.
    table = table.fillna("").apply(lambda col: col.str.strip())
    first_row = [cell for cell in table.iloc[0] if cell != ""]
    has_header = not all(_is_number(cell) for cell in first_row)
    if has_header:
        names = [cell if cell != "" else f"column {i + 1}" for i, cell in enumerate(table.iloc[0])]
        body = table.iloc[1:]
        first_line = 2
    else:
        names = [f"column {i + 1}" for i in range(table.shape[1])]
        body = table
        first_line = 1
    names = _deduplicate(names)
    if body.empty:
        raise SignalError("the file has only a header row and no data rows")
    if not has_header and body.shape == (1, len(names)) and len(names) > 1:
        # A single line of numbers (a row vector, as csvwrite saves one) is the signal itself.
        row = body.iloc[0].tolist()
        values = np.array([float(cell) if cell != "" else np.nan for cell in row], dtype=np.float64)
        return ParsedSignal(values=values, note=f"one row of {len(row)} numbers read as the signal")

    numeric: list[str] = []
    mixed: dict[str, str] = {}  # column -> description of its first text value
    text_only: list[str] = []
    for position, name in enumerate(names):
        cells = body.iloc[:, position].tolist()
        is_number = [_is_number(cell) for cell in cells]
        is_text = [cell != "" and not number for cell, number in zip(cells, is_number)]
        if not any(is_number):
            text_only.append(name)
        elif any(is_text):
            row = is_text.index(True)
            mixed[name] = f"{cells[row]!r} on line {first_line + row}"
        else:
            numeric.append(name)

    if column is None:
        candidates = [name for name in names if name not in text_only]
        if not candidates:
            raise SignalError(
                f"no column holds numbers (found {len(names)} column(s) of text: "
                f"{', '.join(repr(n) for n in names[:5])})"
            )
        chosen = candidates[0]
    else:
        if column not in names:
            allowed = ", ".join(repr(n) for n in numeric) or "none"
            raise SignalError(f"there is no column {column!r} in the file; numeric columns: {allowed}")
        chosen = column
    if chosen in text_only:
        raise SignalError(f"column {chosen!r} holds text, not numbers; numeric columns: "
                          f"{', '.join(repr(n) for n in numeric) or 'none'}")
    if chosen in mixed:
        raise SignalError(
            f"column {chosen!r} holds text values, e.g. {mixed[chosen]}; every value must be a number"
        )

    cells = body.iloc[:, names.index(chosen)].tolist()
    values = np.array([float(cell) if cell != "" else np.nan for cell in cells], dtype=np.float64)

    label = chosen if not has_header else f"column {chosen!r}"
    notes = [("no header row; " if not has_header else "") + f"used {label}"]
    if len(numeric) > 1:
        notes[0] += f" of {len(numeric)} numeric columns"
    skipped = [n for n in names if n in text_only or (n in mixed and n != chosen)]
    if skipped:
        notes.append(f"skipped non-numeric column(s) {', '.join(repr(n) for n in skipped)}")
    return ParsedSignal(values=values, columns=tuple(numeric), column=chosen, note="; ".join(notes))


def _deduplicate(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique


# --- NPY -------------------------------------------------------------------------------------


def _parse_npy(data: bytes) -> ParsedSignal:
    stream = io.BytesIO(data)
    # Read and check the header ourselves first: np.load allocates the declared shape before it
    # reads, so a forged header could otherwise ask for gigabytes.
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise SignalError(
                f"the file is not a valid .npy array (format version {version[0]}.{version[1]} is not "
                "supported); save a plain numeric array with numpy.save"
            )
    except SignalError:
        raise
    except Exception as error:  # numpy raises ValueError / EOFError / SyntaxError on bad headers
        raise SignalError(f"the file is not a valid .npy array ({error})") from None

    if dtype.hasobject:
        raise SignalError(
            "the .npy file holds Python objects (a pickled object array); for safety it is not "
            "loaded. Save a numeric array (float or int dtype) instead"
        )
    if dtype.names is not None or dtype.kind not in "biuf":
        raise SignalError(
            f"the .npy array has dtype {dtype}; only real numbers (bool, int, uint, float) are "
            "accepted" + (" - take the real part or the magnitude first" if dtype.kind == "c" else "")
        )
    _check_npy_shape(shape)
    expected_bytes = math.prod(shape) * dtype.itemsize
    available = len(data) - stream.tell()
    if available < expected_bytes:
        raise SignalError(
            f"the .npy file is truncated: its header declares shape {shape} ({expected_bytes} bytes) "
            f"but only {available} bytes of data follow"
        )

    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # corrupt data after a valid-looking header
        raise SignalError(f"the .npy file could not be read ({error})") from None
    if not isinstance(array, np.ndarray):
        raise SignalError("the file is not a single .npy array")

    note = ""
    if array.ndim == 2:
        note = f"squeezed array of shape {array.shape} to 1-D"
        array = array.reshape(-1)
    return ParsedSignal(values=array.astype(np.float64), note=note)


def _check_npy_shape(shape: tuple[int, ...]) -> None:
    expected = "a 1-D array is expected (or 2-D with one dimension of size 1)"
    if len(shape) == 0:
        raise SignalError(f"the .npy file holds a single number (shape ()); {expected}")
    if len(shape) == 2 and 1 not in shape:
        raise SignalError(f"the .npy array has shape {shape}; {expected}")
    if len(shape) > 2:
        raise SignalError(f"the .npy array has {len(shape)} dimensions, shape {shape}; {expected}")


# --- WAV -------------------------------------------------------------------------------------

_WAV_SCALE = {1: 2.0**7, 2: 2.0**15, 4: 2.0**31}
_WAV_DTYPE = {1: np.dtype("u1"), 2: np.dtype("<i2"), 4: np.dtype("<i4")}


def _parse_wav(data: bytes) -> ParsedSignal:
    try:
        reader = wave.open(io.BytesIO(data), "rb")
    except (wave.Error, EOFError, struct.error, ValueError, OSError) as error:
        reason = str(error) or "the header is incomplete"
        raise SignalError(
            f"the file is not a readable PCM WAV file ({reason}); only uncompressed integer PCM "
            "(8, 16 or 32 bit) is accepted"
        ) from None
    with reader:
        channels = reader.getnchannels()
        sample_width = reader.getsampwidth()
        rate = reader.getframerate()
        frames = reader.getnframes()
        if sample_width not in _WAV_DTYPE:
            raise SignalError(
                f"the WAV file has {8 * sample_width}-bit samples; accepted: 8, 16 or 32-bit PCM"
            )
        if not 1 <= rate <= MAX_WAV_SAMPLE_RATE:
            raise SignalError(
                f"the WAV header declares a sample rate of {rate} Hz; accepted: 1 to {MAX_WAV_SAMPLE_RATE} Hz"
            )
        # The data chunk size in the header is unverified: compare it with the bytes really present
        # before asking wave for them, so a forged size never drives an allocation.
        declared = frames * channels * sample_width
        if declared > len(data):
            raise SignalError(
                f"the WAV header declares {frames} frames ({declared} bytes) but the file has only "
                f"{len(data)} bytes; it is truncated or its header is corrupt"
            )
        try:
            raw = reader.readframes(frames)
        except (wave.Error, EOFError, struct.error, ValueError, OSError) as error:
            raise SignalError(f"the WAV sample data could not be read ({error})") from None
    if len(raw) != declared:
        raise SignalError(
            f"the WAV file is truncated: the header declares {frames} frames but only "
            f"{len(raw) // (channels * sample_width)} are present"
        )

    samples = np.frombuffer(raw, dtype=_WAV_DTYPE[sample_width]).astype(np.float64)
    if sample_width == 1:
        samples -= 128.0
    samples /= _WAV_SCALE[sample_width]
    notes = [f"{8 * sample_width}-bit WAV at {rate} Hz"]
    if channels > 1:
        samples = samples.reshape(frames, channels).mean(axis=1)
        notes.append(f"{'stereo' if channels == 2 else f'{channels}-channel'} WAV averaged to mono")
    return ParsedSignal(values=samples, sample_rate=rate, note="; ".join(notes))
