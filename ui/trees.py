"""The coefficient tree of a signal, computed once per input and shared by every page that draws it.

``st.cache_resource``: one copy per server, never copied per run; callers only read the rows.
Kept in a module (not a page) so the cached function is defined once per server, not again on
every run of a page script (Streamlit reads a cached function's source each time it is defined).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

__all__ = ["energy_figure", "energy_shares", "heatmap_figure", "traces_figure", "tree_rows"]


@st.cache_resource(show_spinner=False, max_entries=32)
def tree_rows(x: np.ndarray, h0: np.ndarray, h1: np.ndarray, depth: int) -> list[tuple[str, np.ndarray]]:
    """``coefficient_tree(x, h0, h1, depth).rows()``: (label, values) from the coarsest a_J to b_1; do not modify."""
    from multires import coefficient_tree  # PyTorch: imported when a tree is first computed, not with the page

    return coefficient_tree(x, h0, h1, depth=depth).rows()


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
