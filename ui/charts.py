"""Drawing figures on a page: every page calls :func:`show` instead of ``st.plotly_chart``.

One place decides how a figure is shown, so presentation mode (larger fonts for a projector)
applies to every chart of every page at once, and every figure passes
:func:`multires.plaintext.plain_figure` (no text in a chart can make a link or a styled span,
whatever a task name, dataset label or table cell holds).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from multires.plaintext import plain_figure
from ui.presentation import presenting

__all__ = ["show"]


def show(fig: go.Figure, key: str, **kwargs: Any) -> Any:
    """Draw ``fig`` full width (enlarged in presentation mode); returns ``st.plotly_chart``'s value."""
    fig = plain_figure(fig)  # a kept figure was checked when it was built: no second walk
    if presenting():
        from multires.figures.style import presentation_style

        fig = presentation_style(go.Figure(fig))
    kwargs.setdefault("width", "stretch")
    return st.plotly_chart(fig, key=key, **kwargs)
