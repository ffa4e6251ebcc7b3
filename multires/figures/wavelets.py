"""Figures of continuous wavelets: the mother wavelet, its dilated/shifted family, their Gram matrix.

Inputs are the plain arrays of :func:`multires.analysis.families.wavelet_family` and
:func:`multires.analysis.families.family_gram`.

Examples
--------
>>> import numpy as np
>>> t = np.linspace(0, 1, 9)
>>> psi = np.where(t < 0.5, 1.0, -1.0)
>>> fig = family_figure(t, [(0, 0, psi)], support=1.0, name="haar")
>>> fig.layout.title.text.startswith("The family")
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .reduce import FULL_WIDTH_PX, Reduction, mark_reduced, reduced_line, total
from .style import FILTER_COLORS, SIGNED_COLORSCALE, style_figure

__all__ = ["mother_wavelet_figure", "family_figure", "family_members_shown", "gram_heatmap", "member_label"]

PSI_COLOR = FILTER_COLORS["h1"]  # the wavelet belongs with the highpass filter
PHI_COLOR = FILTER_COLORS["h0"]  # the scaling function with the lowpass
_TILE_COLORS = ("#D55E00", "#8c3a00")  # alternate shades so neighbouring translates stay distinct

Member = tuple[int, int, np.ndarray]


def member_label(j: int, k: int) -> str:
    """HTML label ``ψ_{j,k}`` for plot text.

    >>> member_label(1, 0)
    'ψ<sub>1,0</sub>'
    """
    return f"ψ<sub>{j},{k}</sub>"


def _mark(fig: go.Figure, drawn: Sequence[Reduction]) -> go.Figure:
    """Record the traces' reduction on the figure when points were dropped (short data stay as they were)."""
    reduction = total(drawn)
    return mark_reduced(fig, reduction) if reduction.reduced else fig


def mother_wavelet_figure(t: np.ndarray, phi: np.ndarray, psi: np.ndarray, name: str, height: int = 360,
                          width_px: int = FULL_WIDTH_PX) -> go.Figure:
    """The mother wavelet ``ψ`` and the scaling function ``φ`` of one wavelet.

    A grid finer than the chart's pixel budget ``width_px`` is drawn through M4's points
    (:mod:`.reduce`): exact values, every bin's extremes kept.

    Returns
    -------
    plotly.graph_objects.Figure
        Two line traces, ``"ψ (wavelet)"`` and ``"φ (scaling function)"``.
    """
    fig = go.Figure()
    phi_t, phi_y, phi_drawn = reduced_line(phi, width_px, x=t)
    psi_t, psi_y, psi_drawn = reduced_line(psi, width_px, x=t)
    fig.add_trace(go.Scatter(x=phi_t, y=phi_y, mode="lines", name="φ (scaling function)",
                             line=dict(color=PHI_COLOR, width=2, dash="dot")))
    fig.add_trace(go.Scatter(x=psi_t, y=psi_y, mode="lines", name="ψ (wavelet)", line=dict(color=PSI_COLOR, width=2.5)))
    fig.add_hline(y=0, line=dict(color="#888888", width=1))
    style_figure(fig, f"Mother wavelet ψ and scaling function φ of {name}", "t (support units)", "amplitude", height=height)
    return _mark(fig, [phi_drawn, psi_drawn])


def family_members_shown(members: Sequence[Member], support: float) -> list[Member]:
    """The members drawn by :func:`family_figure`: shifts ``k`` that are multiples of the support ``S``.

    Their supports ``[k 2**-j, (k+S) 2**-j]`` then tile ``[0, S]`` without overlap, as in the
    classic Haar picture (for Haar, ``S = 1``, that is every shift).

    >>> [(j, k) for j, k, _ in family_members_shown([(0, 0, None), (1, 0, None), (1, 1, None), (1, 2, None),
    ...                                               (1, 3, None)], support=3.0)]
    [(0, 0), (1, 0), (1, 3)]
    """
    step = max(1, int(round(support)))
    return [m for m in members if m[1] % step == 0]


def family_figure(
    t: np.ndarray,
    members: Sequence[Member],
    support: float,
    name: str,
    height_per_row: int = 135,
    width_px: int = FULL_WIDTH_PX,
) -> go.Figure:
    """The family ``ψ_{j,k}(t) = 2^{j/2} ψ(2^j t − k)`` as rows ``j`` (coarse on top) of translates.

    Only the translates that tile ``[0, S]`` are drawn (:func:`family_members_shown`), alternating
    two shades so neighbours stay distinct. Each translate gets the share of the pixel budget
    ``width_px`` that its support covers (:mod:`.reduce`): a row never draws more points than the
    chart has pixel columns, however fine the cascade grid.

    Returns
    -------
    plotly.graph_objects.Figure
        One subplot row per scale ``j``; one line trace per drawn member.
    """
    shown = family_members_shown(members, support)
    scales = sorted({j for j, _, _ in shown})
    fig = make_subplots(rows=len(scales), cols=1, shared_xaxes=True, vertical_spacing=0.03)
    peak = max(float(np.abs(v).max()) for _, _, v in shown) if shown else 1.0
    span = float(t[-1] - t[0]) if t.size > 1 else 1.0
    drawn = []
    for row, j in enumerate(scales, start=1):
        row_members = [(k, v) for jj, k, v in shown if jj == j]
        for index, (k, values) in enumerate(row_members):
            nonzero = np.flatnonzero(values)
            lo, hi = (nonzero[0], nonzero[-1] + 1) if nonzero.size else (0, 1)
            lo, hi = max(lo - 1, 0), min(hi + 1, t.size)
            share = max(1, round(width_px * float(t[hi - 1] - t[lo]) / span)) if span > 0 else width_px
            x, y, reduction = reduced_line(values[lo:hi], share, x=t[lo:hi])
            drawn.append(reduction)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=f"ψ{j},{k}", showlegend=False,
                line=dict(color=_TILE_COLORS[index % 2], width=1.8),
                hovertemplate=f"ψ<sub>{j},{k}</sub>(%{{x:.3f}}) = %{{y:.3f}}<extra></extra>",
            ), row=row, col=1)
        fig.add_hline(y=0, line=dict(color="#bbbbbb", width=1), row=row, col=1)
        fig.update_yaxes(title_text=f"j = {j}", range=[-1.15 * peak, 1.15 * peak], nticks=3, row=row, col=1)
        count = len(row_members)
        fig.add_annotation(text=f"{count} translate{'s' if count > 1 else ''}, width {support / 2 ** j:g}",
                           xref="x domain", yref="y domain", x=1.0, y=1.02, showarrow=False,
                           xanchor="right", yanchor="bottom", font=dict(size=12, color="#555555"),
                           row=row, col=1)
    style_figure(fig, f"The family ψ<sub>j,k</sub>(t) = 2<sup>j/2</sup> ψ(2<sup>j</sup>t − k) of {name}",
           None, None, height=110 + height_per_row * len(scales), legend=False)
    fig.update_xaxes(title_text="t (support units)", row=len(scales), col=1)
    return _mark(fig, drawn)


def gram_heatmap(gram: np.ndarray, members: Sequence[tuple[int, int]], name: str, height: int = 560) -> go.Figure:
    """Heatmap of the Gram matrix ``<ψ_{j,k}, ψ_{j',k'}>``; the identity means an orthonormal family.

    Parameters
    ----------
    gram : ndarray (m, m)
    members : list of (j, k)
        Member order of the rows and columns.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace; the axes are tick-labelled by scale ``j`` at the centre of each block
        and thin lines separate the scales.
    """
    m = len(members)
    labels = [f"ψ{j},{k}" for j, k in members]
    index = np.arange(m)
    fig = go.Figure(go.Heatmap(
        z=gram, x=index, y=index, colorscale=SIGNED_COLORSCALE, zmid=0.0, zmin=-1.0, zmax=1.0,
        customdata=np.array([[f"⟨{a}, {b}⟩" for b in labels] for a in labels]) if m <= 150 else None,
        hovertemplate=("%{customdata} = %{z:.4f}" if m <= 150 else "row %{y}, column %{x}: %{z:.4f}")
        + "<extra></extra>",
        colorbar=dict(title=dict(text="inner<br>product", side="right"), thickness=14),
    ))
    scales = sorted({j for j, _ in members})
    starts = [next(i for i, (jj, _) in enumerate(members) if jj == j) for j in scales]
    ends = starts[1:] + [m]
    centres = [(s + e - 1) / 2 for s, e in zip(starts, ends)]
    for s in starts[1:]:
        for axis in ("x", "y"):
            kwargs = dict(line=dict(color="#555555", width=1))
            if axis == "x":
                fig.add_vline(x=s - 0.5, **kwargs)
            else:
                fig.add_hline(y=s - 0.5, **kwargs)
    ticktext = [str(j) for j in scales]
    fig.update_xaxes(tickvals=centres, ticktext=ticktext, tickangle=0, showgrid=False)
    fig.update_yaxes(tickvals=centres, ticktext=ticktext, showgrid=False, autorange="reversed")
    return style_figure(fig, f"Gram matrix of the {name} family ({m} members)",
                  "member ψ<sub>j,k</sub> (index, grouped by scale j)", "member ψ<sub>j,k</sub> (index)",
                  height=height, legend=False)
