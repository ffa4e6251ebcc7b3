"""What Compare (and the lesson path) draw from: every model's row, cached tables, and sentences read off
the data they describe (so a caption cannot contradict its chart)."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from multires.figures.compare import seed_groups, summary_row
from ui import state
from ui.figure_cache import HASH_NAMED, Named
from ui.safe_text import plain

__all__ = ["lag_list", "model_row", "model_rows", "model_tables", "recall_summary", "value_range"]


def model_row(name: str, entry: state.ModelEntry) -> dict:
    """One model's row of the comparison table (budgets counted by the layer itself)."""
    net = entry.net
    distinct = [conv.distinct_slots() for conv in net.convs]  # coefficients any channel of the layer reads
    return summary_row(name, entry.source, entry.config, entry.metrics, net.n_parameters(), net.convs[0].n_slots,
                       distinct)


def model_rows(models: dict[str, state.ModelEntry] | None = None) -> Named:
    """Every model's row (default: the session's and the shipped ones), named by a digest of their text (plain
    Python values, so ``repr`` is complete): tables and charts are found again by that name instead of hashing
    DataFrames every rerun."""
    models = state.all_models() if models is None else models
    rows = [model_row(name, e) for name, e in models.items()]
    return Named(hashlib.sha256(repr(rows).encode()).hexdigest(), rows)


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs=HASH_NAMED)
def model_tables(rows: Named) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The table of every model and, per task, its models merged over seeds (shared: never modified)."""
    table = pd.DataFrame(rows.value)
    return table, {task: seed_groups(table[table["task"] == task]) for task in table["task"].unique()}


def value_range(values: pd.Series) -> str:
    """"9" when every row has the same value, else "4–9" (thousands separated)."""
    low, high = int(values.min()), int(values.max())
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def recall_summary(curves: list[dict]) -> str:
    """What the per-lag chart shows, read off its data: for each model, the lags it recalls (R² ≥ 0.9) and the lags
    it misses (R² < 0.5)."""
    parts = []
    for row in curves:
        lags = [int(lag) for lag in row["lags"]]
        r2 = [float("nan") if v is None else float(v) for v in row["r2 per lag"]]
        good = [lag for lag, v in zip(lags, r2) if v >= 0.9]
        poor = [lag for lag, v in zip(lags, r2) if v < 0.5]
        said = ("recalls every lag (R² ≥ 0.9)" if len(good) == len(lags) else
                "recalls no lag well (R² < 0.5 at every lag)" if len(poor) == len(lags) else
                ", ".join(p for p in (f"R² ≥ 0.9 at lags {lag_list(good, lags)}" if good else "",
                                      f"below 0.5 at lags {lag_list(poor, lags)}" if poor else "") if p)
                or "between 0.5 and 0.9 at every lag")
        parts.append(f"**{plain(row['name'])}**: {said}")
    return "; ".join(parts) + "."


def lag_list(chosen: list[int], lags: list[int]) -> str:
    """``chosen`` lags as runs of neighbouring lags of the chart: "1–8, 64" (1, 2, 4, 8 and 64 of 1, 2, 4, …, 128)."""
    runs: list[list[int]] = []
    for lag in chosen:
        if runs and lags.index(lag) == lags.index(runs[-1][-1]) + 1:
            runs[-1].append(lag)
        else:
            runs.append([lag])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
