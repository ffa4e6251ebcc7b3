"""Study figures: score vs memory budget per TREESELECT rule (with its Pareto front), and init.

Both draw from a study results table (:mod:`multires.study.results`) and, optionally, baseline
accuracies (:func:`multires.study.results.baseline_levels`) as labelled horizontal lines. Points
are means over seeds; error bars span the lowest to the highest seed.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"task": "t", "tree_select": ["fading", "uniform", "uniform"], "memory_size": [None, 4, 8],
...                   "init": "learned from haar", "d_model": 4, "status": "ok", "metric_name": "accuracy",
...                   "test_score": [0.8, 0.7, 0.85], "distinct_slots_mean": [7.0, 4.0, 8.0],
...                   "slots_per_channel": [7, 4, 8]})
>>> fig = budget_figure(t, "t", baselines={"MiniRocket": 0.9})
>>> [tr.name for tr in fig.data]
['resolution fading', 'uniform', 'Pareto front']
>>> [float(v) for v in fig.data[-1].x]  # (4, 0.7) < (7, 0.8) < (8, 0.85): every point is on the front
[4.0, 7.0, 8.0]
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..study.results import BUDGET_COLUMNS, pareto_front, summarise
from ..options import BudgetAxis
from .style import TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = ["BASELINE_DASHES", "DEFAULT_INIT", "INIT_COLORS", "budget_figure", "init_figure"]

#: Line style of each baseline's reference line.
BASELINE_DASHES: dict[str, str] = {"MiniRocket": "dot", "1-NN DTW": "dash"}
#: Filter inits (not TREESELECT rules, so not TREE_SELECT_COLORS; blue/orange stay with h0/h1).
INIT_COLORS: dict[str, str] = {"frozen haar": "#7f7f7f", "learned from haar": "#222222",
                               "learned from random": "#999933"}  # olive: far from the rules' violet and pink
#: The init a budget chart shows unless told otherwise: the paper's (Haar start, filters learned).
DEFAULT_INIT = "learned from haar"
_BUDGET_TITLES = {"distinct": "distinct coefficients per layer (mean over layers)",
                  "per_channel": "memory slots per channel (M)"}
_RULES = ("fading", "uniform", "learned")


def _score_title(table: pd.DataFrame) -> str:
    names = table["metric_name"].dropna().unique() if "metric_name" in table else []
    if len(names) == 1 and names[0] == "accuracy":
        return "test accuracy"
    return "test mean R² over lags" if len(names) == 1 and "r2" in str(names[0]) else "test score"


def _add_baselines(fig: go.Figure, baselines: dict[str, float] | None) -> None:
    for name, level in (baselines or {}).items():
        fig.add_hline(y=level, line=dict(color="#444444", width=1.5, dash=BASELINE_DASHES.get(name, "longdash")),
                      annotation_text=f"{name} {level:.3f}", annotation_position="top left",
                      annotation_font=dict(size=12), name=f"baseline: {name}")


def _error_bars(points: pd.DataFrame) -> dict:
    return dict(type="data", symmetric=False, array=(points["max"] - points["mean"]).tolist(),
                arrayminus=(points["mean"] - points["min"]).tolist(), thickness=1.2, width=4)


def budget_figure(table: pd.DataFrame, task: str, budget: BudgetAxis = "distinct", init: str | None = None,
                  d_model: int | None = None, baselines: dict[str, float] | None = None) -> go.Figure:
    """Test score vs memory budget on ``task``: one trace per rule, the Pareto front, baselines.

    Parameters
    ----------
    table : DataFrame
        A study results table.
    task : str
        Which task's rows to draw.
    budget : {"distinct", "per_channel"}
        x axis: distinct coefficients per layer, or slots per channel ``M``.
    init, d_model : optional
        Keep only these filter inits (:func:`~multires.study.grid.init_label`) / widths; default
        the init and width with the most finished trials.
    baselines : dict, optional
        Method -> accuracy, drawn as horizontal lines.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces named after the rules (:data:`~multires.figures.style.TREE_SELECT_LABELS`) with
        min-max error bars over seeds, then ``"Pareto front"`` (best score for its budget or less).
    """
    rows = _rows(table, task, init, d_model)
    points = summarise(rows, by=("tree_select", "memory_size"), budget=budget).sort_values("budget")
    fig = go.Figure()
    for rule in _RULES:
        mine = points[points["tree_select"] == rule]
        if mine.empty:
            continue
        label = TREE_SELECT_LABELS.get(rule, rule)
        fig.add_trace(go.Scatter(
            x=mine["budget"], y=mine["mean"], name=label, mode="lines+markers", error_y=_error_bars(mine),
            marker=dict(color=TREE_SELECT_COLORS[rule], size=10), line=dict(color=TREE_SELECT_COLORS[rule], width=2),
            customdata=mine[["memory_size", "seeds"]].astype(object).where(mine[["memory_size", "seeds"]].notna(), "-"),
            hovertemplate=f"{label}<br>M=%{{customdata[0]}}, %{{customdata[1]}} seeds<br>budget %{{x:.1f}}"
                          "<br>score %{y:.3f}<extra></extra>",
        ))
    front = pareto_front(points, "budget", "mean")
    if not front.empty:
        fig.add_trace(go.Scatter(x=front["budget"], y=front["mean"], name="Pareto front", mode="lines",
                                 line=dict(color="#000000", width=1, dash="dot", shape="hv"), hoverinfo="skip"))
    _add_baselines(fig, baselines)
    which = _which(rows)
    return style_figure(fig, f"{task}: score vs memory ({which})", _BUDGET_TITLES[budget], _score_title(rows))


def init_figure(table: pd.DataFrame, task: str, d_model: int | None = None,
                baselines: dict[str, float] | None = None) -> go.Figure:
    """Learned vs frozen-wavelet vs random-init filters on ``task``, per rule and budget.

    x is the setting (rule and ``M``), one trace per filter init in :data:`INIT_COLORS`, points
    at the mean over seeds with min-max error bars; baselines as horizontal lines.
    """
    rows = _rows(table, task, init=None, d_model=d_model, every_init=True)
    points = summarise(rows, by=("tree_select", "memory_size", "init"))
    points["setting"] = [TREE_SELECT_LABELS.get(r, r) + ("" if pd.isna(m) else f" M={int(m)}")
                         for r, m in zip(points["tree_select"], points["memory_size"])]
    order = {r: i for i, r in enumerate(_RULES)}
    points = points.sort_values(["tree_select", "memory_size"], key=lambda c: c.map(order) if c.name == "tree_select" else c)
    settings = list(dict.fromkeys(points["setting"]))
    fig = go.Figure()
    inits = sorted(points["init"].unique(), key=lambda i: (list(INIT_COLORS).index(i) if i in INIT_COLORS else 99, i))
    for init in inits:
        mine = points[points["init"] == init]
        fig.add_trace(go.Scatter(
            x=mine["setting"], y=mine["mean"], name=init, mode="markers", error_y=_error_bars(mine),
            marker=dict(color=INIT_COLORS.get(init, "#999999"), size=11), offsetgroup=init,
            hovertemplate=f"{init}<br>%{{x}}<br>mean %{{y:.3f}}<extra></extra>",
        ))
    fig.update_layout(scattermode="group")
    fig.update_xaxes(categoryorder="array", categoryarray=settings)
    _add_baselines(fig, baselines)
    width = int(rows["d_model"].iloc[0]) if len(rows) else 0
    return style_figure(fig, f"{task}: filter init, learned or frozen (d_model {width})", "TREESELECT rule and budget",
                  _score_title(rows))


def _rows(table: pd.DataFrame, task: str, init: str | None, d_model: int | None,
          every_init: bool = False) -> pd.DataFrame:
    rows = table[(table["task"] == task) & (table["status"] == "ok")]
    if rows.empty:
        raise ValueError(f"no finished trials for task {task!r}; tasks in the table: {sorted(table['task'].unique())}")
    if d_model is None:
        d_model = int(rows["d_model"].value_counts().idxmax())
    rows = rows[rows["d_model"] == d_model]
    if init is not None:
        rows = rows[rows["init"] == init]
    elif not every_init:  # the paper's setting when it is there, else the init with the most trials
        counts = rows["init"].value_counts()
        rows = rows[rows["init"] == (DEFAULT_INIT if DEFAULT_INIT in counts else counts.idxmax())]
    if rows.empty:
        raise ValueError(f"no finished trials for task {task!r} with init {init!r} and d_model {d_model}")
    return rows


def _which(rows: pd.DataFrame) -> str:
    return f"{rows['init'].iloc[0]}, d_model {int(rows['d_model'].iloc[0])}"
