"""Figures of learned vs fixed wavelet filters: taps, frequency responses, cascade, channel overview.

Every builder takes plain NumPy data (no model, no Streamlit) and returns a
``plotly.graph_objects.Figure`` in the house style of :mod:`multires.figures.style`.
Convention throughout: the *learned* pair is drawn with solid lines / filled bars, the *fixed*
PyWavelets pair dashed / hatched; lowpass ``h0`` and highpass ``h1`` keep their
:data:`FILTER_COLORS`.

Examples
--------
>>> import numpy as np
>>> s = np.sqrt(0.5)
>>> fig = taps_figure((np.array([s, s]), np.array([s, -s])), (np.array([s, s]), np.array([s, -s])),
...                   "learned", "haar")
>>> len(fig.data)
4
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .reduce import HALF_WIDTH_PX, mark_reduced, reduced_line, total
from .style import FILTER_COLORS, SIGNED_COLORSCALE, style_figure

__all__ = [
    "FilterPair",
    "taps_figure",
    "frequency_response_figure",
    "cascade_figure",
    "nearest_distance_figure",
    "channel_taps_figure",
    "diagnostics_frame",
]

FilterPair = tuple[np.ndarray, np.ndarray]  # (h0, h1), cross-correlation taps, each (k,)

SQRT2 = float(np.sqrt(2.0))
_FILTER_NAMES = {"h0": "lowpass h0", "h1": "highpass h1"}
_LEARNED_DASH, _FIXED_DASH = "solid", "dash"


def taps_figure(learned: FilterPair, fixed: FilterPair, learned_label: str, fixed_label: str,
                height: int = 420) -> go.Figure:
    """Bar ("stem") plot of the taps of both filter pairs, learned left, fixed right.

    Parameters
    ----------
    learned, fixed : (h0, h1)
        Cross-correlation taps; the two pairs may have different lengths.
    learned_label, fixed_label : str
        Panel titles, e.g. ``"learned · layer 0, ch 3"`` and ``"fixed · db2"``.

    Returns
    -------
    Figure with 4 bar traces: learned h0, learned h1, fixed h0, fixed h1.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(learned_label, fixed_label), shared_yaxes=True,
                        horizontal_spacing=0.06)
    for col, (pair, hatched) in enumerate(((learned, False), (fixed, True)), start=1):
        for name, taps in zip(("h0", "h1"), pair):
            taps = np.asarray(taps, dtype=float)
            fig.add_trace(
                go.Bar(
                    x=np.arange(taps.size), y=taps, name=_FILTER_NAMES[name],
                    marker=dict(color=FILTER_COLORS[name], pattern_shape="/" if hatched else ""),
                    legendgroup=name, showlegend=col == 1, offsetgroup=name,
                    hovertemplate=f"{name}[%{{x}}] = %{{y:.4f}}<extra>{'fixed' if hatched else 'learned'}</extra>",
                ),
                row=1, col=col,
            )
        fig.update_xaxes(title_text="tap index i (samples)", dtick=1, row=1, col=col)
    fig.add_hline(y=0, line=dict(color="#444", width=1))
    fig.update_layout(barmode="group", bargap=0.35)
    fig.update_yaxes(title_text="tap value (dimensionless)", row=1, col=1)
    return _legend_above_panels(style_figure(fig, "Filter taps: learned (solid) vs fixed (hatched)", height=height))


def frequency_response_figure(
    freqs: np.ndarray,
    learned: FilterPair,
    fixed: FilterPair | None,
    learned_label: str,
    fixed_label: str,
) -> go.Figure:
    """Magnitude responses ``|H0|, |H1|`` of both pairs on one axis, 0 to 0.5 cycles/sample.

    Parameters
    ----------
    freqs : ndarray (F,)
        Frequencies in cycles/sample, 0 to 0.5.
    learned, fixed : (|H0|, |H1|)
        Magnitudes at ``freqs``; ``fixed`` may be ``None`` (nothing to compare with).

    Returns
    -------
    Figure with 4 line traces (learned solid, fixed dashed; 2 without ``fixed``) and a dotted
    guide at ``sqrt(2)``, the DC gain of an orthonormal lowpass filter.
    """
    fig = go.Figure()
    pairs = [(learned, learned_label, _LEARNED_DASH)] + ([(fixed, fixed_label, _FIXED_DASH)] if fixed is not None else [])
    for (mags, label, dash) in pairs:
        for name, mag in zip(("h0", "h1"), mags):
            fig.add_trace(go.Scatter(
                x=freqs, y=np.asarray(mag, dtype=float), mode="lines",
                name=f"{label} {_FILTER_NAMES[name]}",
                line=dict(color=FILTER_COLORS[name], dash=dash, width=3 if dash == _LEARNED_DASH else 2),
                hovertemplate="f = %{x:.3f} cycles/sample<br>|H| = %{y:.3f}<extra>%{fullData.name}</extra>",
            ))
    fig.add_hline(y=SQRT2, line=dict(color="#888", dash="dot", width=1),
                  annotation_text="√2: pass-band gain of an orthonormal filter", annotation_position="top")
    fig.update_xaxes(range=[0, 0.5])
    top = max([float(np.max(m)) for pair, _, _ in pairs for m in pair] + [SQRT2])
    fig.update_yaxes(range=[0, 1.15 * top])
    fig = style_figure(fig, "Frequency response: lowpass keeps slow, highpass keeps fast",
                 "frequency (cycles/sample)", "|H(f)| (gain)")
    fig.update_layout(legend=dict(orientation="v", yanchor="middle", y=0.5, xanchor="left", x=1.02))
    return fig


def cascade_figure(
    learned: tuple[np.ndarray, np.ndarray, np.ndarray],
    fixed: tuple[np.ndarray, np.ndarray, np.ndarray],
    learned_label: str,
    fixed_label: str,
    width_px: int = HALF_WIDTH_PX,
) -> go.Figure:
    """Scaling function ``phi`` and wavelet ``psi`` from the cascade algorithm, learned vs fixed.

    Parameters
    ----------
    learned, fixed : (t, phi, psi)
        Support grid ``t`` and the functions on it (as ``pywt.Wavelet.wavefun`` returns them).
    width_px : int
        Pixel budget of one panel (:mod:`.reduce`): finer grids are drawn through M4's points.

    Returns
    -------
    Figure with two panels (phi, psi) and 4 line traces.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("scaling function φ (from h0)", "wavelet ψ (from h0, h1)"),
                        horizontal_spacing=0.08)
    drawn = []
    for (t, phi, psi), label, dash in ((learned, learned_label, _LEARNED_DASH), (fixed, fixed_label, _FIXED_DASH)):
        for col, (name, values) in enumerate((("h0", phi), ("h1", psi)), start=1):
            x, y, reduction = reduced_line(np.asarray(values, dtype=float), width_px, x=np.asarray(t, dtype=float))
            drawn.append(reduction)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines",
                name=label, legendgroup=label, showlegend=col == 1,
                line=dict(color=FILTER_COLORS[name], dash=dash, width=3 if dash == _LEARNED_DASH else 2),
                hovertemplate="t = %{x:.3f}<br>value = %{y:.3f}<extra>" + label + "</extra>",
            ), row=1, col=col)
            fig.update_xaxes(title_text="t (in units of the coarsest sample spacing)", row=1, col=col)
    fig.update_yaxes(title_text="amplitude (unit L2 norm)", row=1, col=1)
    fig = _legend_above_panels(style_figure(fig, "Cascade: the continuous functions the filters converge to", height=420))
    reduction = total(drawn)
    return mark_reduced(fig, reduction) if reduction.reduced else fig


def _legend_above_panels(fig: go.Figure) -> go.Figure:
    """Room for the legend between the title and the subplot titles, so nothing overlaps."""
    fig.update_layout(margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.1, xanchor="left", x=0.0))
    return fig


#: Colour scale top of the distance overview: unit-norm lowpass filters this far apart (about 29
#: degrees) are clearly different filters; larger distances share the top colour.
DISTANCE_SCALE_MAX = 0.5


def nearest_distance_figure(distances: np.ndarray, names: Sequence[Sequence[str]],
                            selected: tuple[int, int] | None = None) -> go.Figure:
    """Heatmap of every channel's distance to its nearest named wavelet (rows layers, columns channels).

    The colour scale is fixed to ``0 .. DISTANCE_SCALE_MAX`` so that models can be compared by eye.

    Parameters
    ----------
    distances : ndarray (L, C)
        Distance of each layer/channel filter pair to the nearest named PyWavelets wavelet.
    names : (L, C) nested sequence of str
        That wavelet's name (shown on hover).
    selected : (layer, channel), optional
        Outlined: the sidebar's current layer and channel.

    Returns
    -------
    Figure with 1 heatmap trace. Dark = the filter is (still) a named wavelet.
    """
    d = np.asarray(distances, dtype=float)
    text = np.asarray(names, dtype=object)
    n_layers, n_channels = d.shape
    fig = go.Figure(go.Heatmap(
        z=d, x=np.arange(n_channels), y=np.arange(n_layers), text=text,
        colorscale="Viridis", zmin=0.0, zmax=DISTANCE_SCALE_MAX,
        colorbar=dict(title=dict(text="distance", side="right"), thickness=14,
                      tickvals=[0, DISTANCE_SCALE_MAX / 2, DISTANCE_SCALE_MAX],
                      ticktext=["0", f"{DISTANCE_SCALE_MAX / 2:g}", f"≥ {DISTANCE_SCALE_MAX:g}"]),
        xgap=1, ygap=1,
        hovertemplate="layer %{y}, channel %{x}<br>nearest: %{text}<br>distance %{z:.3f}<extra></extra>",
    ))
    if selected is not None:
        layer, channel = selected
        for color, width in (("#000000", 5), ("#ffffff", 2)):  # visible on dark and on bright cells
            fig.add_shape(type="rect", x0=channel - 0.5, x1=channel + 0.5, y0=layer - 0.5, y1=layer + 0.5,
                          line=dict(color=color, width=width))
    fig.update_yaxes(tickmode="array", tickvals=list(range(n_layers)), autorange="reversed")
    fig.update_xaxes(dtick=max(1, n_channels // 32))
    height = 150 + max(2, n_layers) * 34
    return style_figure(fig, "Distance of every channel's filters to the nearest named wavelet",
                  "channel", "layer", height=height, legend=False)


def channel_taps_figure(h0: np.ndarray, h1: np.ndarray, layer: int, reference: FilterPair | None = None,
                        reference_label: str = "") -> go.Figure:
    """All channels' taps of one layer: h0 on top, h1 below, one column per channel.

    Parameters
    ----------
    h0, h1 : ndarray (C, k)
        Every channel's taps.
    layer : int
        For the title.
    reference : (h0, h1), optional
        A same-length wavelet drawn as an extra, labelled column at the right for comparison.

    Returns
    -------
    Figure with 2 heatmap traces on a shared diverging colour scale centred on 0.
    """
    h0, h1 = np.asarray(h0, dtype=float), np.asarray(h1, dtype=float)
    columns = [str(c) for c in range(h0.shape[0])]
    if reference is not None and len(reference[0]) == h0.shape[1]:
        h0 = np.vstack([h0, reference[0]])
        h1 = np.vstack([h1, reference[1]])
        columns.append(reference_label or "reference")
    # A channel whose lowpass sums to ~0 is blown up by the normalisation; a robust colour limit keeps
    # one such channel from washing out all the others (it saturates instead).
    magnitudes = np.abs(np.concatenate([h0.ravel(), h1.ravel()]))
    limit = max(float(np.percentile(magnitudes, 95)), 1e-6)
    k = h0.shape[1]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("lowpass h0", "highpass h1"))
    for row, taps in enumerate((h0, h1), start=1):
        fig.add_trace(go.Heatmap(
            z=taps.T, x=columns, y=np.arange(k), colorscale=SIGNED_COLORSCALE, zmid=0.0, zmin=-limit, zmax=limit,
            showscale=row == 1, colorbar=dict(title=dict(text="tap value", side="right"), thickness=14),
            xgap=1, ygap=1, hovertemplate="channel %{x}, tap %{y}: %{z:.4f}<extra></extra>",
        ), row=row, col=1)
        fig.update_yaxes(title_text="tap i", tickmode="array", tickvals=list(range(k)), autorange="reversed",
                         row=row, col=1)
    fig.update_xaxes(type="category", title_text="channel", row=2, col=1)
    height = 190 + 2 * max(60, 22 * k)
    return style_figure(fig, f"Layer {layer}: every channel's normalised taps (one column per channel)",
                  height=height, legend=False)


def diagnostics_frame(
    learned_rows: Sequence[dict[str, Any]],
    fixed_rows: Sequence[dict[str, Any]],
    learned_label: str = "learned",
    fixed_label: str = "fixed",
) -> pd.DataFrame:
    """Side-by-side table of filter diagnostics: one row per quantity, learned and fixed columns.

    Parameters
    ----------
    learned_rows, fixed_rows : sequence of dict
        ``FilterDiagnostics.rows()`` of the two pairs (keys ``quantity``, ``value``, ``ideal``,
        ``meaning``), same quantities in the same order.
    learned_label, fixed_label : str
        Column headers of the two value columns.

    Returns
    -------
    DataFrame indexed by ``quantity`` with columns ``learned_label``, ``fixed_label``, ``ideal``,
    ``meaning``; numbers are formatted as strings (4 significant digits, tiny values in
    scientific notation) so rows of numbers and wavelet names read uniformly.

    Examples
    --------
    >>> rows = [{"quantity": "DC gain", "value": 1.4, "ideal": 1.41421, "meaning": "sum of h0"}]
    >>> fixed = [{"quantity": "DC gain", "value": 1.41421, "ideal": 1.41421, "meaning": "sum of h0"}]
    >>> diagnostics_frame(rows, fixed).reset_index().iloc[0].tolist()
    ['DC gain', '1.4', '1.414', '1.414', 'sum of h0']
    """
    fixed_values = {row["quantity"]: row["value"] for row in fixed_rows}
    records = [
        {
            "quantity": row["quantity"],
            learned_label: _format(row["value"]),
            fixed_label: _format(fixed_values.get(row["quantity"])),
            "ideal": _format(row.get("ideal")),
            "meaning": row.get("meaning", ""),
        }
        for row in learned_rows
    ]
    return pd.DataFrame(records, columns=["quantity", learned_label, fixed_label, "ideal", "meaning"]).set_index("quantity")


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    value = float(value)
    if not np.isfinite(value):
        return "—"
    if abs(value) < 1e-12:  # rounding noise of an exact zero
        return "0"
    if abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.4g}"
