"""One visual language for every figure: TREESELECT rule colours, fonts, titles, axis labels."""

from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "BAND_COLORS",
    "FILTER_COLORS",
    "PRESENTATION_FONT_SIZE",
    "PRESENTATION_TICK_SIZE",
    "SIGNED_COLORSCALE",
    "TREE_SELECT_COLORS",
    "TREE_SELECT_LABELS",
    "style_figure",
    "house_template",
    "presentation_style",
]

#: Each TREESELECT rule keeps one colour across the whole app. Blue and orange are reserved for
#: h0/h1 (lowpass/highpass, approximation/detail), so TREESELECT rules never use them.
TREE_SELECT_COLORS: dict[str, str] = {
    "fading": "#009E73",  # bluish green (Okabe-Ito)
    "uniform": "#CC79A7",  # reddish purple (Okabe-Ito)
    "learned": "#5E3C99",  # dark violet
    "full history": "#7f7f7f",  # grey
    "tree": "#8C564B",  # brown
}
TREE_SELECT_LABELS: dict[str, str] = {
    "fading": "resolution fading",
    "uniform": "uniform",
    "learned": "learned",
}
#: Lowpass / highpass and approximation / detail.
FILTER_COLORS: dict[str, str] = {"h0": "#0072B2", "h1": "#D55E00"}
BAND_COLORS: dict[str, str] = {"approx": "#0072B2", "detail": "#D55E00"}
#: Signed values (taps, coefficients, inner products): red positive, white 0, dark grey negative.
#: No blue, so blue keeps meaning h0 / approximation everywhere.
SIGNED_COLORSCALE: list[list] = [[0.0, "#252525"], [0.25, "#969696"], [0.5, "#ffffff"], [0.75, "#f4a582"],
                                 [1.0, "#b2182b"]]

FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14)
#: The trace types the app draws; the house template carries plotly_white's defaults for these only.
TRACE_TYPES = ("scatter", "heatmap", "bar")
#: Parts of plotly_white's layout for charts the app never draws (polar, ternary, 3-D, maps).
_UNUSED_LAYOUT = ("polar", "ternary", "scene", "geo", "mapbox", "map")


@lru_cache(maxsize=1)
def house_template() -> go.layout.Template:
    """``plotly_white`` reduced to what the app's charts use: its 2-D layout and its scatter, heatmap and
    bar defaults.

    The same look, at a third of the template's size: every figure carries its template, and copying,
    validating and serialising the full ``plotly_white`` (defaults for 24 trace types, 3-D scenes,
    maps) was most of the cost of building and sending a small chart.

    >>> house_template().layout.plot_bgcolor, sorted(house_template().data.to_plotly_json())
    ('white', ['bar', 'heatmap', 'scatter'])
    """
    white = pio.templates["plotly_white"].to_plotly_json()
    layout = {key: value for key, value in white["layout"].items() if key not in _UNUSED_LAYOUT}
    return go.layout.Template(layout=layout, data={kind: white["data"][kind] for kind in TRACE_TYPES})


def style_figure(
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
        template=house_template(),
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


#: Presentation mode: base font and tick font in px (ticks must stay >= 14 px at 1280 x 720).
PRESENTATION_FONT_SIZE = 18
PRESENTATION_TICK_SIZE = 16
LEGEND_SIZE = 14


def presentation_style(fig: go.Figure, font_size: int = PRESENTATION_FONT_SIZE,
                       tick_size: int = PRESENTATION_TICK_SIZE) -> go.Figure:
    """Enlarge a finished figure for a projector, in place; returns it.

    Base font ``font_size`` px, title ``font_size + 4``, axis titles ``font_size``, every axis's
    ticks and every colour bar's ticks ``tick_size`` px (>= 14 px reads from the back of a room),
    annotations (subplot titles, notes) at least ``tick_size`` px, legend 14 px; 12 px more top margin.

    Examples
    --------
    >>> fig = presentation_style(style_figure(go.Figure(go.Scatter(y=[1, 2])), "t", "x", "y"))
    >>> fig.layout.xaxis.tickfont.size, fig.layout.font.size
    (16, 18)
    """
    # The legend keeps the house size (14 px, readable): a larger legend above the plot would grow
    # into the title. The top margin grows by what the larger title needs.
    top = fig.layout.margin.t
    fig.update_layout(font=dict(size=font_size), title_font=dict(size=font_size + 4),
                      legend=dict(font=dict(size=LEGEND_SIZE)), margin=dict(t=(top if top is not None else 80) + 12))
    fig.update_xaxes(tickfont=dict(size=tick_size), title_font=dict(size=font_size))
    fig.update_yaxes(tickfont=dict(size=tick_size), title_font=dict(size=font_size))
    fig.update_traces(colorbar=dict(tickfont=dict(size=tick_size), title=dict(font=dict(size=tick_size))),
                      selector=dict(type="heatmap"))
    for annotation in fig.layout.annotations:
        size = annotation.font.size
        if size is None or size < tick_size:
            annotation.font.size = tick_size
    return fig
