"""One visual language for every figure: strategy colours, fonts, titles, axis labels."""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["STRATEGY_COLORS", "STRATEGY_LABELS", "BAND_COLORS", "FILTER_COLORS", "finish"]

#: Each TREESELECT strategy keeps one colour across the whole app (Okabe-Ito, colour-blind safe).
STRATEGY_COLORS: dict[str, str] = {
    "fading": "#0072B2",  # blue
    "uniform": "#E69F00",  # orange
    "learned": "#009E73",  # green
    "full history": "#7f7f7f",
    "tree": "#CC79A7",
}
STRATEGY_LABELS: dict[str, str] = {
    "fading": "resolution fading",
    "uniform": "uniform",
    "learned": "learned",
}
#: Lowpass / highpass and approximation / detail.
FILTER_COLORS: dict[str, str] = {"h0": "#0072B2", "h1": "#D55E00"}
BAND_COLORS: dict[str, str] = {"approx": "#0072B2", "detail": "#D55E00"}

FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14)


def finish(
    fig: go.Figure,
    title: str,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int | None = 380,
    legend: bool = True,
) -> go.Figure:
    """Apply the house style: a title, axis labels (with units), readable fonts, tight margins."""
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=17)),
        font=FONT,
        template="plotly_white",
        margin=dict(l=60, r=20, t=60, b=55),
        showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
    )
    if height is not None:
        fig.update_layout(height=height)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig
