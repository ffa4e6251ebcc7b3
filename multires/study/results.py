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

import pandas as pd

__all__ = [
    "REQUIRED_COLUMNS",
    "BudgetAxis",
    "BUDGET_COLUMNS",
    "BASELINE_COLUMNS",
    "StudyResultsError",
    "baseline_levels",
    "pareto_front",
    "read_baselines",
    "read_results",
    "summarise",
    "write_results",
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
#: Which column a memory budget reads: distinct coefficients per layer, or slots per channel.
BudgetAxis = Literal["distinct", "per_channel"]
BUDGET_COLUMNS: dict[str, str] = {"distinct": "distinct_slots_mean", "per_channel": "slots_per_channel"}
#: Largest results file the reader accepts (a study of thousands of trials is a few MB).
MAX_BYTES = 50 * 2**20


class StudyResultsError(ValueError):
    """A file is not a study results table; the message says what is wrong and what is expected."""


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
    try:
        if data[:4] == b"PAR1":
            table = pd.read_parquet(io.BytesIO(data))
        else:
            table = pd.read_csv(io.BytesIO(data))
    except Exception as err:  # pandas raises many types for a malformed file
        raise StudyResultsError(f"could not read the file as CSV or Parquet ({type(err).__name__}: {err})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise StudyResultsError(
            f"not a study results table: missing column(s) {', '.join(missing)}; "
            "expected the results.csv or results.parquet that `python -m multires.study` writes"
        )
    return _normalise(table)


def _read_bytes(source: str | Path | IO[bytes] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    return source.read()


def _normalise(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for col in ("test_score", "slots_per_channel", "distinct_slots_mean", "distinct_slots_max", "d_model", "seed"):
        converted = pd.to_numeric(table[col], errors="coerce")
        bad = converted.isna() & table[col].notna()
        if bad.any():
            raise StudyResultsError(f"column {col!r} must be numeric; row {int(bad.idxmax())} holds {table[col][bad].iloc[0]!r}")
        table[col] = converted
    table["wavelet"] = table["wavelet"].astype(object).where(table["wavelet"].notna(), None)
    table["freeze_filters"] = table["freeze_filters"].map(
        lambda v: v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1"))
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
        raise ValueError(f"budget must be one of {list(BUDGET_COLUMNS)}, got {budget!r}")
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
