"""CSV / TXT uploads, read in time and memory linear in the file size.

The orientation is decided from the first lines alone: a table with at least as many data rows as
columns (a *tall* table, the usual CSV) holds one signal per column and goes through pandas' C
parser; a table with more columns than data rows (a *wide* table, e.g. a row vector saved by
``csvwrite``) holds one signal per row, and only those few lines are split (``csv`` module).
Either way numbers are converted by vectorised pandas calls, never cell by cell in Python.

Examples
--------
>>> parse_text(b"t,volts\\n0,0.5\\n1,0.25\\n", None).values
array([0., 1.])
>>> parse_text(b"1,2,3,4\\n", None).note
'one row of 4 numbers read as the signal'
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass

import numpy as np

from multires.data.uploads.checks import ParsedSignal, SignalError, decode_text
from multires.plaintext import quote

__all__ = ["parse_text"]

_DELIMITERS = (",", ";", "\t")
_NAN_WORDS = ("nan", "+nan", "-nan")  # parse as NaN: numbers, refused later as missing values
_CONTENT_LINE = re.compile(r"\S[^\r\n]*")  # a non-blank line, from its first non-space character
_WHITESPACE = re.compile(r"\s+")
_PREFIX = 4096  # characters of a long first line enough to recognise a header


@dataclass(frozen=True)
class _Series:
    """One candidate signal of a table (a column, or a row of a wide table)."""

    name: str
    values: np.ndarray  # float64; NaN where a cell is empty, "nan" or text
    first_text: str | None  # where its first text cell is, e.g. "'x' on line 5"; None if all numbers
    has_number: bool


def parse_text(data: bytes, column: str | None) -> ParsedSignal:
    """Read delimited text as a signal (see :func:`multires.data.uploads.parse_upload` for the rules).

    Raises
    ------
    SignalError
        Not UTF-8, empty, no data rows, no numeric column/row, the chosen one holding text, an
        unknown ``column``, or text pandas cannot split into a table.
    """
    text = decode_text(data)
    first = _CONTENT_LINE.search(text)
    if first is None:
        raise SignalError("the file is empty (no text in it)")
    delimiter = _sniff_delimiter(first.group())
    has_header, n_fields, first_row = _first_line(first.group(), delimiter)
    data_start = first.end() if has_header else first.start()
    # Enough lines to tell a wide table (fewer data rows than columns) from a tall one.
    head = [m.group() for m in itertools.islice(_CONTENT_LINE.finditer(text, data_start), n_fields + 1)]
    if not head:
        raise SignalError("the file has only a header row and no data rows")
    if n_fields > 1 and len(head) < n_fields:
        return _parse_rows(head, delimiter, has_header, column, None if has_header else first_row)
    if first_row is None:  # a tall table: as many rows as columns at least, so this line is short
        first_row = _row(first.group(), delimiter)
    names = [f"column {i + 1}" if cell is None or cell != cell or not str(cell).strip() else str(cell).strip()
             for i, cell in enumerate(first_row.tolist())] if has_header else []
    series = _columns(text[data_start:], delimiter, names, first_line=2 if has_header else 1)
    return _choose(series, column, "column", has_header)


def _first_line(line: str, delimiter: str | None) -> tuple[bool, int, object]:
    """(has a header, number of fields, the line read by :func:`_row` or ``None``).

    A long header (e.g. 200000 column names) is recognised from its first few kilobytes, and its
    fields counted, without reading every name.
    """
    if delimiter is not None and '"' not in line and len(line) > _PREFIX:
        cells = line[:_PREFIX].split(delimiter)[:-1]  # the last cell may be cut short
        if _numbers(cells)[1].any():
            return True, line.count(delimiter) + 1, None
    row = _row(line, delimiter)  # read like a column: no Python object per number
    has_header = row.dtype.kind not in "iuf" and _series("", row, str).first_text is not None
    return has_header, row.size, row


def _sniff_delimiter(line: str) -> str | None:
    """The first of ``,`` ``;`` tab found in the line, else ``None`` (runs of whitespace)."""
    return next((d for d in _DELIMITERS if d in line), None)


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
    except (csv.Error, StopIteration) as error:
        raise SignalError(f"the file could not be read as delimited text: {error}") from None


def _numbers(cells) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised: the cells as float64 (NaN for empty, "nan" and text) and a mask of text cells."""
    import pandas as pd  # only text uploads need it (0.3 s to import): the built-in signals do not

    series = pd.Series(cells, dtype=object)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    is_text = np.zeros(values.size, dtype=bool)
    if missing.any():
        unread = series[missing].astype("string").str.strip()
        text = unread.notna() & (unread != "") & ~unread.str.lower().isin(_NAN_WORDS)
        is_text[missing] = text.fillna(False).to_numpy(dtype=bool)
    return values, is_text


def _parse_rows(lines: list[str], delimiter: str | None, has_header: bool, row: str | None,
                first_row=None) -> ParsedSignal:
    """A wide table: each data line is a signal (a single line is *the* signal); ``first_row`` is
    the first line already read by :func:`_row`, if it is a data line."""
    series = [_series(f"row {index + 1}", first_row if index == 0 and first_row is not None else _row(line, delimiter),
                      lambda at: f"in field {at + 1}")
              for index, line in enumerate(lines)]
    if len(series) == 1:
        only = series[0]
        if only.first_text is not None:
            raise SignalError(f"the data row holds text values, e.g. {only.first_text}; every value must be a number")
        note = f"one row of {only.values.size} numbers read as the signal"
        return ParsedSignal(values=only.values, note=note + ("; skipped the header row" if has_header else ""))
    parsed = _choose(series, row, "row", has_header=False)
    note = f"{len(series)} rows of numbers (more columns than rows: each row is a signal); " + parsed.note
    return ParsedSignal(values=parsed.values, columns=parsed.columns, column=parsed.column,
                        note=note + ("; skipped the header row" if has_header else ""), axis="row")


def _row(line: str, delimiter: str | None):
    """The cells of one line as a column (numbers parsed by the C parser, text kept as strings)."""
    return _read_table(_transpose(line, delimiter), delimiter, keep_blank=True).iloc[:, 0]


def _transpose(line: str, delimiter: str | None) -> str:
    """One line of cells as one cell per line, so the C parser reads a row like a column."""
    if delimiter is None:
        return _WHITESPACE.sub("\n", line.strip())
    if '"' not in line:
        return line.replace(delimiter, "\n")
    buffer = io.StringIO()  # quoted cells may hold the delimiter: let the csv module split them
    csv.writer(buffer, lineterminator="\n").writerows([cell] for cell in _split(line, delimiter))
    return buffer.getvalue()


def _read_table(body: str, delimiter: str | None, keep_blank: bool = False):
    """``body`` as a DataFrame: numeric columns as numbers (C parser), others as strings."""
    import pandas as pd  # on first use, as in _numbers

    if delimiter is None and not keep_blank:
        options = {"sep": r"\s+"}
    else:  # a transposed row (keep_blank) holds no whitespace if it was whitespace-delimited
        options = {"sep": delimiter or "\t", "skipinitialspace": True}
    try:
        return pd.read_csv(io.StringIO(body), header=None, engine="c", keep_default_na=False, na_values=[""],
                           skip_blank_lines=not keep_blank, float_precision="round_trip", low_memory=False,
                           **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as error:
        raise SignalError(f"the file could not be read as delimited text: {error}") from None


def _columns(body: str, delimiter: str | None, names: list[str], first_line: int) -> list[_Series]:
    """A tall table: one signal per column, text located by its line."""
    table = _read_table(body, delimiter)
    names = (names + [f"column {i + 1}" for i in range(len(names), table.shape[1])])[: table.shape[1]]
    return [_series(name, table.iloc[:, position], lambda at: f"on line {first_line + at}")
            for position, name in enumerate(_deduplicate(names))]


def _series(name: str, cells, where) -> _Series:
    """Classify one column of a table read by :func:`_read_table` (vectorised)."""
    if cells.dtype.kind in "iuf":
        values = cells.to_numpy(dtype=np.float64)
        return _Series(name, values, None, not bool(np.isnan(values).all()))
    if cells.dtype.kind == "b":  # True/False: words, not numbers
        values, is_text = np.full(cells.size, np.nan), np.ones(cells.size, dtype=bool)
    else:
        values, is_text = _numbers(cells.astype(object))
    first_text = None
    if is_text.any():
        at = int(np.argmax(is_text))
        first_text = f"{quote(str(cells.iloc[at]).strip())} {where(at)}"
    return _Series(name, values, first_text, bool((~is_text & cells.notna().to_numpy(bool)).any()))


def _choose(series: list[_Series], chosen: str | None, axis: str, has_header: bool) -> ParsedSignal:
    """Pick the requested (or first usable) column/row; refuse text in it with its location."""
    names = [s.name for s in series]
    numeric = [s.name for s in series if s.first_text is None]
    text_only = [s.name for s in series if not s.has_number]
    listed = ", ".join(repr(n) for n in numeric) or "none"
    if chosen is None:
        candidates = [s for s in series if s.has_number]
        if not candidates:
            raise SignalError(f"no {axis} holds numbers (found {len(names)} {axis}(s) of text: "
                              f"{', '.join(repr(n) for n in names[:5])}{', ...' if len(names) > 5 else ''})")
        pick = candidates[0]
    else:
        if chosen not in names:
            raise SignalError(f"there is no {axis} {quote(chosen)} in the file; numeric {axis}s: {listed}")
        pick = series[names.index(chosen)]
    if not pick.has_number:
        raise SignalError(f"{axis} {quote(pick.name)} holds text, not numbers; numeric {axis}s: {listed}")
    if pick.first_text is not None:
        raise SignalError(f"{axis} {quote(pick.name)} holds text values, e.g. {pick.first_text}; every value must be a number")

    label = f"{axis} {quote(pick.name)}" if has_header else pick.name
    note = ("no header row; " if axis == "column" and not has_header else "") + f"used {label}"
    if len(numeric) > 1:
        note += f" of {len(numeric)} numeric {axis}s"
    skipped = [n for n in names if n in text_only or (n not in numeric and n != pick.name)]
    if skipped:
        shown = ", ".join(repr(n) for n in skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        note += f"; skipped non-numeric {axis}(s) {shown}"
    return ParsedSignal(values=pick.values, columns=tuple(numeric), column=pick.name, note=note, axis=axis)


def _deduplicate(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique
