"""The coefficient tree of a signal, computed once per input and shared by every page that draws it.

``st.cache_resource``: one copy per server, never copied per run; callers only read the rows.
Kept in a module (not a page) so the cached function is defined once per server, not again on
every run of a page script (Streamlit reads a cached function's source each time it is defined).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

__all__ = ["TreeSide", "energy_figure", "energy_shares", "heatmap_figure", "side_by_side", "traces_figure",
           "tree_columns", "tree_rows", "tree_window"]


@st.cache_resource(show_spinner=False, max_entries=32)
def tree_rows(x: np.ndarray, h0: np.ndarray, h1: np.ndarray, depth: int) -> list[tuple[str, np.ndarray]]:
    """``coefficient_tree(x, h0, h1, depth).rows()``: (label, values) from the coarsest a_J to b_1; do not modify."""
    # PyTorch: imported when a tree is first computed, not with the page
    from multires import coefficient_tree

    return coefficient_tree(x, h0, h1, depth=depth).rows()


def tree_window(x: np.ndarray, h0: np.ndarray, h1: np.ndarray, depth: int, first: int, n: int):
    """The tree's rows over times ``first..n``, as a :class:`ui.figure_cache.Named` for a cached figure.

    Named by its inputs: hashing two filters and a digest of ``x`` is cheaper than hashing the J + 1 rows
    on every rerun (TREESELECT's kept cells, the lesson path).
    """
    import hashlib

    from ui.figure_cache import Named

    return Named((hashlib.sha256(x.tobytes()).hexdigest(), h0.tobytes(), h1.tobytes(), depth, first, n),
                 [(label, values[first : n + 1]) for label, values in tree_rows(x, h0, h1, depth)])


# Figures of a tree, cached (ui.figure_cache) by the tree's inputs: hashing x and the filters on every
# run costs far less than hashing the J + 1 rows they produce. Shared by the Coefficient tree page and
# the lesson path.
def heatmap_figure(x, h0, h1, depth, *args, **kwargs):
    from multires.figures.tree import tree_heatmap

    return tree_heatmap(tree_rows(x, h0, h1, depth), *args, **kwargs)


def traces_figure(x, h0, h1, depth, *args, **kwargs):
    from multires.figures.tree import level_traces

    return level_traces(tree_rows(x, h0, h1, depth), *args, **kwargs)


def energy_figure(x, h0, h1, depth, *args, **kwargs):
    from multires.figures.tree import level_energy

    return level_energy(tree_rows(x, h0, h1, depth), *args, **kwargs)


def energy_shares(x, h0, h1, depth) -> tuple[list[str], np.ndarray]:
    """Row labels (a_J first) and each row's share of the level-normalised energy (sums to 1)."""
    from multires.figures.tree import normalized_level_energy

    rows = tree_rows(x, h0, h1, depth)
    energy = normalized_level_energy(rows)
    return [label for label, _ in rows], energy / (energy.sum() or 1.0)


@dataclass(frozen=True)
class TreeSide:
    """One of the trees a page shows side by side: its key in widget keys and file names, its heading,
    a short name for chart titles, and its filters."""

    key: str
    heading: str
    short: str
    h0: np.ndarray
    h1: np.ndarray


def tree_columns(x: np.ndarray, rows: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The exact values behind a tree's charts: time, signal and every level."""
    return {"t": np.arange(x.size), "x": x, **{label: values for label, values in rows}}


def side_by_side(x: np.ndarray, sides: list[TreeSide], depth: int, builder, title: str, key: str,
                 file_name: str, **kwargs) -> None:
    """One chart per side in two columns: ``builder(x, h0, h1, depth, title, **kwargs)`` (``title`` is
    formatted with the side's ``heading`` and ``short``), each offering its exact values when reduced."""
    from multires.figures.reduce import HALF_WIDTH_PX
    from ui.figure_cache import cached_figure
    from ui.reduced import show_chart

    for column, side in zip(st.columns(len(sides), gap="large"), sides):
        with column:
            fig = cached_figure(builder, x, side.h0, side.h1, depth,
                                title.format(heading=side.heading, short=side.short), width_px=HALF_WIDTH_PX,
                                **kwargs)
            show_chart(fig, key=f"{key}_{side.key}", file_name=f"{file_name}_{side.key}.csv",
                       exact=lambda side=side: tree_columns(x, tree_rows(x, side.h0, side.h1, depth)))
