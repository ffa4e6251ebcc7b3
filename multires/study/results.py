"""The results table of a study: one row per trial, read, validated, written, summarised.

Columns: every :class:`~multires.study.grid.TrialSpec` field, then ``key`` (the spec's hash),
``init`` (its :func:`~multires.study.grid.init_label`), ``status``, ``error``, the scores and the
memory counts of :func:`~multires.study.trial.run_trial`, and ``r2_lag_<tau>`` per lag for the
memory task. pandas reads it in one line: ``pd.read_csv("results.csv")``.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"x": [1, 2, 3, 4], "score": [0.5, 0.4, 0.8, 0.9]})
>>> pareto_front(table, "x", "score")["x"].tolist()  # x=2 is beaten by x=1 (fewer slots, better)
[1, 3, 4]
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from ..options import BudgetAxis
from ..plaintext import quote
from .parquet_layout import layout_problem

__all__ = [
    "REQUIRED_COLUMNS", "BUDGET_COLUMNS", "BASELINE_COLUMNS", "ForgedParquetError", "StudyResultsError",
    "baseline_levels",
    "pareto_front", "read_baselines", "read_results", "summarise", "write_results",
]

#: Columns every results table must have (the Study page draws from these).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "key", "task", "tree_select", "memory_size", "wavelet", "freeze_filters", "init", "d_model", "seed",
    "status", "metric_name", "test_score", "slots_per_channel", "distinct_slots_mean", "distinct_slots_max",
    "n_parameters", "train_time_s",
)
#: Columns of a baselines table (``assets/studies/baselines.csv``, written by ``benchmarks/bench_real.py``):
#: one row per task, method ("MiniRocket", "1-NN DTW") and seed.
BASELINE_COLUMNS: tuple[str, ...] = ("task", "method", "seed", "accuracy", "fit_s", "predict_s", "n_train", "n_test",
                                     "window")
BUDGET_COLUMNS: dict[str, str] = {"distinct": "distinct_slots_mean", "per_channel": "slots_per_channel"}
#: Largest results file the reader accepts (a study of thousands of trials is a few MB).
MAX_BYTES = 50 * 2**20
#: Most rows (trials) a results table may hold: checked before any cell is materialised (Parquet's
#: metadata, CSV's line breaks), since 5 M identical rows compress to a 230 KB Parquet file.
MAX_ROWS = 100_000
#: Most columns (a study writes about 40, plus one per recall lag).
MAX_COLUMNS = 256
#: Most cells (rows x columns): about 32 MB of numbers (the largest table of MAX_ROWS trials of a
#: study's ~40 columns fits).
MAX_CELLS = 4_000_000
#: Most text, in bytes, all text cells together may decode to (a Parquet dictionary can repeat one
#: long string in every row at almost no cost in the file).
MAX_TEXT_BYTES = MAX_BYTES
#: Longest text cell (an error message is a few hundred characters).
MAX_CELL_CHARS = 100_000


class StudyResultsError(ValueError):
    """A file is not a study results table; the message says what is wrong and what is expected."""


class ForgedParquetError(StudyResultsError):
    """A Parquet file whose footer disagrees with its own bytes (rows, sizes, row groups, pages): refused
    before any page is decompressed, since the footer's numbers are what the other bounds trust."""


def read_results(source: str | Path | IO[bytes] | bytes) -> pd.DataFrame:
    """Read and validate a results table (CSV or Parquet, by content, not by name).

    Parameters
    ----------
    source : path, bytes or binary file object
        A ``results.csv`` / ``results.parquet`` written by :func:`write_results` (or an upload).

    Returns
    -------
    pandas.DataFrame
        The table, with ``wavelet`` as text (``None`` for random filters), ``freeze_filters`` as
        bool and the scores as floats.

    Raises
    ------
    StudyResultsError
        If the file is empty, too large, not CSV/Parquet, misses required columns, or has
        non-numeric scores.
    """
    data = _read_bytes(source)
    if not data.strip():
        raise StudyResultsError("the results file is empty; expected a CSV or Parquet table written by multires.study")
    if len(data) > MAX_BYTES:
        raise StudyResultsError(f"the results file is {len(data) / 2**20:.1f} MB; at most {MAX_BYTES // 2**20} MB")
    table = _read_parquet(data) if data[:4] == b"PAR1" else _read_csv(data)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise StudyResultsError(
            f"not a study results table: missing column(s) {', '.join(missing)}; "
            "expected the results.csv or results.parquet that `python -m multires.study` writes"
        )
    return _normalise(table)


def _read_bytes(source: str | Path | IO[bytes] | bytes) -> bytes:
    """The file's bytes, at most ``MAX_BYTES + 1`` of them (enough to tell it is too large)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        with open(source, "rb") as file:
            return file.read(MAX_BYTES + 1)
    return source.read(MAX_BYTES + 1)


def _check_shape(rows: int, columns: int, counted: str) -> None:
    """Refuse a table of more rows, columns or cells than the bounds, before it is materialised."""
    if rows > MAX_ROWS:
        raise StudyResultsError(f"the results file holds {rows:,} {counted}; at most {MAX_ROWS:,} trials are read")
    if columns > MAX_COLUMNS:
        raise StudyResultsError(f"the results file has {columns:,} columns; at most {MAX_COLUMNS} are read")
    if rows * columns > MAX_CELLS:
        raise StudyResultsError(f"the results file holds {rows:,} rows of {columns} columns ({rows * columns:,} "
                                f"cells); at most {MAX_CELLS:,} cells are read")


def _read_csv(data: bytes) -> pd.DataFrame:
    """A CSV table, its rows (line breaks) and columns (the header's commas) bounded on the raw bytes first."""
    breaks = max(data.count(b"\n"), data.count(b"\r"))  # pandas also ends lines at a lone \r
    header = data.split(b"\n", 1)[0].split(b"\r", 1)[0]
    _check_shape(breaks + 1, header.count(b",") + 1, "lines")
    try:
        return pd.read_csv(io.BytesIO(data))
    except Exception as err:  # pandas raises many types for a malformed file
        raise StudyResultsError(f"could not read the file as CSV ({type(err).__name__}: {_short(err)})") from None


def _short(err: BaseException, limit: int = 200) -> str:
    text = str(err)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_parquet(data: bytes) -> pd.DataFrame:
    """A Parquet table, bounded by its metadata (rows, columns, sizes) and its decoded text before pandas sees it."""
    import pyarrow as pa  # pyarrow is optional (the study extra): only Parquet tables need it
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for a malformed file
        raise StudyResultsError(f"could not read the file as Parquet ({type(err).__name__}: {_short(err)})") from None
    _check_shape(meta.num_rows, max(meta.num_columns, len(schema)), "rows")
    for field in schema:
        kind = _value_type(field.type)
        if not (pa.types.is_null(kind) or pa.types.is_boolean(kind) or pa.types.is_integer(kind)
                or pa.types.is_floating(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise StudyResultsError(f"column {quote(_short(field.name, 60))} holds {_describe(kind)}; a results table "
                                    "holds only numbers, true/false and text")
    # linear in the file's bytes; makes the footer's numbers trustworthy (its columns are flat by now)
    problem = layout_problem(data, meta)
    if problem is not None:
        raise ForgedParquetError(f"the Parquet file does not match its own description ({problem}); it is corrupted "
                                 "or forged, so it is not read")
    unpacked = sum(meta.row_group(g).column(c).total_uncompressed_size
                   for g in range(meta.num_row_groups) for c in range(meta.row_group(g).num_columns))
    if unpacked > MAX_BYTES:
        raise StudyResultsError(f"the results file unpacks to {unpacked / 2**20:.0f} MB; at most "
                                f"{MAX_BYTES // 2**20} MB are read")
    text_columns = [f.name for f in schema if pa.types.is_string(_value_type(f.type))
                    or pa.types.is_large_string(_value_type(f.type))]
    try:  # text stays dictionary-encoded (each distinct string once) until its decoded size is known
        table = pq.ParquetFile(io.BytesIO(data), read_dictionary=text_columns).read()
    except Exception as err:
        raise StudyResultsError(f"could not read the file as Parquet ({type(err).__name__}: {_short(err)})") from None
    if table.num_rows != meta.num_rows:
        raise StudyResultsError("the Parquet file's row count does not match its data: corrupted file")
    total, columns = 0, {}
    for name in table.column_names:
        column = table.column(name)
        if name in text_columns:
            for chunk in column.chunks:
                lengths = (pc.take(pc.binary_length(chunk.dictionary), chunk.indices)
                           if pa.types.is_dictionary(chunk.type) else pc.binary_length(chunk))
                longest = pc.max(lengths).as_py() or 0
                if longest > MAX_CELL_CHARS:
                    raise StudyResultsError(f"column {quote(_short(name, 60))} holds a text of {longest:,} bytes; "
                                            f"at most {MAX_CELL_CHARS:,} per cell")
                total += pc.sum(lengths).as_py() or 0
                if total > MAX_TEXT_BYTES:
                    raise StudyResultsError(f"the table's text decodes to more than {MAX_TEXT_BYTES // 2**20} MB; "
                                            f"at most {MAX_TEXT_BYTES // 2**20} MB are read")
        if pa.types.is_dictionary(column.type):  # bounded now: decode
            column = pc.cast(column, column.type.value_type)
        columns[name] = column
    return pa.table(columns).to_pandas()


def _value_type(kind):
    """A dictionary column's value type, else the type itself."""
    import pyarrow as pa  # optional, as in _read_parquet

    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _describe(kind) -> str:
    import pyarrow as pa  # optional, as in _read_parquet

    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return "records (key: value pairs) in its cells"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "lists in its cells"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        return "raw bytes in its cells"
    return f"values of type {kind}"


#: The schema every results table is checked against once, when it is read: text columns that must
#: name something in every row, text that may be empty, numbers (whole numbers where noted) and their
#: least values. Pages and figures then never meet an empty task, a str/float mix or an ``inf`` width.
TEXT_COLUMNS: tuple[str, ...] = ("task", "tree_select", "init", "status")
OPTIONAL_TEXT_COLUMNS: tuple[str, ...] = ("key", "wavelet", "metric_name", "error")
#: column -> (whole number?, least value or None, required in every row?)
NUMBER_COLUMNS: dict[str, tuple[bool, float | None, bool]] = {
    "d_model": (True, 1, True), "seed": (True, 0, True), "memory_size": (True, 0, False),
    "test_score": (False, None, False), "slots_per_channel": (False, 0, False),
    "distinct_slots_mean": (False, 0, False), "distinct_slots_max": (False, 0, False),
    "n_parameters": (False, 0, False), "train_time_s": (False, 0, False),
}
#: Largest value a whole-number column may hold (a width, seed or memory size far beyond any study).
MAX_WHOLE = 2**31


def _where(table: pd.DataFrame, bad: pd.Series) -> str:
    """``row N`` (1 = the first row under the header) of the first True in ``bad``."""
    return f"row {int(np.flatnonzero(bad.to_numpy())[0]) + 1}"


def _normalise(table: pd.DataFrame) -> pd.DataFrame:
    """Check ``table`` against the schema (TEXT_COLUMNS, NUMBER_COLUMNS, freeze_filters) and give each
    column one type; the first bad cell is named in words."""
    table = table.reset_index(drop=True).copy()
    for col in (*TEXT_COLUMNS, *OPTIONAL_TEXT_COLUMNS):
        if col not in table:
            continue
        values = table[col].astype(object)
        missing = values.isna() | values.map(lambda v: isinstance(v, str) and not v.strip())
        kinds = missing | values.map(lambda v: isinstance(v, (str, int, float, bool, np.integer, np.floating,
                                                               np.bool_)))
        if not kinds.all():
            raise StudyResultsError(f"column {quote(col)} must hold text; {_where(table, ~kinds)} holds "
                                    f"{type(values[~kinds].iloc[0]).__name__} value {quote(values[~kinds].iloc[0])}")
        if col in TEXT_COLUMNS and missing.any():
            raise StudyResultsError(f"column {quote(col)} must name something in every row; {_where(table, missing)} "
                                    "is empty")
        table[col] = values.map(str).where(~missing, None).astype(object)
    for col, (whole, least, required) in NUMBER_COLUMNS.items():
        if col not in table:
            continue
        raw = table[col]
        if raw.dtype == bool or raw.map(lambda v: isinstance(v, (bool, np.bool_))).any():
            raise StudyResultsError(f"column {quote(col)} must be numeric; it holds true/false values")
        converted = pd.to_numeric(raw, errors="coerce").astype(float)
        empty = raw.isna() | raw.map(lambda v: isinstance(v, str) and not v.strip())
        bad = converted.isna() & ~empty
        if bad.any():
            raise StudyResultsError(f"column {quote(col)} must be numeric; {_where(table, bad)} holds "
                                    f"{quote(raw[bad].iloc[0])}")
        finite = np.isfinite(converted.to_numpy())
        if (~finite & ~empty.to_numpy()).any():
            raise StudyResultsError(f"column {quote(col)} must hold finite numbers; {_where(table, pd.Series(~finite & ~empty.to_numpy()))} "
                                    f"holds {quote(raw[~finite & ~empty.to_numpy()].iloc[0])}")
        if required and empty.any():
            raise StudyResultsError(f"column {quote(col)} must hold a number in every row; {_where(table, empty)} is empty")
        values = converted.to_numpy()
        present = ~np.isnan(values)
        if whole and (np.abs(values[present]) > MAX_WHOLE).any():
            row = pd.Series(present & (np.abs(np.nan_to_num(values)) > MAX_WHOLE))
            raise StudyResultsError(f"column {quote(col)} holds {quote(raw[row.to_numpy()].iloc[0])} at {_where(table, row)}; "
                                    f"at most {MAX_WHOLE:,}")
        if whole and (values[present] != np.round(values[present])).any():
            row = pd.Series(present & (values != np.round(np.nan_to_num(values))))
            raise StudyResultsError(f"column {quote(col)} must hold whole numbers; {_where(table, row)} holds "
                                    f"{quote(raw[row.to_numpy()].iloc[0])}")
        if least is not None and (values[present] < least).any():
            row = pd.Series(present & (np.nan_to_num(values, nan=least) < least))
            raise StudyResultsError(f"column {quote(col)} must be at least {least}; {_where(table, row)} holds "
                                    f"{quote(raw[row.to_numpy()].iloc[0])}")
        table[col] = converted
    table["d_model"] = table["d_model"].astype(np.int64)
    table["seed"] = table["seed"].astype(np.int64)
    table["freeze_filters"] = table["freeze_filters"].map(
        lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else str(v).strip().lower() in ("true", "1", "1.0"))
    return table


def write_results(table: pd.DataFrame, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``table`` as ``results.csv`` and ``results.parquet`` in ``out_dir`` (atomically)."""
    out = Path(out_dir)
    if "memory_size" in table:  # integers with gaps (fading has no budget), not floats
        table = table.assign(memory_size=pd.to_numeric(table["memory_size"]).astype("Int64"))
    out.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out / "results.csv", out / "results.parquet"
    for path, writer in ((csv_path, lambda p: table.to_csv(p, index=False)),
                         (parquet_path, lambda p: table.to_parquet(p, index=False))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        writer(tmp)
        tmp.replace(path)
    return csv_path, parquet_path


def summarise(table: pd.DataFrame, by: tuple[str, ...] = ("task", "tree_select", "memory_size", "init", "d_model"),
              budget: BudgetAxis = "distinct") -> pd.DataFrame:
    """Mean, min and max test score over seeds per setting (finished trials only), plus the budget.

    Examples
    --------
    >>> t = pd.DataFrame({"task": ["a"] * 2, "tree_select": ["fading"] * 2, "memory_size": [None] * 2,
    ...                   "init": ["frozen haar"] * 2, "d_model": [4, 4], "status": ["ok", "ok"],
    ...                   "test_score": [0.5, 0.7], "distinct_slots_mean": [7.0, 7.0]})
    >>> row = summarise(t).iloc[0]
    >>> float(row["mean"]), float(row["min"]), float(row["max"]), float(row["budget"]), int(row["seeds"])
    (0.6, 0.5, 0.7, 7.0, 2)
    """
    if budget not in BUDGET_COLUMNS:
        raise ValueError(f"budget must be one of {list(BUDGET_COLUMNS)}, got {quote(budget)}")
    done = table[table["status"] == "ok"]
    grouped = done.groupby(list(by), dropna=False)
    out = grouped["test_score"].agg(["mean", "min", "max"])
    out["budget"] = grouped[BUDGET_COLUMNS[budget]].mean()
    out["seeds"] = grouped["test_score"].count()
    return out.reset_index()


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated by another (smaller or equal ``x`` and larger ``y``), sorted by ``x``.

    Fewer memory slots (``x``) and a higher score (``y``) are both better. Ties in ``x`` keep
    the best ``y`` only.
    """
    ordered = points.sort_values([x, y], ascending=[True, False])
    keep: list[Any] = []
    best = float("-inf")
    for index, value in zip(ordered.index, ordered[y]):
        if value > best:
            keep.append(index)
            best = value
    return ordered.loc[keep]


def read_baselines(source: str | Path | IO[bytes] | bytes) -> pd.DataFrame:
    """Read a baselines table (CSV with :data:`BASELINE_COLUMNS`); ``StudyResultsError`` if it is not one."""
    data = _read_bytes(source)
    try:
        table = pd.read_csv(io.BytesIO(data))
    except Exception as err:
        raise StudyResultsError(f"could not read the baselines file as CSV ({type(err).__name__}: {err})") from None
    missing = [c for c in ("task", "method", "accuracy") if c not in table.columns]
    if missing:
        raise StudyResultsError(f"not a baselines table: missing column(s) {', '.join(missing)}")
    table["accuracy"] = pd.to_numeric(table["accuracy"], errors="coerce")
    return table


def baseline_levels(baselines: pd.DataFrame | None, task: str) -> dict[str, float]:
    """Mean test accuracy of each baseline method on ``task`` (empty if none was measured).

    >>> b = pd.DataFrame({"task": ["ucr:GunPoint"] * 3, "method": ["MiniRocket", "MiniRocket", "1-NN DTW"],
    ...                   "accuracy": [0.98, 1.0, 0.91]})
    >>> baseline_levels(b, "ucr:GunPoint")
    {'MiniRocket': 0.99, '1-NN DTW': 0.91}
    """
    if baselines is None or baselines.empty:
        return {}
    rows = baselines[baselines["task"] == task].dropna(subset=["accuracy"])
    return {str(m): round(float(g["accuracy"].mean()), 6) for m, g in rows.groupby("method", sort=False)}
