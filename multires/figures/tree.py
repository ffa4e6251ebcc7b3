"""Figures of the coefficient tree: the tree as a heatmap, per-level views (the graph: :mod:`.dilated_tree`).

Every builder takes plain data (numpy arrays, lists of ``(label, values)`` rows as returned by
:meth:`multires.CoefficientTree.rows`, lists of kept cells) and returns a ``plotly`` Figure.

Examples
--------
>>> import numpy as np
>>> from multires import coefficient_tree, memory_slots, kept_cells
>>> tree = coefficient_tree(np.sin(np.arange(32) / 3), [0.7071, 0.7071], [0.7071, -0.7071], depth=3)
>>> cells = kept_cells(memory_slots("fading", 3, 2), n=20)
>>> fig = tree_heatmap(tree.rows(), "Tree", kept={"fading": cell_coords(cells)}, n=20)
>>> [t.name for t in fig.data]
['coefficients', 'halo fading', 'kept by resolution fading']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .cells import cell_coords, cell_label
from .dilated_tree import dilated_tree_figure, tree_animation_figure
from .reduce import FULL_WIDTH_PX, Reduction, line_budget, line_indices, mark_reduced, pool_columns, total
from .style import BAND_COLORS, SIGNED_COLORSCALE, TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = [
    "signal_figure", "tree_heatmap", "level_traces", "level_energy", "normalized_level_energy",
    "KEPT_MARKER_SIZES", "FOCUS_COLOR",
]

Rows = Sequence[tuple[str, np.ndarray]]
Cells = Sequence[tuple[str, int]]

#: Pixel budgets of a full-width chart (:mod:`.reduce`): longer signals are reduced for display, a
#: heatmap column then stands for several samples and a line keeps M4's points.
MAX_HEATMAP_COLUMNS = FULL_WIDTH_PX
MAX_TRACE_POINTS = line_budget(FULL_WIDTH_PX)

#: Open-square marker size per TREESELECT rule, so that cells kept by several TREESELECT rules show nested squares.
KEPT_MARKER_SIZES: dict[str, int] = {"fading": 19, "uniform": 14, "learned": 9}
#: Outline width of a kept cell and of the white halo under it (px): 2 px of white on each side.
KEPT_LINE_WIDTH = 2.5
KEPT_HALO_WIDTH = 6.5
_GREY = "#9a9a9a"
#: The inspected cell and its receptive field (Okabe-Ito yellow: not a TREESELECT rule, not a band).
FOCUS_COLOR = "#E6B800"


def _tree_select_name(tree_select: str) -> str:
    return TREE_SELECT_LABELS.get(tree_select, tree_select)


def signal_figure(values: np.ndarray, name: str, height: int = 240, width_px: int = FULL_WIDTH_PX) -> go.Figure:
    """The input signal on its own, for context above its tree.

    A signal longer than the chart's pixel budget (``width_px``, see :mod:`.reduce`) is drawn
    through M4's points: every bin's first, last, smallest and largest sample, exact values.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace named ``"x"``.
    """
    values = np.asarray(values, dtype=np.float64)
    keep = line_indices(values, width_px)
    fig = go.Figure(go.Scatter(x=keep, y=values[keep], mode="lines", name="x", line=dict(color="#333333", width=1.4),
                               hovertemplate="x[%{x}] = %{y:.4g}<extra></extra>"))
    style_figure(fig, f"Signal: {name} ({values.size} samples)", "time t (samples)", "amplitude", height=height, legend=False)
    return _mark(fig, Reduction(keep.size, values.size))


def _mark(fig: go.Figure, reduction: Reduction) -> go.Figure:
    """Record a reduction on the figure only when points were dropped (short signals stay as they were)."""
    return mark_reduced(fig, reduction) if reduction.reduced else fig


# --- the coefficient tree as a heatmap ----------------------------------------------------------


def tree_heatmap(
    rows: Rows,
    title: str,
    kept: Mapping[str, Cells] | None = None,
    n: int | None = None,
    normalize_rows: bool = True,
    x_range: tuple[float, float] | None = None,
    height: int | None = None,
    start: int = 0,
    focus: tuple[str, int, int, int] | None = None,
    width_px: int = FULL_WIDTH_PX,
) -> go.Figure:
    """Levels-by-time heatmap of the tree (rows ``a_J, b_J, ..., b_1`` top to bottom).

    Parameters
    ----------
    rows : list of (str, ndarray (N,))
        ``CoefficientTree.rows()``: labels and coefficients in display order.
    title : str
    kept : dict TREESELECT rule -> list of (row label, time), optional
        Cells to outline, one open-square trace per TREESELECT rule in its colour
        (use :func:`cell_coords` on :func:`multires.kept_cells`).
    n : int, optional
        Current time step, marked by a dashed vertical line.
    normalize_rows : bool
        Divide each row by its largest ``|coefficient|`` so fine, small details stay visible next
        to the large coarse approximation (hover shows the true value either way).
    x_range : (float, float), optional
        Visible time range (samples); default the whole signal.
    start : int
        Time of the rows' first column, when they are a window ``[start, start + N')`` of the tree.
    width_px : int
        The chart's pixel budget: rows longer than this are pooled (:func:`.reduce.pool_columns`),
        each column then shows the largest ``|coefficient|`` of its bucket of samples, sign kept,
        and hover names the exact sample it comes from.
    focus : (str, int, int, int), optional
        ``(row label, time, first, last)``: a cell to star and the span ``x[first..last]`` of the
        past it reads (its receptive field), shaded across the rows.

    Returns
    -------
    plotly.graph_objects.Figure
        A ``"coefficients"`` heatmap trace (:data:`~multires.figures.style.SIGNED_COLORSCALE`: red
        positive, white 0, dark grey negative), then one white ``"halo ..."`` scatter per TREESELECT rule,
        then one ``"kept by ..."`` scatter per TREESELECT rule in its colour (then ``"inspected: ..."`` with
        ``focus``).
    """
    labels = [label for label, _ in rows]
    exact = np.vstack([np.asarray(v, dtype=np.float64) for _, v in rows])  # (J+1, N)
    times, values, source, bucket = pool_columns(exact, width_px)  # (J+1, N'): each an exact coefficient
    times = times + start
    # The pooling is named on the x axis, not in the title: it would crowd a long title out of a half-width chart.
    x_title = "time t (samples)" + (f" · 1 column = {bucket} samples" if bucket > 1 else "")
    if normalize_rows:
        scale = np.abs(values).max(axis=1, keepdims=True)
        z = values / np.where(scale > 0, scale, 1.0)
        zmax = 1.0
        bar_title = "÷ row<br>max |c|"
    else:
        z = values
        zmax = float(np.abs(values).max()) or 1.0
        bar_title = "coefficient"
    fig = go.Figure(go.Heatmap(
        z=z, x=times, y=labels, customdata=values, name="coefficients",
        text=None if bucket == 1 else source + start,  # the exact time of each pooled coefficient
        colorscale=SIGNED_COLORSCALE, zmid=0.0, zmin=-zmax, zmax=zmax,  # red +, grey −: blue means h0 only
        colorbar=dict(title=dict(text=bar_title, side="top", font=dict(size=11)), thickness=10,
                      tickfont=dict(size=11), xpad=4),
        hovertemplate=("%{y}[%{x}] = %{customdata:.4g}" if bucket == 1
                       else f"%{{y}}[%{{text}}] = %{{customdata:.4g}} (largest |c| of {bucket} samples near "
                            "t = %{x:.0f})") + "<extra></extra>",
    ))
    # Every white halo first, then every outline: a later (smaller) square's halo must not paint over
    # an earlier square's outline where cells kept by several TREESELECT rules nest. The halo shows
    # ~2 px of white on both sides of each outline, so it reads on the darkest cells (a_J) too.
    kept = dict(kept or {})
    for tree_select, cells in kept.items():
        fig.add_trace(go.Scatter(
            x=[t for _, t in cells], y=[label for label, _ in cells], mode="markers", showlegend=False,
            name=f"halo {tree_select}", hoverinfo="skip",
            marker=dict(symbol="square-open", size=KEPT_MARKER_SIZES.get(tree_select, 12), color="white",
                        line=dict(width=KEPT_HALO_WIDTH, color="white")),
        ))
    for tree_select, cells in kept.items():
        color = TREE_SELECT_COLORS.get(tree_select, "#000000")
        fig.add_trace(go.Scatter(
            x=[t for _, t in cells], y=[label for label, _ in cells], mode="markers",
            name=f"kept by {_tree_select_name(tree_select)}",
            marker=dict(symbol="square-open", size=KEPT_MARKER_SIZES.get(tree_select, 12), color=color,
                        line=dict(width=KEPT_LINE_WIDTH, color=color)),
            hovertemplate="%{y}[%{x}]<extra>" + _tree_select_name(tree_select) + "</extra>",
        ))
    if focus is not None:  # one cell and the span of the past it reads
        label, t, first, last = focus
        fig.add_vrect(x0=first - 0.5, x1=last + 0.5, fillcolor=FOCUS_COLOR, opacity=0.22, line_width=0)
        fig.add_trace(go.Scatter(x=[t], y=[label], mode="markers", name=f"inspected: {label}[{t}]",
                                 marker=dict(symbol="star", size=16, color=FOCUS_COLOR,
                                             line=dict(width=1.5, color="#333333")),
                                 hovertemplate=f"{label}[{t}] reads x[{first}..{last}]<extra></extra>"))
    if n is not None:  # the title names n; a text label here would collide with the legend
        fig.add_vline(x=n, line=dict(color="#333333", width=1.5, dash="dash"))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=labels,
                     tickmode="array", tickvals=labels)  # every row named, even with projector-sized fonts
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
    style_figure(fig, title, x_title, "tree level", height=height or max(300, 110 + 30 * len(labels)))
    return _mark(fig, Reduction(values.size, exact.size))


# --- per-level views ----------------------------------------------------------------------------


def _row_ticks(values: np.ndarray) -> dict:
    """Explicit ticks for one small row: its largest and smallest value rounded to 2 digits, and 0.

    Plotly's automatic ticks (``nticks``) can leave a 50 px row with no labelled tick at all.

    >>> _row_ticks(np.array([-0.5, 1.234]))["tickvals"]
    [-0.5, 0.0, 1.2]
    """
    finite = values[np.isfinite(values)] if values.size else values
    low, high = (min(float(finite.min()), 0.0), max(float(finite.max()), 0.0)) if finite.size else (0.0, 0.0)
    if low == high:
        return dict(tickvals=[0.0], range=[-1.0, 1.0])

    def toward_zero(v: float) -> float:
        scale = 10.0 ** (np.floor(np.log10(abs(v))) - 1)
        return float(f"{np.sign(v) * np.floor(abs(v) / scale) * scale:.2g}")

    # an end within 20 % of the span from 0 would print on top of 0's label: 0 alone marks it
    ticks = sorted({0.0, *(toward_zero(v) for v in (low, high) if abs(v) >= 0.2 * (high - low))})
    pad = 0.12 * (high - low)
    return dict(tickvals=ticks, tickformat=".2~g", range=[low - pad, high + pad])


def level_traces(rows: Rows, title: str, height_per_row: int = 62, width_px: int = FULL_WIDTH_PX) -> go.Figure:
    """Small multiples: one line per tree row (``a_J`` on top), sharing the time axis.

    Rows longer than the chart's pixel budget (``width_px``) are drawn through M4's points
    (:func:`.reduce.line_indices`): exact coefficients, every bin's extremes kept.

    Returns
    -------
    plotly.graph_objects.Figure
        ``len(rows)`` line traces named by their row labels.
    """
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.012)
    drawn = []
    for i, (label, values) in enumerate(rows, start=1):
        band = "approx" if label.startswith("a") else "detail"
        values = np.asarray(values, dtype=np.float64)
        t = line_indices(values, width_px)
        drawn.append(Reduction(t.size, values.size))
        fig.add_trace(go.Scatter(x=t, y=values[t], mode="lines", name=label,
                                 line=dict(color=BAND_COLORS[band], width=1.2),
                                 hovertemplate=label + "[%{x}] = %{y:.4g}<extra></extra>"), row=i, col=1)
        fig.update_yaxes(title_text=label, title_standoff=4, row=i, col=1, tickfont=dict(size=10),
                         **_row_ticks(values))
    style_figure(fig, title, None, None, height=110 + height_per_row * len(rows), legend=False)
    fig.update_xaxes(title_text="time t (samples)", row=len(rows), col=1)
    fig.update_layout(margin=dict(l=70))
    return _mark(fig, total(drawn))


def normalized_level_energy(rows: Rows) -> np.ndarray:
    """Energy of each row divided by ``2**level``: for an orthogonal wavelet these sum to ``||x||^2``.

    Level ``l`` of the undecimated tree interleaves the level-``l`` DWT coefficients of the
    ``2**l`` shifts of the signal, so its raw energy is ``2**l`` times their average; dividing by
    ``2**l`` takes that average. Summed over levels it is then ``||x||^2`` for an orthogonal wavelet
    (exactly for the periodic ``pywt.swt``; here up to the causal zero padding at the start).

    >>> normalized_level_energy([("a1", np.array([1.0, 1.0])), ("b1", np.array([2.0, 0.0]))]).tolist()
    [1.0, 2.0]
    """
    return np.array([float(np.sum(np.asarray(v, dtype=np.float64) ** 2)) / 2 ** int(label[1:])
                     for label, v in rows])


def level_energy(rows: Rows, title: str, height: int = 340, highlight: str | None = None) -> go.Figure:
    """Bar chart of each row's share of the (level-normalised) energy, in percent.

    ``highlight`` names a row (e.g. ``"b3"``) whose bar gets a thick yellow outline (a revealed answer).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace with one bar per row, ``a_J`` first.
    """
    energy = normalized_level_energy(rows)
    share = 100 * energy / (energy.sum() or 1.0)
    labels = [label for label, _ in rows]
    colors = [BAND_COLORS["approx" if lab.startswith("a") else "detail"] for lab in labels]
    fig = go.Figure(go.Bar(
        x=labels, y=share, marker_color=colors, name="energy share",
        text=[f"{s:.1f}%" for s in share], textposition="outside", cliponaxis=False, textfont=dict(size=11),
        customdata=energy, hovertemplate="%{x}: %{y:.2f}% (Σc²/2^l = %{customdata:.4g})<extra></extra>",
    ))
    if highlight is not None:
        fig.data[0].marker.line = dict(color=[FOCUS_COLOR if lab == highlight else "rgba(0,0,0,0)" for lab in labels],
                                       width=4)
    fig.update_yaxes(range=[0, max(5.0, float(share.max()) * 1.18)])
    fig.update_layout(uniformtext=dict(minsize=9, mode="show"))
    return style_figure(fig, title, "tree level", "share of energy (%)", height=height, legend=False)
