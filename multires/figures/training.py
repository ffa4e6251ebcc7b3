"""Figures of training runs and of model comparisons: curves, learned selection, accuracy bars.

Plain data in (lists, arrays, ``pandas.DataFrame``), ``plotly.graph_objects.Figure`` out; no
Streamlit, no model objects. :func:`summary_row` turns a model's config and metrics (the dict
:meth:`multires.training.TrainResult.metrics` writes into checkpoints) into one row of the
comparison table that :func:`grouped_metric_figure` and :func:`lag_r2_figure` draw.

Examples
--------
>>> fig = training_curves_figure([1, 2, 3], [2.3, 1.9, 1.5], [0.1, 0.3, 0.5], "accuracy", [3], [0.55])
>>> len(fig.data), fig.layout.title.text
(3, 'Training curves')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import STRATEGY_COLORS, STRATEGY_LABELS, finish

__all__ = [
    "INIT_COLORS",
    "METRIC_LABELS",
    "training_curves_figure",
    "selection_history_figure",
    "selection_snapshot_figure",
    "summary_row",
    "init_kind",
    "grouped_metric_figure",
    "lag_r2_figure",
]

#: How filters were initialised / trained; one colour each on the Compare page.
INIT_COLORS: dict[str, str] = {
    "random, learned": "#999999",
    "wavelet init, learned": "#56B4E9",
    "wavelet, frozen": "#CC79A7",
}
#: Axis labels of the metrics a task reports.
METRIC_LABELS: dict[str, str] = {
    "accuracy": "accuracy (fraction correct)",
    "r2": "mean R² over lags",
    "r2_mean": "mean R² over lags",
}
_TRAIN_COLOR, _VAL_COLOR, _LOSS_COLOR = "#0072B2", "#D55E00", "#555555"


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

    Returns
    -------
    Figure with 3 traces: training loss, training metric, validation metric.
    """
    metric_label = METRIC_LABELS.get(metric_name, metric_name)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"training loss ({loss_name})", metric_label),
                        horizontal_spacing=0.09)
    mode = "lines+markers" if len(steps) < 30 else "lines"  # a short run's few points stay visible
    x, y = _thin(steps, loss, max_points)
    fig.add_trace(go.Scatter(x=x, y=y, mode=mode, name="training loss", line=dict(color=_LOSS_COLOR, width=2),
                             hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"), row=1, col=1)
    x, y = _thin(steps, metric, max_points)
    fig.add_trace(go.Scatter(x=x, y=y, mode=mode, name="training (running, this epoch)",
                             line=dict(color=_TRAIN_COLOR, width=2),
                             hovertemplate="step %{x}<br>%{y:.3f}<extra>train</extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=list(val_steps), y=list(val_metric), mode="lines+markers", name="validation (epoch end)",
                             line=dict(color=_VAL_COLOR, width=2, dash="dot"), marker=dict(size=8),
                             hovertemplate="step %{x}<br>%{y:.3f}<extra>validation</extra>"), row=1, col=2)
    if total_steps:
        fig.update_xaxes(range=[0, total_steps * 1.02])
    fig.update_xaxes(title_text="optimizer step")
    fig.update_yaxes(title_text=loss_name, rangemode="tozero", row=1, col=1)
    if metric_name == "accuracy":
        fig.update_yaxes(title_text=metric_label, range=[0, 1.02], row=1, col=2)
    else:
        fig.update_yaxes(title_text=metric_label, row=1, col=2)
    fig = finish(fig, "Training curves", height=400)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="center", x=0.5),
                      margin=dict(b=95))
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
        z=per_band, x=[str(s) for s in steps], y=order, colorscale="Greens", zmin=0.0,
        zmax=float(memory_size) if memory_size else None,  # saturate above M: the final split stays vivid
        texttemplate="%{z:.1f}", textfont=dict(size=11), xgap=1, ygap=1,
        colorbar=dict(title=dict(text="slots kept per channel" + (" (≥ M dark)" if memory_size else ""),
                                 side="right"), thickness=14),
        hovertemplate="step %{x}, band %{y}: %{z:.2f} slots per channel<extra></extra>",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    budget = f" (budget M = {memory_size})" if memory_size else ""
    return finish(fig, f"Layer {layer}: where the memory budget went during training{budget}",
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
        marker=dict(symbol="square", size=size, color=share, colorscale=[[0, "#f0f0f0"], [1, STRATEGY_COLORS["learned"]]],
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
    fig = finish(fig, f"Layer {layer} at step {step}: the kept slots on the tree",
                 "lag (samples behind n)", "tree band", height=180 + 34 * len(order))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0),
                      margin=dict(b=90))
    return fig


# --- comparison of models ----------------------------------------------------------------------


def init_kind(wavelet: str | None, frozen: bool) -> str:
    """``"random, learned"``, ``"wavelet init, learned"`` or ``"wavelet, frozen"`` (keys of :data:`INIT_COLORS`)."""
    if wavelet is None:
        return "random, learned"
    return "wavelet, frozen" if frozen else "wavelet init, learned"


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def summary_row(name: str, source: str, config: Any, metrics: dict[str, Any], n_parameters: int,
                memory_slots: int) -> dict[str, Any]:
    """One row of the comparison table from a model's config and (possibly empty) metrics.

    Parameters
    ----------
    name, source : str
        Model name and where it came from (``shipped``, ``trained``, ``uploaded``).
    config : ModelConfig
        The network's config (``tree_select``, ``wavelet``, ``kernel_size``, ...).
    metrics : dict
        As :meth:`multires.training.TrainResult.metrics` writes them; missing keys give blanks.
    n_parameters, memory_slots : int
        ``net.n_parameters()`` and the slots per channel and step (``net.convs[0].n_slots``).

    Returns
    -------
    dict with the table's columns; ``test score`` is accuracy (classification) or mean R^2 (recall).

    Examples
    --------
    >>> from multires import ModelConfig
    >>> row = summary_row("m", "trained", ModelConfig(), {"task": "digits", "test_accuracy": 0.9}, 100, 7)
    >>> row["init"], row["test score"], row["score"]
    ('haar, learned', 0.9, 'accuracy')
    """
    train_config = metrics.get("train_config") or {}
    frozen = bool(train_config.get("freeze_filters", metrics.get("freeze_filters", False)))
    wavelet = config.wavelet
    kind = init_kind(wavelet, frozen)
    if wavelet is None:
        init = f"random k={config.kernel_size}, learned"
    else:
        init = f"{wavelet}, {'frozen' if frozen else 'learned'}"
    metric_name = metrics.get("metric_name")
    if "test_accuracy" in metrics or metric_name == "accuracy":
        score_name, score = "accuracy", _number(metrics.get("test_accuracy", metrics.get("test_metric")))
    elif "test_r2_mean" in metrics or metric_name in ("r2", "r2_mean"):
        score_name, score = "mean R²", _number(metrics.get("test_r2_mean", metrics.get("test_metric")))
    else:
        score_name, score = "", float("nan")
    return {
        "name": name,
        "source": source,
        "task": metrics.get("task", "?"),
        "strategy": config.tree_select,
        "init": init,
        "init kind": kind,
        "test score": score,
        "score": score_name,
        "parameters": int(n_parameters),
        "memory slots / step": int(memory_slots),
        "width × layers": f"{config.d_model} × {config.n_layers}",
        "training time (s)": _number(metrics.get("train_time_s")),
        "lags": list(metrics.get("lags") or []),
        "r2 per lag": list(metrics.get("test_r2_per_lag") or []),
    }


def grouped_metric_figure(table: pd.DataFrame, group: str, title: str, x_title: str, zoom: bool = False) -> go.Figure:
    """Horizontal bars of every model's test score, in blocks by ``group`` (``"strategy"`` or ``"init kind"``).

    Colours: strategies keep :data:`STRATEGY_COLORS`; init kinds use :data:`INIT_COLORS`. The y axis is
    two-level (group, then model name, best first), so each group reads as a block and long model
    names stay readable.

    Parameters
    ----------
    table : DataFrame
        Rows from :func:`summary_row` (one task's models); needs ``name``, ``test score``, ``init``,
        ``strategy`` and ``group``.
    title, x_title : str
        Figure title and score axis label.
    zoom : bool
        Draw dots on an axis fitted to the scores instead of bars from 0: close scores (say 0.94 to
        0.99) become distinguishable, and dots make no false claim about length.

    Returns
    -------
    Figure with one trace per group value present (bars, or marker dots when ``zoom``).
    """
    palette = STRATEGY_COLORS if group == "strategy" else INIT_COLORS
    present = set(table[group])
    order = [g for g in palette if g in present] + sorted(present - set(palette))
    fig = go.Figure()
    for value in order:
        rows = table[table[group] == value].sort_values("test score", ascending=False)
        label = STRATEGY_LABELS.get(value, value) if group == "strategy" else value
        scores = rows["test score"].astype(float)
        common = dict(
            y=[[label] * len(rows), list(rows["name"])], x=scores, name=label,
            text=[f"{v:.3f}" if np.isfinite(v) else "n/a" for v in scores],
            customdata=np.stack([rows["init"], rows["strategy"]], axis=-1),
            hovertemplate="%{y}<br>score %{x:.3f}<br>init %{customdata[0]}<br>strategy %{customdata[1]}<extra></extra>",
        )
        color = palette.get(value, "#777777")
        if zoom:
            fig.add_trace(go.Scatter(mode="markers+text", textposition="middle right", cliponaxis=False,
                                     marker=dict(color=color, size=15, line=dict(color="#333", width=1)), **common))
        else:
            fig.add_trace(go.Bar(orientation="h", marker_color=color, textposition="outside", **common))
    finite = table["test score"].astype(float)
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if len(finite) else 1.0
    low = float(finite.min()) if len(finite) else 0.0
    if zoom:
        span = max(top - low, 0.01)
        fig.update_xaxes(range=[low - 0.15 * span, top + 0.3 * span], showgrid=True)
    else:
        fig.update_xaxes(range=[min(0.0, low), max(1.0, top) * 1.1])
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=12))
    height = 130 + 34 * len(table) + 10 * len(order)
    fig = finish(fig, title, x_title, None, height=height)
    fig.update_layout(bargap=0.25, legend=dict(traceorder="normal"))
    return fig


def lag_r2_figure(curves: Sequence[dict[str, Any]]) -> go.Figure:
    """Memory task: test R^2 of recalling ``x[n - tau]`` against the lag ``tau``, one line per model.

    Parameters
    ----------
    curves : sequence of dict
        Each with ``name``, ``strategy``, ``init kind``, ``lags`` and ``r2 per lag`` (a row of
        :func:`summary_row`). Colour = strategy; dash = init kind.

    Returns
    -------
    Figure with one line trace per model (log2 lag axis).
    """
    dashes = {"random, learned": "dot", "wavelet init, learned": "solid", "wavelet, frozen": "dash"}
    fig = go.Figure()
    for row in curves:
        lags = np.asarray(row["lags"], dtype=float)
        r2 = np.asarray([np.nan if v is None else v for v in row["r2 per lag"]], dtype=float)
        fig.add_trace(go.Scatter(
            x=lags, y=r2, mode="lines+markers", name=row["name"],
            line=dict(color=STRATEGY_COLORS.get(row["strategy"], "#777777"), width=2.5,
                      dash=dashes.get(row["init kind"], "solid")),
            marker=dict(size=7),
            hovertemplate="lag %{x}<br>R² %{y:.3f}<extra>%{fullData.name}</extra>",
        ))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.update_xaxes(type="log", tickvals=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    fig.update_yaxes(range=[-0.1, 1.05])
    fig = finish(fig, "Memory task: how well each model recalls the input τ steps back",
                 "lag τ (time steps, log scale)", "test R² (1 = perfect recall)", height=420)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02))
    return fig
