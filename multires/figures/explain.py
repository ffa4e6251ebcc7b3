"""Why a classifier decided: the series, the windows its memory kept at the decisive step, and
each step's evidence (:mod:`multires.analysis.explain`).

Examples
--------
>>> import numpy as np
>>> from multires.analysis.explain import KeptWindow
>>> w = [KeptWindow("a2[n]", "approx", 2, 0, 0, 5), KeptWindow("b1[n]", "detail", 1, 0, 4, 5)]
>>> fig = decision_figure(np.sin(np.arange(8.0)), np.linspace(-1, 1, 8), w, 5, "gun drawn")
>>> [t.name for t in fig.data]
['series', 'kept: a2[n]', 'kept: b1[n]', 'evidence for gun drawn', 'evidence against']
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import BAND_COLORS, style_figure

__all__ = ["decision_figure"]


def decision_figure(series: np.ndarray, steps: np.ndarray, windows: Sequence, decisive: int, predicted: str,
                    height: int = 460) -> go.Figure:
    """Top: the series, a line at the decisive step and one bar per kept coefficient over the input
    samples it summarises. Bottom: each step's share of the decision (blue for the predicted class)."""
    series, steps = np.asarray(series, dtype=float), np.asarray(steps, dtype=float)
    t = np.arange(series.size)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08)
    fig.add_trace(go.Scatter(x=t, y=series, name="series", mode="lines", line=dict(color="#222222", width=2),
                             hovertemplate="sample %{x}: %{y:.2f}<extra></extra>"), row=1, col=1)
    low, span = float(series.min()), float(np.ptp(series)) or 1.0
    for i, w in enumerate(windows):
        y = low - span * (0.12 + 0.09 * i)
        color = BAND_COLORS.get(w.band, "#555555")
        fig.add_trace(go.Scatter(x=[w.start, w.stop], y=[y, y], name=f"kept: {w.name}", mode="lines+markers",
                                 line=dict(color=color, width=5), marker=dict(size=5, color=color), showlegend=False,
                                 hovertemplate=f"{w.name} summarises samples {w.start}..{w.stop}<extra></extra>"),
                      row=1, col=1)
    fig.add_vline(x=decisive, line=dict(color="#0072B2", width=1.5, dash="dash"))
    pos = np.where(steps > 0, steps, 0.0)
    neg = np.where(steps < 0, steps, 0.0)
    fig.add_trace(go.Bar(x=t, y=pos, name=f"evidence for {predicted}", marker_color="#0072B2",
                         hovertemplate="sample %{x}: %{y:+.3f}<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Bar(x=t, y=neg, name="evidence against", marker_color="#999999",
                         hovertemplate="sample %{x}: %{y:+.3f}<extra></extra>"), row=2, col=1)
    fig.update_layout(barmode="relative", bargap=0)
    fig.update_yaxes(title_text="value (normalised)", row=1, col=1)
    fig.update_yaxes(title_text="evidence", row=2, col=1)
    return style_figure(fig, f"What the model used: evidence for {predicted} per time step", None, None, height=height)
