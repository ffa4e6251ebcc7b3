"""Figures of the TREESELECT memory: footprint, reconstruction of the past, capacity, composite kernel.

Series are passed as ``{strategy: values}`` dicts keyed by ``"fading"``, ``"uniform"``, ``"learned"``
(and ``"full history"``, ``"tree"`` for the footprint); each strategy is drawn in its
:data:`~multires.figures.style.STRATEGY_COLORS` colour, under the name given in ``labels`` (default
:data:`~multires.figures.style.STRATEGY_LABELS`).

Examples
--------
>>> import numpy as np
>>> fig = capacity_figure(np.arange(4), {"fading": np.array([1.0, 1.0, 0.5, 0.5])})
>>> fig.data[0].name, fig.layout.xaxis.title.text
('resolution fading (total 3.0)', 'lag τ (samples)')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..treeselect import Slot
from .reduce import FULL_WIDTH_PX, HALF_WIDTH_PX, Reduction, mark_reduced, pool_columns, reduced_line, total
from .style import SIGNED_COLORSCALE, STRATEGY_COLORS, STRATEGY_LABELS, finish

__all__ = [
    "capacity_figure",
    "footprint_figure",
    "guess_overlay",
    "kernel_figure",
    "reconstruction_error_figure",
    "reconstruction_figure",
    "selection_matrix_figure",
]

_DASHES = {"full history": "dot", "tree": "dash"}
_SIGNAL_COLOR = "#222222"
#: The inspected cell's span of the past (same yellow as :data:`multires.figures.tree.FOCUS_COLOR`).
_FOCUS_COLOR = "#E6B800"


def _legend_below(fig: go.Figure) -> go.Figure:
    """Legend under the x-axis title, so it never collides with the title in a half-width column."""
    height = fig.layout.height or 400
    # anchored to the figure's bottom edge (not a fraction of the plot): however tall the chart and however
    # large presentation mode makes the axis title, the legend sits below it, never on it
    fig.update_layout(legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0, xanchor="left", x=0.0),
                      margin=dict(b=120), height=height + 50)
    return fig


def _label(strategy: str, labels: Mapping[str, str] | None) -> str:
    if labels and strategy in labels:
        return labels[strategy]
    return STRATEGY_LABELS.get(strategy, strategy)


def _color(strategy: str) -> str:
    return STRATEGY_COLORS.get(strategy, "#000000")


def _mark(fig: go.Figure, drawn: Sequence[Reduction]) -> go.Figure:
    """Record the traces' reduction on the figure when points were dropped (short data stay as they were)."""
    reduction = total(drawn)
    return mark_reduced(fig, reduction) if reduction.reduced else fig


def footprint_figure(
    n_values: np.ndarray,
    series: Mapping[str, np.ndarray],
    labels: Mapping[str, str] | None = None,
    current_n: int | None = None,
    height: int = 400,
) -> go.Figure:
    """Numbers each memory holds as the sequence length ``N`` grows, on log-log axes.

    Parameters
    ----------
    n_values : ndarray (P,)
        Sequence lengths ``N``.
    series : dict str -> ndarray (P,)
        Per memory kind (``"full history"``, ``"tree"``, ``"fading"``, ``"uniform"``, ``"learned"``).
    labels : dict str -> str, optional
        Legend names, e.g. ``{"uniform": "uniform (M = 8)"}``.
    current_n : int, optional
        Marks the length of the signal on screen.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace per series.
    """
    fig = go.Figure()
    drawn: list[np.ndarray] = []
    for strategy, values in series.items():
        # a series equal to one drawn before it (learned M = uniform M) is dashed and thinner on top,
        # so both lines stay visible
        same = any(np.array_equal(np.asarray(values), other) for other in drawn)
        drawn.append(np.asarray(values))
        fig.add_trace(go.Scatter(
            x=n_values, y=values, mode="lines+markers", name=_label(strategy, labels),
            line=dict(color=_color(strategy), width=2.5 if not same else 2,
                      dash="dash" if same else _DASHES.get(strategy, "solid")),
            marker=dict(size=5), hovertemplate="N = %{x}: %{y:,} numbers<extra>" + _label(strategy, labels) + "</extra>",
        ))
    if current_n is not None:
        fig.add_vline(x=current_n, line=dict(color="#555555", width=1, dash="dash"),
                      annotation_text=f"this signal: N = {current_n}", annotation_position="top left",
                      annotation_font=dict(size=12, color="#555555"))
    n_values = np.asarray(n_values)
    fig.update_xaxes(type="log", tickvals=n_values[::2], ticktext=[f"{v:,}" for v in n_values[::2]])
    fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    finish(fig, "Memory footprint as the sequence grows", "sequence length N (samples, log scale)",
           "numbers held (log scale)", height=height)
    # the legend beside the plot: below it, its rows covered the x-axis title at presentation sizes
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02))
    return fig


def reconstruction_figure(
    t: np.ndarray,
    x_window: np.ndarray,
    x_hats: Mapping[str, np.ndarray],
    n: int,
    labels: Mapping[str, str] | None = None,
    height: int = 400,
    span: tuple[int, int] | None = None,
    width_px: int = HALF_WIDTH_PX,
) -> go.Figure:
    """The past window of the signal and its minimum-norm reconstruction from each strategy's memory.

    Windows longer than the chart's pixel budget ``width_px`` are drawn through M4's points
    (:mod:`.reduce`): exact values, every bin's extremes kept.

    Parameters
    ----------
    t : ndarray (W,)
        Times of the window, oldest first.
    x_window : ndarray (W,)
        The signal on ``t``.
    x_hats : dict strategy -> ndarray (W,)
        ``x_hat`` of :func:`multires.analysis.memory.reconstruct_past` on the same ``t``.
    span : (int, int), optional
        ``(first, last)`` times to shade: the samples an inspected memory cell reads.

    Returns
    -------
    plotly.graph_objects.Figure
        ``"signal x"`` then one trace per strategy.
    """
    fig = go.Figure()
    tx, ty, signal_drawn = reduced_line(x_window, width_px, x=t)
    drawn = [signal_drawn]
    fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", name="signal x",
                             line=dict(color=_SIGNAL_COLOR, width=3), opacity=0.35))
    for strategy, x_hat in x_hats.items():
        tx, ty, reduction = reduced_line(x_hat, width_px, x=t)
        drawn.append(reduction)
        fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", name=_label(strategy, labels),
                                 line=dict(color=_color(strategy), width=2, shape="hv")))
    fig.add_vline(x=n, line=dict(color="#555555", width=1, dash="dash"))
    if span is not None:
        fig.add_vrect(x0=span[0] - 0.5, x1=span[1] + 0.5, fillcolor=_FOCUS_COLOR, opacity=0.22, line_width=0,
                      annotation_text="read by the inspected cell", annotation_position="top left",
                      annotation_font=dict(size=12))
    finish(fig, f"What the memory at n = {n} still knows",
           "time t (samples)", "amplitude (signal units)", height=height)
    return _mark(_legend_below(fig), drawn)


def reconstruction_error_figure(
    lags: np.ndarray,
    errors: Mapping[str, np.ndarray],
    labels: Mapping[str, str] | None = None,
    height: int = 400,
    width_px: int = HALF_WIDTH_PX,
) -> go.Figure:
    """Expected squared reconstruction error per lag for white-noise input (0 = remembered exactly).

    More lags than the pixel budget ``width_px`` are drawn through M4's points (:mod:`.reduce`).

    Returns
    -------
    plotly.graph_objects.Figure
        One step-line trace per strategy.
    """
    fig = go.Figure()
    drawn = []
    for strategy, error in errors.items():
        x, y, reduction = reduced_line(error, width_px, x=lags)
        drawn.append(reduction)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_label(strategy, labels),
                                 line=dict(color=_color(strategy), width=2.2, shape="hvh")))
    fig.update_yaxes(range=[-0.03, 1.05])
    finish(fig, "Reconstruction error vs lag (white-noise input)", "lag τ = n − t (samples)",
           "squared error (fraction of variance)", height=height)
    return _mark(_legend_below(fig), drawn)


def capacity_figure(
    lags: np.ndarray,
    r2: Mapping[str, np.ndarray],
    labels: Mapping[str, str] | None = None,
    height: int = 400,
    mark_lag: tuple[int, str] | None = None,
    width_px: int = HALF_WIDTH_PX,
) -> go.Figure:
    """Memory capacity: R² of the best linear readout of ``x[n - τ]`` from the memory, per lag.

    The legend gives each strategy's total capacity ``Σ_τ R²(τ)`` (at most its number of slots).
    With a vanishing ridge ``R²(τ) = 1 −`` the reconstruction error of
    :func:`multires.analysis.memory.reconstruction_error_by_lag`, so this one chart shows both.
    ``mark_lag = (τ, text)`` draws a labelled vertical line at ``τ`` (a revealed answer). More lags
    than the pixel budget ``width_px`` are drawn through M4's points (:mod:`.reduce`); the totals
    are of every lag.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per strategy.
    """
    fig = go.Figure()
    drawn = []
    for strategy, values in r2.items():
        capacity = float(np.sum(values))
        x, y, reduction = reduced_line(values, width_px, x=lags)
        drawn.append(reduction)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{_label(strategy, labels)} (total {capacity:.1f})",
                                 line=dict(color=_color(strategy), width=2.2, shape="hvh")))
    if mark_lag is not None:
        fig.add_vline(x=mark_lag[0], line=dict(color="#333333", width=2, dash="dot"),
                      annotation_text=mark_lag[1], annotation_position="top right", annotation_font=dict(size=13))
    fig.update_yaxes(range=[-0.03, 1.05])
    finish(fig, "How well the memory remembers x[n − τ]",
           "lag τ (samples)", "R² remembered (= 1 − error)", height=height)
    return _mark(_legend_below(fig), drawn)


def kernel_figure(
    kernel: np.ndarray,
    contributions: np.ndarray,
    slot_labels: Sequence[str],
    skip_weight: float,
    height: int | None = None,
    highlight_row: int | None = None,
    width_px: int = FULL_WIDTH_PX,
) -> go.Figure:
    """The composite kernel ``K`` (the memory's impulse response) above the slot contributions it sums.

    ``K[m] = Σ_s w_s g_s[m − lag_s] + w_skip δ[m]``: row ``s`` of the heatmap is ``w_s`` times slot
    ``s``'s impulse response (lag included); the columns of the heatmap plus the skip sum to ``K``.

    Parameters
    ----------
    kernel : ndarray (L,)
        ``K``, index = lag ``m``.
    contributions : ndarray (S, L)
        ``w_s`` times the slot impulse responses.
    slot_labels : list of str
        One per row of ``contributions``, e.g. ``"b2[n-4]  (w = 0.31)"``.
    skip_weight : float
    highlight_row : int, optional
        Index of a slot row to outline (the inspected cell's slot).
    width_px : int
        The chart's pixel budget (:mod:`.reduce`): a longer ``K`` is drawn through M4's points, and
        the heatmap's columns then pool buckets of lags, each showing its largest ``|value|`` (sign
        kept; hover names its exact lag).

    Returns
    -------
    plotly.graph_objects.Figure
        A ``"K"`` line trace (top) and a ``"slot contributions"`` heatmap (bottom), sharing the lag axis.
    """
    contributions = np.asarray(contributions, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    lags = np.arange(kernel.size)
    n_rows = max(1, contributions.shape[0])
    heat_share = min(0.75, 0.3 + 0.03 * n_rows)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[1 - heat_share, heat_share])
    k_lags, k_values, k_drawn = reduced_line(kernel, width_px)
    fig.add_trace(go.Scatter(x=k_lags, y=k_values, mode="lines+markers" if kernel.size <= 200 else "lines",
                             name="K", line=dict(color=_SIGNAL_COLOR, width=1.8), marker=dict(size=4),
                             hovertemplate="K[%{x}] = %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_hline(y=0, line=dict(color="#bbbbbb", width=1), row=1, col=1)
    zmax = float(np.abs(contributions).max()) if contributions.size else 1.0
    columns, pooled, source, bucket = (pool_columns(contributions, width_px) if contributions.size
                                       else (lags, contributions, None, 1))
    fig.add_trace(go.Heatmap(
        z=pooled, x=columns if bucket > 1 else lags, y=list(slot_labels), name="slot contributions",
        text=source if bucket > 1 else None,  # the exact lag of each pooled value
        colorscale=SIGNED_COLORSCALE, zmid=0.0, zmin=-zmax, zmax=zmax,  # red +, grey −: blue means h0 only
        colorbar=dict(title=dict(text="w<sub>s</sub> · g<sub>s</sub>[m]", side="right"), thickness=14,
                      len=heat_share, y=heat_share / 2, yanchor="middle"),
        hovertemplate=("%{y}<br>lag %{x}: %{z:.4g}" if bucket == 1
                       else f"%{{y}}<br>lag %{{text}}: %{{z:.4g}} (largest |value| of {bucket} lags)")
        + "<extra></extra>",
    ), row=2, col=1)
    if highlight_row is not None and 0 <= highlight_row < len(slot_labels):
        nonzero = np.flatnonzero(contributions[highlight_row])
        first, last = (int(nonzero[0]), int(nonzero[-1])) if nonzero.size else (0, kernel.size - 1)
        fig.add_shape(type="rect", x0=first - 0.5, x1=last + 0.5, y0=highlight_row - 0.5, y1=highlight_row + 0.5,
                      line=dict(color=_FOCUS_COLOR, width=3), row=2, col=1)
        fig.add_vrect(x0=first - 0.5, x1=last + 0.5, fillcolor=_FOCUS_COLOR, opacity=0.18, line_width=0,
                      row=1, col=1)
    fig.update_yaxes(title_text="K[m]", row=1, col=1)
    fig.update_yaxes(title_text="slot", autorange="reversed", type="category", row=2, col=1,
                     tickfont=dict(size=11))
    finish(fig, f"Composite kernel K and the slot contributions it sums (skip weight {skip_weight:+.3f} at m = 0)",
           None, None, height=height or int(320 + 16 * n_rows), legend=False)
    fig.update_xaxes(title_text="lag m (samples)", row=2, col=1)
    return _mark(fig, [k_drawn, Reduction(int(pooled.size), int(contributions.size))])


def selection_matrix_figure(
    kept_by_channel: Sequence[Sequence[Slot]],
    channel: int | None = None,
    title: str = "What the learned selection kept, per channel",
    height: int | None = None,
) -> go.Figure:
    """Slots × channels: which slots each channel's learned TREESELECT kept.

    Rows are the slots kept by at least one channel, in weight order (``a_J`` first, then detail
    levels coarse to fine, most recent first); columns are channels; a filled cell means the channel
    keeps that slot. The bars on the right count the channels that keep each slot.

    Parameters
    ----------
    kept_by_channel : list of list of Slot
        ``kept_by_channel[c]`` is channel ``c``'s kept slots (e.g. ``conv.kept_slots(c)``).
    channel : int, optional
        A channel to outline (the one shown elsewhere on the page).

    Returns
    -------
    plotly.graph_objects.Figure
        A ``"kept"`` heatmap (left) and a ``"channels keeping the slot"`` bar trace (right).

    Examples
    --------
    >>> fig = selection_matrix_figure([[Slot("approx", 2, 0)], [Slot("approx", 2, 0), Slot("detail", 1, 2)]])
    >>> list(fig.data[0].y), fig.data[0].z.tolist(), fig.data[1].x.tolist()
    (['a2[n]', 'b1[n-2]'], [[1.0, 1.0], [0.0, 1.0]], [2.0, 1.0])
    """
    if not kept_by_channel:
        raise ValueError("kept_by_channel is empty: pass one list of kept slots per channel")
    order = sorted({s for slots in kept_by_channel for s in slots},
                   key=lambda s: (s.band != "approx", -s.level, s.lag))
    index = {s: i for i, s in enumerate(order)}
    z = np.zeros((len(order), len(kept_by_channel)))  # (slots channels)
    for c, slots in enumerate(kept_by_channel):
        for s in slots:
            z[index[s], c] = 1.0
    names = [str(s) for s in order]
    color = STRATEGY_COLORS["learned"]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.02, column_widths=[0.86, 0.14])
    fig.add_trace(go.Heatmap(z=z, x=list(range(len(kept_by_channel))), y=names, name="kept", showscale=False,
                             colorscale=[[0, "#f1f1f1"], [1, color]], zmin=0, zmax=1, xgap=1, ygap=1,
                             hovertemplate="channel %{x}, %{y}: %{z:.0f}<extra>1 = kept</extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=z.sum(axis=1), y=names, orientation="h", name="channels keeping the slot",
                         marker_color=color, hovertemplate="%{y}: kept by %{x:.0f} channels<extra></extra>"),
                  row=1, col=2)
    if channel is not None and 0 <= channel < len(kept_by_channel):
        fig.add_shape(type="rect", x0=channel - 0.5, x1=channel + 0.5, y0=-0.5, y1=len(order) - 0.5,
                      line=dict(color=_FOCUS_COLOR, width=3), row=1, col=1)
    fig.update_yaxes(title_text="slot (band, level, lag)", autorange="reversed", type="category", row=1, col=1)
    finish(fig, title, None, None, height=height or int(150 + 24 * len(order)), legend=False)
    fig.update_xaxes(title_text="channel", row=1, col=1)
    fig.update_xaxes(title_text="channels (count)", row=1, col=2)
    return fig


def guess_overlay(fig: go.Figure, guess: Sequence[tuple[str, int]], right: Sequence[tuple[str, int]]) -> go.Figure:
    """Mark a student's guessed cells on a tree heatmap: a white dot where the guess is right, a black ✗ where not.

    ``guess`` and ``right`` are ``(row label, time)`` cells (:func:`multires.figures.tree.cell_coords`);
    the right cells themselves are drawn by the heatmap's ``kept`` outlines.

    Returns
    -------
    plotly.graph_objects.Figure
        ``fig`` with ``"your guess: kept"`` and ``"your guess: not kept"`` marker traces added.
    """
    right_set = set(right)
    # Shape says right or wrong; the colours are neutral black/white, because on this heatmap red means a
    # positive coefficient and green the resolution-fading strategy. Each marker has an edge of the
    # other colour, so it reads on red, white and dark grey cells alike.
    for name, cells, symbol, color, edge in (
        ("your guess: kept", [c for c in guess if c in right_set], "circle", "white", "#111111"),
        ("your guess: not kept", [c for c in guess if c not in right_set], "x", "#111111", "white"),
    ):
        fig.add_trace(go.Scatter(x=[t for _, t in cells], y=[label for label, _ in cells], mode="markers", name=name,
                                 marker=dict(symbol=symbol, size=9, color=color, line=dict(width=1.5, color=edge)),
                                 hovertemplate="%{y}[%{x}]<extra>" + name + "</extra>"))
    return fig
