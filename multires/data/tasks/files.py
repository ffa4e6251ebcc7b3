"""Datasets from UCR-format files: ``.tsv`` / ``.csv`` / ``.txt`` (label first) and aeon ``.ts``.

Everything is parsed from bytes (an upload's ``getvalue()``), never written to disk. Files are
untrusted: the size is checked before anything is parsed (:data:`~multires.options.MAX_UPLOAD_BYTES`,
5 MB), text must be UTF-8, and counts are bounded (at most
:data:`~multires.options.MAX_DATASET_SERIES` series of at most
:data:`~multires.options.MAX_SIGNAL_LENGTH` values). Every problem raises
:class:`~multires.data.tasks.DatasetError` with a message that names the file, the line and what to do.

* ``.tsv`` / ``.csv`` / ``.txt`` — the UCR archive's own layout: one series per line, the class
  label first, then the values, separated by tabs, commas or spaces (taken from the first line).
  No header row.
* ``.ts`` — aeon / sktime format: ``@`` header lines (``@classLabel true ...`` required,
  ``@timeStamps true`` not supported), then after ``@data`` one series per line,
  ``v1,v2,...:label``, channels separated by ``:`` (multivariate files give several channels).
  Parsed here with the same checks as the text files: aeon's reader only reads paths, and
  writing an upload to a temporary file is what this module avoids.

Examples
--------
>>> X, y = parse_ucr_file(b"1\\t0.5\\t1.5\\t2.5\\n2\\t3.0\\t2.0\\t1.0\\n", "toy_TRAIN.tsv")
>>> X.shape, y.tolist()
((2, 1, 3), ['1', '2'])
>>> X, y = parse_ucr_file(b"@classLabel true a b\\n@data\\n1,2,3:a\\n3,2,1:b\\n", "toy.ts")
>>> X[1, 0].tolist(), y.tolist()
([3.0, 2.0, 1.0], ['a', 'b'])
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from multires.data.tasks.arrays import from_arrays
from multires.data.tasks.base import DatasetError, TaskData
from multires.data.uploads.checks import check_upload_bytes, decode_text, upload_too_large_message
from multires.options import MAX_DATASET_SERIES, MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES, Normalization
from multires.plaintext import quote

__all__ = [
    "DATASET_EXTENSIONS",
    "parse_ucr_file",
    "task_from_files",
    "task_from_paths",
]

DATASET_EXTENSIONS = (".tsv", ".csv", ".txt", ".ts")
"""File endings accepted for UCR-format dataset files (case-insensitive)."""

_HINT = "save it as UTF-8 text in the UCR layout (.tsv/.csv, label first) or as an aeon .ts file"


def parse_ucr_file(data: bytes, filename: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCR-format file (train or test) into series and labels.

    Parameters
    ----------
    data : bytes
        The raw file content, at most 5 MB.
    filename : str
        Its ending picks the format: ``.tsv`` / ``.csv`` / ``.txt`` or ``.ts``.

    Returns
    -------
    tuple of numpy.ndarray
        ``X`` float64 ``(n, channels, length)`` (channels is 1 except for multivariate ``.ts``)
        and ``y``, the labels as strings ``(n,)``.

    Raises
    ------
    DatasetError
        For an unsupported type, an empty, oversized or binary file, rows of different lengths,
        a value that is not a number, NaN/missing or infinite values, too many series or values.
    """
    data, extension = check_upload_bytes(data, filename, DATASET_EXTENSIONS, error=DatasetError)
    text = decode_text(data, error=DatasetError, hint=_HINT)
    if "\x00" in text:
        raise DatasetError(
            f"the file is binary, not text (NUL byte at position {text.index(chr(0))}); {_HINT}"
        )
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    data_lines = sum(1 for _, line in lines if line and line[0] not in "@#")  # before parsing any value
    if data_lines > MAX_DATASET_SERIES:
        raise DatasetError(f"the file has {data_lines} series; at most {MAX_DATASET_SERIES} are accepted")
    if extension == ".ts":
        rows = _ts_rows(lines)
    else:
        rows = _delimited_rows([(n, line) for n, line in lines if line])
    if not rows:
        raise DatasetError("the file has no data rows (one series per line, the label first)")
    if len(rows) > MAX_DATASET_SERIES:
        raise DatasetError(f"the file has {len(rows)} series; at most {MAX_DATASET_SERIES} are accepted")
    return _to_arrays(rows)


# A row: (line number, label, one list of value strings per channel).
_Row = tuple[int, str, list[list[str]]]


def _delimited_rows(lines: list[tuple[int, str]]) -> list[_Row]:
    first = lines[0][1] if lines else ""
    delimiter = "\t" if "\t" in first else "," if "," in first else None
    rows = []
    for number, line in lines:
        cells = [c.strip() for c in (line.split(delimiter) if delimiter else line.split())]
        if len(cells) < 2:
            raise DatasetError(
                f"line {number} has a label but no values ({line[:40]!r}); every line is a label "
                "followed by the series' values"
            )
        rows.append((number, cells[0], [cells[1:]]))
    return rows


def _ts_rows(lines: list[tuple[int, str]]) -> list[_Row]:
    header: dict[str, str] = {}
    body: list[tuple[int, str]] | None = None
    for position, (number, line) in enumerate(lines):
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DatasetError(f"line {number} comes before the @data line of the .ts header: {line[:40]!r}")
        key, _, value = line[1:].partition(" ")
        if key.lower() == "data":
            body = [(n, text) for n, text in lines[position + 1 :] if text and not text.startswith("#")]
            break
        header[key.lower()] = re.sub(r"\s+", " ", value.strip().lower())
    if body is None:
        raise DatasetError(
            "the .ts file has no @data line; see aeon's .ts format (header, @data, one series per line)"
        )
    if not header.get("classlabel", "").startswith("true"):
        raise DatasetError(
            "the .ts file has no class labels (@classLabel true ... is required for classification)"
        )
    if header.get("timestamps", "false") != "false":
        raise DatasetError("time-stamped .ts files (@timeStamps true) are not supported; save plain values")
    rows = []
    for number, line in body:
        *channels, label = line.split(":")
        if not channels:
            raise DatasetError(f"line {number} has no ':' before its label; .ts rows are 'v1,v2,...:label'")
        rows.append((number, label.strip(), [[v.strip() for v in c.split(",")] for c in channels]))
    return rows


def _to_arrays(rows: list[_Row]) -> tuple[np.ndarray, np.ndarray]:
    first_line, _, first_channels = rows[0]
    n_channels, length = len(first_channels), len(first_channels[0])
    if length > MAX_SIGNAL_LENGTH:
        raise DatasetError(
            f"line {first_line} has {length} values; at most {MAX_SIGNAL_LENGTH} per series are accepted"
        )
    X = np.empty((len(rows), n_channels, length))
    for index, (number, label, channels) in enumerate(rows):
        if not label:
            raise DatasetError(f"line {number} has an empty label; every series needs its class label")
        if len(channels) != n_channels:
            raise DatasetError(
                f"line {number} has {len(channels)} channel(s) but line {first_line} has {n_channels}; "
                "all series must have the same channels"
            )
        for channel, values in enumerate(channels):
            if len(values) != length:
                raise DatasetError(
                    f"rows have different lengths: line {number} has {len(values)} values but line "
                    f"{first_line} has {length}; all series must have the same length (pad or resample them)"
                )
            X[index, channel] = _numbers(values, number)
    return X, np.array([label for _, label, _ in rows], dtype=str)


def _numbers(values: list[str], line: int) -> np.ndarray:
    try:
        if any("_" in v for v in values):  # float() accepts "1_000"; CSV readers do not
            raise ValueError
        numbers = np.array([float(v) for v in values])
    except ValueError:
        column = next(i for i, v in enumerate(values) if not _is_float(v))
        if not values[column]:
            raise DatasetError(
                f"line {line}, value {column + 1} is empty (a missing value); "
                "fill or drop missing values first"
            ) from None
        raise DatasetError(
            f"line {line}, value {column + 1}: {values[column][:30]!r} is not a number; "
            "every value after the label must be a number (no header row)"
        ) from None
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        raise DatasetError(
            f"line {line}, value {bad[0] + 1} is {quote(values[bad[0]])}: "
            "missing (NaN) and infinite values are not accepted; fill or drop them first"
        )
    return numbers


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def _stem(filename: str) -> str:
    stem = Path(filename).name.rsplit(".", 1)[0]
    return re.sub(r"[_\-. ]?(train|test)$", "", stem, flags=re.IGNORECASE) or stem


def task_from_files(
    train_bytes: bytes,
    train_name: str,
    test_bytes: bytes,
    test_name: str,
    seed: int = 0,
    *,
    val_fraction: float = 0.2,
    normalize: Normalization = "series",
    name: str | None = None,
) -> TaskData:
    """A classification task from a UCR-format train file and test file (e.g. two uploads).

    Both files are parsed with :func:`parse_ucr_file`, then :func:`~multires.data.tasks.from_arrays`
    keeps the test file as the test split and carves the validation split from the train file.

    Parameters
    ----------
    train_bytes, test_bytes : bytes
        File contents.
    train_name, test_name : str
        File names (their endings pick the formats; they may differ).
    seed : int, default 0
        Seed of the validation split.
    val_fraction : float, default 0.2
        Share of each training class held out for validation.
    normalize : {"series", "global", "none"}, default "series"
        As in :func:`~multires.data.tasks.from_arrays`.
    name : str, optional
        Task name; default the train file's name without ``_TRAIN`` and extension.

    Returns
    -------
    TaskData

    Raises
    ------
    DatasetError
        Any problem with either file (the message says which file), a single class in the train
        file, a test class absent from training, train and test lengths that differ, too few
        training series for a validation split.

    Examples
    --------
    >>> train = b"".join(b"%d,%d,%d,%d\\n" % (c, c, -c, c) for c in (1, 2) * 5)
    >>> task = task_from_files(train, "Toy_TRAIN.csv", b"1,0,1,2\\n2,2,1,0\\n", "Toy_TEST.csv")
    >>> task.name, task.class_names, len(task.y_train), len(task.y_val), len(task.y_test)
    ('Toy', ('1', '2'), 8, 2, 2)
    """
    parsed = {}
    for role, data, filename in (("train", train_bytes, train_name), ("test", test_bytes, test_name)):
        try:
            parsed[role] = parse_ucr_file(data, filename)
        except DatasetError as error:
            raise DatasetError(f"{role} file {quote(filename)}: {error}") from None
    task = from_arrays(
        name or _stem(train_name),
        *parsed["train"],
        *parsed["test"],
        val_fraction=val_fraction,
        normalize=normalize,
        seed=seed,
        source=f"user files {quote(train_name)} (train) and {quote(test_name)} (test)",
    )
    if bytes(train_bytes) == bytes(test_bytes):  # said, not refused: a user may do it on purpose
        task = dataclasses.replace(task, notes=(*task.notes, SAME_FILES_NOTE))
    return task


#: The note a task gets when its train and test files hold the same bytes.
SAME_FILES_NOTE = ("The train and test files are the same file: the test score will measure how well the model "
                   "remembers its training series, not how it does on new ones.")


def task_from_paths(
    spec: str, seed: int = 0, *, val_fraction: float = 0.2, normalize: Normalization = "series"
) -> TaskData:
    """The task named ``"TRAIN.tsv,TEST.tsv"``: two UCR-format files on disk, joined by a comma.

    Each file's size is checked before it is read; then as :func:`task_from_files`, with the
    whole ``spec`` as the task name.

    Raises
    ------
    DatasetError
        If ``spec`` is not two comma-separated paths, a file is missing or too large, or as
        :func:`task_from_files`.
    """
    paths = [p.strip() for p in spec.split(",")]
    if len(paths) != 2 or not all(paths):
        raise DatasetError(f"expected two files joined by a comma, 'TRAIN.tsv,TEST.tsv', got {quote(spec)}")
    contents = []
    for path in paths:
        if not os.path.isfile(path):
            raise DatasetError(f"no such file: {quote(path)}")
        if os.path.getsize(path) > MAX_UPLOAD_BYTES:
            raise DatasetError(f"{quote(path)}: {upload_too_large_message(os.path.getsize(path))}")
        contents.append(Path(path).read_bytes())
    return task_from_files(
        contents[0],
        paths[0],
        contents[1],
        paths[1],
        seed,
        val_fraction=val_fraction,
        normalize=normalize,
        name=spec,
    )
