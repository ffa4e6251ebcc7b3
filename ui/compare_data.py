"""What Compare (and the lesson path) draw from: every model's row, the cached tables, and budget ranges
in words ("9", not "9–9")."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from multires.figures.compare import seed_groups, summary_row
from ui.figure_cache import HASH_NAMED, Named
from ui.models import ModelEntry, all_models

__all__ = ["model_row", "model_rows", "model_tables", "value_range"]


def model_row(name: str, entry: ModelEntry) -> dict:
    """One model's row of the comparison table (budgets counted by the layer itself).

    A seed ensemble is one row: its recorded test score is the whole ensemble's (probabilities averaged),
    its parameters are every member's, and a layer's distinct coefficients are the most any member reads.
    """
    model = entry.model
    nets = list(getattr(model, "members", [model]))
    distinct = [max(net.convs[i].distinct_slots() for net in nets)  # coefficients any channel of the layer reads
                for i in range(len(nets[0].convs))]
    return summary_row(name, entry.source, entry.config, entry.metrics, model.n_parameters(),
                       nets[0].convs[0].n_slots, distinct)


def model_rows(models: dict[str, ModelEntry] | None = None) -> Named:
    """Every model's row (default: the session's and the shipped ones), named by a digest of their text (plain
    Python values, so ``repr`` is complete): tables and charts are found again by that name instead of hashing
    DataFrames every rerun."""
    models = all_models() if models is None else models
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
