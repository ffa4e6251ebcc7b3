"""One visual language for every figure: strategy colours, fonts, titles, axis labels."""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["BAND_COLORS", "FILTER_COLORS", "STRATEGY_COLORS", "STRATEGY_LABELS", "finish", "presentation_style"]

#: Each TREESELECT strategy keeps one colour across the whole app. Blue and orange are reserved for
#: h0/h1 (lowpass/highpass, approximation/detail), so strategies never use them.
STRATEGY_COLORS: dict[str, str] = {
    "fading": "#009E73",  # bluish green (Okabe-Ito)
    "uniform": "#CC79A7",  # reddish purple (Okabe-Ito)
    "learned": "#5E3C99",  # dark violet
    "full history": "#7f7f7f",  # grey
    "tree": "#8C564B",  # brown
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


def presentation_style(fig: go.Figure, font_size: int = 18) -> go.Figure:
    """Enlarge a finished figure for a projector: base font, ticks (>= 14 px), title."""
    fig.update_layout(font=dict(size=font_size), title_font=dict(size=font_size + 4))
    fig.update_xaxes(tickfont=dict(size=font_size - 2), title_font=dict(size=font_size))
    fig.update_yaxes(tickfont=dict(size=font_size - 2), title_font=dict(size=font_size))
    return fig
