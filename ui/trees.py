"""The coefficient tree of a signal, computed once per input and shared by every page that draws it.

``st.cache_resource``: one copy per server, never copied per run; callers only read the rows.
Kept in a module (not a page) so the cached function is defined once per server, not again on
every run of a page script (Streamlit reads a cached function's source each time it is defined).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

__all__ = ["tree_rows"]


@st.cache_resource(show_spinner=False, max_entries=32)
def tree_rows(x: np.ndarray, h0: np.ndarray, h1: np.ndarray, depth: int) -> list[tuple[str, np.ndarray]]:
    """``coefficient_tree(x, h0, h1, depth).rows()``: (label, values) from the coarsest a_J to b_1; do not modify."""
    from multires import coefficient_tree  # PyTorch: imported when a tree is first computed, not with the page

    return coefficient_tree(x, h0, h1, depth=depth).rows()
