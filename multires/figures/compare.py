"""Figures and tables that compare models: one row per model, one point per configuration over seeds.

Plain data in (dicts, ``pandas.DataFrame``), ``plotly.graph_objects.Figure`` out; no Streamlit, no
model objects. :func:`summary_row` turns a model's config and metrics (the dict
:meth:`multires.training.TrainResult.metrics` writes into checkpoints) plus its counted budget into
one row; :func:`seed_groups` merges rows that differ only by seed; :func:`score_ranges_figure` draws
each configuration's mean with the range over its seeds, beside reference lines for baselines
(:func:`multires.study.results.baseline_levels` reads them from the shipped study).

Examples
--------
>>> from multires import ModelConfig
>>> rows = [summary_row(f"m · seed {s}", "trained", ModelConfig(), {"task": "digits", "test_accuracy": a,
...         "train_config": {"seed": s, "epochs": 3}}, 100, 7, [7, 7]) for s, a in ((0, 0.75), (1, 0.25))]
>>> groups = seed_groups(pd.DataFrame(rows))
>>> groups[["configuration", "seeds", "mean", "low", "high"]].values.tolist()
[['m (fading · haar · 32×2)', 2, 0.5, 0.25, 0.75]]
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..options import InitKind
from .style import TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = ["INIT_SYMBOLS", "init_kind", "lag_r2_caption", "lag_r2_figure", "score_ranges_figure", "seed_groups",
           "summary_row"]

#: How filters were initialised / trained: one marker shape each (colour is the TREESELECT rule's).
INIT_SYMBOLS: dict[str, str] = {
    "wavelet init, learned": "circle",
    "wavelet, frozen": "diamond",
    "random, learned": "x",
}
_BASELINE_DASHES = ("dash", "dot", "dashdot", "longdash")
#: What follows a run name's last "·" when it names the seed (matched from that "·" only, so the
#: work is linear in the name: a search for ``\s*·…$`` backtracks quadratically over long spaces).
_SEED_TAIL = re.compile(r"\s*seed \d+")
_CONFIG_FIELDS = ("tree_select", "memory_size", "wavelet", "kernel_size", "d_model", "n_layers")


def init_kind(wavelet: str | None, frozen: bool) -> InitKind:
    """``"random, learned"``, ``"wavelet init, learned"`` or ``"wavelet, frozen"`` (keys of :data:`INIT_SYMBOLS`)."""
    if wavelet is None:
        return "random, learned"
    return "wavelet, frozen" if frozen else "wavelet init, learned"


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _score(metrics: dict[str, Any]) -> tuple[str, float]:
    metric_name = metrics.get("metric_name")
    if "test_accuracy" in metrics or metric_name == "accuracy":
        return "accuracy", _number(metrics.get("test_accuracy", metrics.get("test_metric")))
    if "test_r2_mean" in metrics or metric_name in ("r2", "r2_mean"):
        return "mean R²", _number(metrics.get("test_r2_mean", metrics.get("test_metric")))
    return "", float("nan")


def _config_key(task: str, config: Any, train_config: dict[str, Any]) -> str:
    """Everything that defines a run except its seed, as canonical JSON (the seed-grouping key)."""
    key = {name: getattr(config, name, None) for name in _CONFIG_FIELDS}
    key.update({k: v for k, v in train_config.items() if k != "seed"})
    return json.dumps({"task": task, **key}, sort_keys=True, default=str)


def _without_seed(name: str) -> str:
    """``name`` without a trailing ``" · seed N"`` (linear time, whatever the name)."""
    head, dot, tail = name.rpartition("·")
    return head.rstrip() if dot and _SEED_TAIL.fullmatch(tail) else name


def _configuration(name: str, config: Any, frozen: bool) -> str:
    """The name without its seed; a short name (a shipped file stem) gets its settings spelled out."""
    base = _without_seed(name)
    if " · " in base:  # already descriptive, as the Train page names models
        return base
    budget = f" M={config.memory_size}" if config.memory_size else ""
    init = f"random k={config.kernel_size}" if config.wavelet is None else config.wavelet + (" frozen" if frozen else "")
    return f"{base} ({config.tree_select}{budget} · {init} · {config.d_model}×{config.n_layers})"


def summary_row(name: str, source: str, config: Any, metrics: dict[str, Any], n_parameters: int,
                memory_slots: int, distinct_per_layer: Sequence[int] = ()) -> dict[str, Any]:
    """One row of the comparison table from a model's config, metrics and counted budget.

    Parameters
    ----------
    name, source : str
        Model name and where it came from (``shipped``, ``trained``, ``uploaded``).
    config : ModelConfig
        The network's config (``tree_select``, ``wavelet``, ``kernel_size``, ...).
    metrics : dict
        As :meth:`multires.training.TrainResult.metrics` writes them; missing keys give blanks.
    n_parameters, memory_slots : int
        ``net.n_parameters()`` and the slots each channel reads per time step (``net.convs[0].n_slots``).
    distinct_per_layer : sequence of int
        Distinct tree coefficients the channels of each layer read together (fading and uniform: the
        same slots in every channel; learned: the union of the channels' choices).

    Returns
    -------
    dict with the table's columns; ``test score`` is accuracy (classification) or mean R^2 (recall).

    Examples
    --------
    >>> from multires import ModelConfig
    >>> row = summary_row("m", "trained", ModelConfig(), {"task": "digits", "test_accuracy": 0.9}, 100, 7, [7, 7])
    >>> row["init"], row["test score"], row["score"], row["distinct coefficients / layer"]
    ('haar, learned', 0.9, 'accuracy', 7)
    """
    train_config = dict(metrics.get("train_config") or {})
    frozen = bool(train_config.get("freeze_filters", metrics.get("freeze_filters", False)))
    wavelet = config.wavelet
    init = f"random k={config.kernel_size}, learned" if wavelet is None else f"{wavelet}, {'frozen' if frozen else 'learned'}"
    score_name, score = _score(metrics)
    task = str(metrics.get("task", "?"))
    seed = train_config.get("seed", metrics.get("seed"))
    return {
        "name": name,
        "source": source,
        "task": task,
        "TREESELECT rule": config.tree_select,
        "init": init,
        "init kind": init_kind(wavelet, frozen),
        "test score": score,
        "score": score_name,
        "seed": None if seed is None else int(seed),
        "parameters": int(n_parameters),
        "memory slots / step": int(memory_slots),
        "distinct coefficients / layer": int(max(distinct_per_layer)) if len(distinct_per_layer) else int(memory_slots),
        "width × layers": f"{config.d_model} × {config.n_layers}",
        "training time (s)": _number(metrics.get("train_time_s")),
        "configuration": _configuration(name, config, frozen),
        "config key": _config_key(task, config, train_config),
        "lags": list(metrics.get("lags") or []),
        "r2 per lag": list(metrics.get("test_r2_per_lag") or []),
    }


def _distinct_labels(groups: pd.DataFrame) -> list[str]:
    """Each group's label, extended by the settings that tell apart groups sharing one label."""
    labels = list(groups["configuration"])
    for label in set(labels):
        same = [i for i, lab in enumerate(labels) if lab == label]
        if len(same) < 2:
            continue
        configs = [json.loads(groups["config key"].iloc[i]) for i in same]
        differing = sorted(k for k in configs[0] if len({json.dumps(c.get(k), default=str) for c in configs}) > 1)
        for i, config in zip(same, configs):
            labels[i] = f"{label} ({', '.join(f'{k}={config.get(k)}' for k in differing)})"
    return labels


def seed_groups(table: pd.DataFrame) -> pd.DataFrame:
    """Merge the rows of :func:`summary_row` that differ only by seed: one row per configuration.

    Returns
    -------
    DataFrame with ``configuration`` (unique labels), ``task``, ``TREESELECT rule``, ``init kind``,
    ``seeds``, ``mean``, ``low``, ``high`` (range over seeds), ``scores``, ``models`` (tuples: the
    table hashes, so an app can cache what it draws from it) and the budget columns (``parameters``,
    ``memory slots / step``, ``distinct coefficients / layer``); best mean first. Rows without a
    finite score are left out.
    """
    finite = table[np.isfinite(table["test score"].astype(float))]
    columns = ["configuration", "task", "TREESELECT rule", "init kind", "init", "seeds", "mean", "low", "high", "scores",
               "models", "parameters", "memory slots / step", "distinct coefficients / layer", "config key"]
    if finite.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, rows_of in finite.groupby("config key", sort=False):
        scores = rows_of["test score"].astype(float).to_numpy()
        first = rows_of.iloc[0]
        rows.append({
            "configuration": first["configuration"], "task": first["task"], "TREESELECT rule": first["TREESELECT rule"],
            "init kind": first["init kind"], "init": first["init"], "seeds": len(scores),
            "mean": float(scores.mean()), "low": float(scores.min()), "high": float(scores.max()),
            "scores": tuple(float(s) for s in scores), "models": tuple(rows_of["name"]),
            "parameters": int(first["parameters"]), "memory slots / step": int(first["memory slots / step"]),
            "distinct coefficients / layer": int(first["distinct coefficients / layer"]), "config key": key,
        })
    groups = pd.DataFrame(rows, columns=columns).sort_values("mean", ascending=False, ignore_index=True)
    groups["configuration"] = _distinct_labels(groups)
    return groups


def _axis_range(groups: pd.DataFrame, baselines: dict[str, float], zoom: bool) -> tuple[list[float], str]:
    """The score axis: 0..1 (honest lengths), or fitted to the data when ``zoom`` (said in the label)."""
    values = [*groups["low"], *groups["high"], *baselines.values()]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if not zoom:
        return [min(0.0, low), max(1.0, high) + 0.02], ""
    span = max(high - low, 0.02)
    start = max(low - 0.15 * span, -1.0)
    return [start, high + 0.15 * span], f" — zoomed: axis starts at {start:.2f}, not 0"


def score_ranges_figure(groups: pd.DataFrame, title: str, x_title: str,
                        baselines: dict[str, float] | None = None, zoom: bool = False,
                        compact: bool = False) -> go.Figure:
    """Each configuration's mean test score with its range over seeds, and baselines as vertical lines.

    Colour = TREESELECT rule (:data:`~multires.figures.style.TREE_SELECT_COLORS`), marker shape =
    initialisation (:data:`INIT_SYMBOLS`); every seed is a small grey tick on the range bar. The
    score axis runs from 0 unless ``zoom`` (then the axis label says where it starts).

    Parameters
    ----------
    groups : DataFrame
        From :func:`seed_groups` (one task's configurations).
    title, x_title : str
        Figure title and score axis label.
    baselines : dict, optional
        Method name -> score (``multires.study.results.baseline_levels``), drawn as labelled vertical lines.
    zoom : bool
        Fit the axis to the scores (an explicit, labelled zoom) instead of starting at 0.
    compact : bool
        Shorter rows and the legend at the right instead of below (presentation mode: the whole chart
        fits a 1280x720 screen).

    Returns
    -------
    Figure with one marker trace per (TREESELECT rule, init) pair present and, when some configuration has
    several seeds, one trace of seed ticks; each baseline is a vertical line (a layout shape named
    ``"baseline: <method>"``) with a legend entry (an empty line trace ``"<method> <score> (baseline)"``).
    """
    baselines = dict(baselines or {})
    fig = go.Figure()
    labels = list(groups["configuration"])
    for (tree_select, kind), rows in groups.groupby(["TREESELECT rule", "init kind"], sort=False):
        error = dict(type="data", symmetric=False, array=rows["high"] - rows["mean"],
                     arrayminus=rows["mean"] - rows["low"], color="#444444", thickness=1.5, width=6)
        fig.add_trace(go.Scatter(
            x=rows["mean"], y=rows["configuration"], mode="markers", error_x=error,
            name=f"{TREE_SELECT_LABELS.get(tree_select, tree_select)} · {kind}",
            marker=dict(color=TREE_SELECT_COLORS.get(tree_select, "#777777"), symbol=INIT_SYMBOLS.get(kind, "circle"),
                        size=14, line=dict(color="#222222", width=1)),
            customdata=np.stack([rows["seeds"], rows["low"], rows["high"], rows["parameters"]], axis=-1),
            hovertemplate=("%{y}<br>mean %{x:.3f} over %{customdata[0]} seed(s), range %{customdata[1]:.3f}–"
                           "%{customdata[2]:.3f}<br>%{customdata[3]:,} parameters<extra></extra>"),
        ))
    ticks = [(s, lab) for lab, scores in zip(labels, groups["scores"]) for s in scores]
    if len(ticks) > len(labels):  # some configuration has several seeds
        fig.add_trace(go.Scatter(x=[s for s, _ in ticks], y=[lab for _, lab in ticks], mode="markers",
                                 name="one seed", marker=dict(symbol="line-ns-open", size=12, color="#777777"),
                                 hovertemplate="%{y}<br>one seed: %{x:.3f}<extra></extra>"))
    for (name, score), dash in zip(sorted(baselines.items(), key=lambda kv: -kv[1]), _BASELINE_DASHES * 4):
        line = dict(color="#333333", width=2, dash=dash)
        fig.add_vline(x=score, line=line, name=f"baseline: {name}")
        # Named in the legend, not printed on the chart: close baselines would print over each other.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, name=f"{name} {score:.3f} (baseline)"))
    x_range, zoom_note = _axis_range(groups, baselines, zoom)
    fig.update_xaxes(range=x_range, showgrid=True)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels[::-1], automargin=True,
                     tickfont=dict(size=13, color="#222222"))
    # compact (presentation): at most 210 px of rows, so many configurations still fit a 1280 x 720 screen
    plot_height = min(34 * max(len(labels), 3), 210) if compact else 55 * max(len(labels), 3)
    if compact:  # legend at the right: the height is the rows and the axis title only
        fig = style_figure(fig, title, x_title + zoom_note, None, height=plot_height + 60 + 70)
        fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02),
                          margin=dict(t=60, b=70))
        return fig
    legend_rows = len(fig.data)  # the legend may wrap to one entry per row on a narrow page
    bottom = 85 + 22 * legend_rows  # axis title, then the legend 75 px under the plot
    fig = style_figure(fig, title, x_title + zoom_note, None, height=plot_height + 60 + bottom)
    # The legend sits below the axis title at a fixed distance in pixels, whatever the number of rows.
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-75 / plot_height, xanchor="left", x=0.0),
                      margin=dict(t=60, b=bottom))
    return fig


def lag_r2_figure(curves: Sequence[dict[str, Any]]) -> go.Figure:
    """Memory task: test R^2 of recalling ``x[n - tau]`` against the lag ``tau``, one line per model.

    Parameters
    ----------
    curves : sequence of dict
        Each with ``name``, ``TREESELECT rule``, ``init kind``, ``lags`` and ``r2 per lag`` (a row of
        :func:`summary_row`). Colour = TREESELECT rule; dash = init kind.

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
            line=dict(color=TREE_SELECT_COLORS.get(row["TREESELECT rule"], "#777777"), width=2.5,
                      dash=dashes.get(row["init kind"], "solid")),
            marker=dict(size=7),
            hovertemplate="lag %{x}<br>R² %{y:.3f}<extra>%{fullData.name}</extra>",
        ))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.update_xaxes(type="log", tickvals=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    fig.update_yaxes(range=[-0.1, 1.05])
    fig = style_figure(fig, "Memory task: how well each model recalls the input τ steps back",
                 "lag τ (time steps, log scale)", "test R² (1 = perfect recall)", height=420)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02))
    return fig


#: R² at or above this reads as "almost exact" recall in :func:`lag_r2_caption`; below ``_R2_POOR`` as "poor".
R2_GOOD = 0.9
_R2_POOR = 0.5
_CAPTION_MODELS = 8


def _lag_ranges(lags: list[int]) -> str:
    """A run of a curve's lags, e.g. ``[1, 2, 4, 8]``, as "1–8" (one lag as itself)."""
    return f"{lags[0]}" if lags[0] == lags[-1] else f"{lags[0]}–{lags[-1]}"


def lag_r2_caption(curves: Sequence[dict[str, Any]], max_models: int = _CAPTION_MODELS) -> str:
    """What :func:`lag_r2_figure` shows, model by model, in plain words: where recall is almost exact or poor.

    Each model's lags are split into runs (in the order of its lags) of almost exact recall
    (R² >= 0.9), partial recall (0.5 to 0.9) and poor recall (below 0.5), so the text follows the
    chart whatever models it holds; at most ``max_models`` models are described.

    >>> print(lag_r2_caption([{"name": "a", "lags": [1, 2, 4, 8], "r2 per lag": [0.95, 0.99, 0.3, 0.1]},
    ...                       {"name": "b", "lags": [1, 2, 4, 8], "r2 per lag": [0.92, 0.93, 0.97, 0.99]}]))
    a: almost exact at lags 1–2, poor at lags 4–8. b: almost exact at every lag (1–8).
    """
    sentences = []
    for row in list(curves)[:max_models]:
        lags = [int(t) for t in row["lags"]]
        r2 = [np.nan if v is None else float(v) for v in row["r2 per lag"]]
        runs: list[tuple[str, list[int]]] = []
        for lag, value in zip(lags, r2):
            kind = ("unknown" if not np.isfinite(value) else "almost exact" if value >= R2_GOOD
                    else f"partly ({_R2_POOR}–{R2_GOOD})" if value >= _R2_POOR else "poor")
            if runs and runs[-1][0] == kind:
                runs[-1][1].append(lag)
            else:
                runs.append((kind, [lag]))
        runs = [run for run in runs if run[0] != "unknown"]
        if not runs:
            continue
        if len(runs) == 1:
            what = f"{runs[0][0]} at every lag ({_lag_ranges(runs[0][1])})"
        else:
            what = ", ".join(f"{kind} at lag{'s' if len(run) > 1 else ''} {_lag_ranges(run)}" for kind, run in runs)
        sentences.append(f"{row['name']}: {what}.")
    extra = len(curves) - max_models
    if extra > 0:
        sentences.append(f"({extra} more model{'s' if extra > 1 else ''} in the chart.)")
    return " ".join(sentences)
