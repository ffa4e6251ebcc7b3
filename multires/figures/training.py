"""Figures of training runs: a dataset's example series, curves, live filters, learned selection.

Plain data in (lists, arrays), ``plotly.graph_objects.Figure`` out; no Streamlit, no model objects.
Comparisons between models are in :mod:`multires.figures.compare`.

Examples
--------
>>> fig = training_curves_figure([1, 2, 3], [2.3, 1.9, 1.5], [0.1, 0.3, 0.5], "accuracy", [3], [0.55])
>>> len(fig.data), fig.layout.title.text
(3, 'Training curves')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import FILTER_COLORS, TREE_SELECT_COLORS, style_figure

__all__ = [
    "METRIC_LABELS",
    "example_series_figure",
    "live_filters_figure",
    "selection_history_figure",
    "selection_snapshot_figure",
    "training_curves_figure",
]

#: Axis labels of the metrics a task reports.
METRIC_LABELS: dict[str, str] = {
    "accuracy": "accuracy (fraction correct)",
    "r2": "mean R² over lags",
    "r2_mean": "mean R² over lags",
}
# Training curves in neutral greys: blue and orange mean h0/h1 (approximation/detail) and the hues
# name TREESELECT rules elsewhere in the app. Train dark grey solid, validation black dashed.
_TRAIN_COLOR, _VAL_COLOR, _LOSS_COLOR = "#333333", "#000000", "#555555"
#: Sequential light-to-dark grey for counts (slots kept): no hue, so it reads as no TREESELECT rule or filter.
_COUNT_COLORSCALE = [[0.0, "#f5f5f5"], [1.0, "#1a1a1a"]]


def _thin(x: Sequence[float], y: Sequence[float], points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``points`` evenly spaced samples of a curve (first and last kept)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size <= points:
        return x, y
    keep = np.unique(np.linspace(0, x.size - 1, points).round().astype(int))
    return x[keep], y[keep]


def training_curves_figure(
    steps: Sequence[int],
    loss: Sequence[float],
    metric: Sequence[float],
    metric_name: str,
    val_steps: Sequence[int] = (),
    val_metric: Sequence[float] = (),
    total_steps: int | None = None,
    loss_name: str = "cross entropy",
    max_points: int = 400,
    compact: bool = False,
) -> go.Figure:
    """Loss (left) and metric (right) against optimizer steps, train running curve + validation points.

    Parameters
    ----------
    steps : sequence of int
        Optimizer step of each sample of ``loss`` and ``metric`` (1-based).
    loss : sequence of float
        Training loss of that step.
    metric : sequence of float
        Training metric over the epoch so far (accuracy, or mean R^2).
    metric_name : str
        ``"accuracy"``, ``"r2"`` or ``"r2_mean"``.
    val_steps, val_metric : sequence
        Validation metric at the end of each epoch.
    total_steps : int, optional
        Fixes the x range to the whole run, so a live chart does not rescale as it grows.
    loss_name : str
        ``"cross entropy"`` or ``"MSE"``; y label of the loss panel.
    max_points : int
        Curves are thinned to this many points (keeps a live chart light).
    compact : bool
        For a narrow column: no panel titles (the y axes say what each panel is), lower height.

    Returns
    -------
    Figure with 3 traces: training loss, training metric, validation metric.
    """
    metric_label = METRIC_LABELS.get(metric_name, metric_name)
    titles = None if compact else (f"training loss ({loss_name})", metric_label)
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.14 if compact else 0.09)
    mode = "lines+markers" if len(steps) < 30 else "lines"  # a short run's few points stay visible
    x, y = _thin(steps, loss, max_points)
    fig.add_trace(go.Scatter(x=x, y=y, mode=mode, name="training loss", line=dict(color=_LOSS_COLOR, width=2),
                             hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"), row=1, col=1)
    x, y = _thin(steps, metric, max_points)
    fig.add_trace(go.Scatter(x=x, y=y, mode=mode, name="training (running, this epoch)",
                             line=dict(color=_TRAIN_COLOR, width=2),
                             hovertemplate="step %{x}<br>%{y:.3f}<extra>train</extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=list(val_steps), y=list(val_metric), mode="lines+markers", name="validation (epoch end)",
                             line=dict(color=_VAL_COLOR, width=2, dash="dash"), marker=dict(size=8),
                             hovertemplate="step %{x}<br>%{y:.3f}<extra>validation</extra>"), row=1, col=2)
    if total_steps:
        fig.update_xaxes(range=[0, total_steps * 1.02])
    fig.update_xaxes(title_text="optimizer step")
    fig.update_yaxes(title_text=loss_name, rangemode="tozero", row=1, col=1)
    if metric_name == "accuracy":
        fig.update_yaxes(title_text=metric_label, range=[0, 1.02], row=1, col=2)
    else:
        fig.update_yaxes(title_text=metric_label, row=1, col=2)
    fig = style_figure(fig, "Training curves", height=360 if compact else 400)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.32 if compact else -0.2, xanchor="center",
                                  x=0.5), margin=dict(b=130 if compact else 95))
    return fig


def _band_order(bands: Sequence[str]) -> list[str]:
    """Distinct band labels, coarse first: ``a_J`` then ``b_J .. b_1`` (labels like ``"a6"``, ``"b3"``)."""
    unique = set(bands)
    return sorted(unique, key=lambda b: (b[0] != "a", -int(b[1:])))


def selection_history_figure(
    steps: Sequence[int],
    kept_fraction: np.ndarray,
    slot_bands: Sequence[str],
    layer: int,
    memory_size: int | None = None,
) -> go.Figure:
    """Where the learned TREESELECT put its budget: mean slots kept per channel in every band, per snapshot.

    Parameters
    ----------
    steps : sequence of int (S,)
        Optimizer step of each snapshot (0 = before training).
    kept_fraction : ndarray (S, n_candidates)
        Fraction of the layer's channels keeping each candidate slot at each snapshot.
    slot_bands : sequence of str (n_candidates,)
        Band of each candidate: ``"a6"`` (approximation of level 6), ``"b3"`` (detail of level 3), ...
    layer : int
        For the title.
    memory_size : int, optional
        ``M``, for the title.

    Returns
    -------
    Figure with 1 annotated heatmap trace: bands as rows (coarse top), snapshots as columns.
    """
    z = np.asarray(kept_fraction, dtype=float)
    bands = np.asarray(slot_bands)
    order = _band_order(list(bands))
    per_band = np.stack([z[:, bands == b].sum(axis=1) for b in order])  # (B S): mean slots per channel
    fig = go.Figure(go.Heatmap(
        z=per_band, x=[str(s) for s in steps], y=order, colorscale=_COUNT_COLORSCALE, zmin=0.0,
        zmax=float(memory_size) if memory_size else None,  # saturate above M: the final split stays dark
        texttemplate="%{z:.1f}", textfont=dict(size=11), xgap=1, ygap=1,
        colorbar=dict(title=dict(text="slots kept per channel" + (" (≥ M dark)" if memory_size else ""),
                                 side="right"), thickness=14),
        hovertemplate="step %{x}, band %{y}: %{z:.2f} slots per channel<extra></extra>",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    budget = f" (budget M = {memory_size})" if memory_size else ""
    return style_figure(fig, f"Layer {layer}: where the memory budget went during training{budget}",
                  "training step (snapshot)", "tree band (coarse top, fine bottom)",
                  height=160 + 32 * len(order), legend=False)


def selection_snapshot_figure(
    kept_fraction: np.ndarray,
    slot_bands: Sequence[str],
    slot_lags: Sequence[int],
    layer: int,
    step: int,
    channel: int | None = None,
    channel_mask: np.ndarray | None = None,
) -> go.Figure:
    """One snapshot drawn like the tree: every candidate slot at (lag, band), coloured by how many channels keep it.

    Parameters
    ----------
    kept_fraction : ndarray (n_candidates,)
        Share of channels keeping each candidate at this snapshot.
    slot_bands, slot_lags : sequences (n_candidates,)
        Band label (``"a6"``, ``"b3"``, ...) and lag in samples of every candidate.
    layer, step : int
        For the title.
    channel, channel_mask : optional
        One channel's kept slots (bool (n_candidates,)), outlined in black.

    Returns
    -------
    Figure with 1 scatter trace (all candidates), plus 1 outline trace when a channel is given.
    """
    share = np.asarray(kept_fraction, dtype=float)
    bands, lags = list(slot_bands), np.asarray(slot_lags)
    order = _band_order(bands)
    densest = max(bands.count(b) for b in order) if bands else 1
    size = float(np.clip(700 / densest, 5, 12))  # squares of the finest band must not overlap
    fig = go.Figure(go.Scatter(
        x=lags, y=bands, mode="markers", name="candidate slot",
        marker=dict(symbol="square", size=size, color=share, colorscale=[[0, "#f0f0f0"], [1, TREE_SELECT_COLORS["learned"]]],
                    cmin=0, cmax=1, line=dict(color="#bbbbbb", width=0.5),
                    colorbar=dict(title=dict(text="share of channels keeping it", side="right"), thickness=14,
                                  tickformat=".0%")),
        customdata=share, hovertemplate="%{y}[n-%{x}]: kept by %{customdata:.0%} of channels<extra></extra>",
    ))
    if channel is not None and channel_mask is not None:
        mask = np.asarray(channel_mask, dtype=bool)
        fig.add_trace(go.Scatter(
            x=lags[mask], y=[b for b, m in zip(bands, mask) if m], mode="markers", name=f"kept by channel {channel}",
            marker=dict(symbol="square-open", size=size + 4, color="#000000", line=dict(width=2)),
            hovertemplate="%{y}[n-%{x}]: kept by channel " + str(channel) + "<extra></extra>",
        ))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order, autorange="reversed")
    far = float(lags.max()) if lags.size else 1.0
    fig.update_xaxes(range=[-0.03 * far - 1, 1.03 * far + 1])  # lag-0 squares fully visible
    fig = style_figure(fig, f"Layer {layer} at step {step}: the kept slots on the tree",
                 "lag (samples behind n)", "tree band", height=180 + 34 * len(order))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0),
                      margin=dict(b=90))
    return fig


def live_filters_figure(
    h0: np.ndarray,
    h1: np.ndarray,
    layer: int,
    step: int,
    channel: int = 0,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
    y_limit: float | None = None,
) -> go.Figure:
    """One layer's filters during training: every channel's taps as thin lines, one channel in bold.

    Parameters
    ----------
    h0, h1 : ndarray (channels, k)
        Lowpass / highpass taps of every channel of the layer (cross-correlation order, as
        ``conv.h0``).
    layer, step : int
        For the title (``step`` 0: before training).
    channel : int
        The channel drawn in bold (with markers).
    initial : (ndarray (channels, k), ndarray (channels, k)), optional
        The filters at step 0; the chosen channel's are drawn dashed grey, so the change shows.
    y_limit : float, optional
        Fixed symmetric y range ``[-y_limit, y_limit]`` (keeps a live chart from rescaling).

    Returns
    -------
    Figure with two panels (h0 blue, h1 orange) and 2 traces per panel (all channels, the chosen one),
    plus 1 per panel for ``initial``.

    Examples
    --------
    >>> haar = np.array([[0.7071, 0.7071]]), np.array([[-0.7071, 0.7071]])
    >>> fig = live_filters_figure(*haar, layer=0, step=0)
    >>> len(fig.data), fig.layout.title.text
    (4, 'Layer 0 filters at step 0 (1 channel)')
    """
    filters = {"h0": np.asarray(h0, dtype=float), "h1": np.asarray(h1, dtype=float)}
    channels, k = filters["h0"].shape
    channel = int(min(max(channel, 0), channels - 1))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("h0 (lowpass)", "h1 (highpass)"), horizontal_spacing=0.08)
    taps = np.arange(k)
    for col, (name, taps_of) in enumerate(filters.items(), start=1):
        color = FILTER_COLORS[name]
        x_all = np.concatenate([np.append(taps, np.nan) for _ in range(channels)])  # one trace, gaps between
        y_all = np.concatenate([np.append(row, np.nan) for row in taps_of])
        fig.add_trace(go.Scatter(x=x_all, y=y_all, mode="lines", name=f"{name}, every channel", opacity=0.25,
                                 line=dict(color=color, width=1), hoverinfo="skip", showlegend=col == 1), row=1, col=col)
        if initial is not None:
            fig.add_trace(go.Scatter(x=taps, y=np.asarray(initial[col - 1], dtype=float)[channel], mode="lines",
                                     name=f"channel {channel} at the start", line=dict(color="#888888", dash="dash"),
                                     showlegend=col == 1, hovertemplate="tap %{x}: %{y:.3f}<extra>start</extra>"),
                          row=1, col=col)
        fig.add_trace(go.Scatter(x=taps, y=taps_of[channel], mode="lines+markers", name=f"{name}, channel {channel}",
                                 line=dict(color=color, width=3), marker=dict(size=9),
                                 hovertemplate="tap %{x}: %{y:.4f}<extra>" + f"{name} channel {channel}</extra>"),
                      row=1, col=col)
    fig.update_xaxes(title_text="tap index i", tickvals=list(taps))
    if y_limit:
        fig.update_yaxes(range=[-y_limit, y_limit])
    fig.update_yaxes(title_text="tap value", zeroline=True, zerolinecolor="#999999", row=1, col=1)
    plural = "channel" if channels == 1 else "channels"
    fig = style_figure(fig, f"Layer {layer} filters at step {step} ({channels} {plural})", height=360)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0.0), margin=dict(b=120))
    return fig


def example_series_figure(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    per_class: int = 3,
    max_classes: int = 5,
    y_title: str = "value",
) -> go.Figure:
    """A dataset at a glance: a few series of each of the first classes, one small panel per class.

    Parameters
    ----------
    x : ndarray (n_series, length)
        The series (one channel).
    y : ndarray (n_series,) of int
        Class index of each series (into ``class_names``).
    class_names : sequence of str
        Panel titles.
    per_class, max_classes : int
        Series drawn per class (the first ones of that class) and classes shown.
    y_title : str
        Label of the value axis (say how the series were scaled).

    Returns
    -------
    Figure with one panel per class shown and one line trace per series drawn.

    Examples
    --------
    >>> fig = example_series_figure(np.zeros((4, 16)), np.array([0, 1, 0, 1]), ["a", "b"], per_class=2)
    >>> len(fig.data), [a.text for a in fig.layout.annotations]
    (4, ['class a', 'class b'])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y)
    shown = [c for c in range(len(class_names)) if np.any(y == c)][:max_classes]
    fig = make_subplots(rows=1, cols=max(len(shown), 1), shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=[f"class {class_names[c]}" for c in shown])
    time_axis = np.arange(x.shape[1])
    greys = ("#222222", "#6b6b6b", "#a8a8a8")
    for col, c in enumerate(shown, start=1):
        for i, index in enumerate(np.flatnonzero(y == c)[:per_class]):
            fig.add_trace(go.Scatter(x=time_axis, y=x[index], mode="lines", line=dict(color=greys[i % 3], width=1.2),
                                     showlegend=False, hovertemplate=f"series {index}<br>t=%{{x}}: %{{y:.3f}}<extra></extra>"),
                          row=1, col=col)
    more = len(class_names) - len(shown)
    title = f"Example series, {per_class} per class" + (f" (first {len(shown)} of {len(class_names)} classes)"
                                                       if more > 0 else "")
    fig = style_figure(fig, title, None, None, height=250, legend=False)
    fig.update_xaxes(title_text="time step", row=1, col=1)
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    fig.update_layout(margin=dict(t=70, b=45))
    return fig
