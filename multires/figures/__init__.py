"""Plotly figure builders: plain data in, ``plotly.graph_objects.Figure`` out (no Streamlit)."""

from .style import STRATEGY_COLORS, STRATEGY_LABELS, BAND_COLORS, finish

__all__ = ["STRATEGY_COLORS", "STRATEGY_LABELS", "BAND_COLORS", "finish"]
