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
['resolution fading', 'uniform', 'Pareto front', 'MiniRocket 0.900 (baseline)']
>>> [float(v) for v in fig.data[2].x]  # one seed each: no difference is resolved, no point leaves the front
[4.0, 7.0, 8.0]

The Pareto front never draws a winner inside its interval: a setting leaves the front only when a
setting with no more memory is *resolved* better than it (paired 95 % t-interval over seeds,
:mod:`multires.study.stats`). :func:`difference_figure` draws the paired differences of the four
questions (:mod:`multires.study.questions`), :func:`lag_difference_figure` one comparison per lag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from multires.plaintext import quote

from ..options import BudgetAxis
from ..study.results import BUDGET_COLUMNS, summarise
from ..study.stats import StudyStatsError, compare_configs
from .style import TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = ["BASELINE_DASHES", "DEFAULT_INIT", "INIT_COLORS", "OUTCOME_STYLE", "budget_figure", "difference_figure",
           "init_figure", "lag_difference_figure", "resolved_front"]

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
    """Each baseline as a horizontal line, named in the legend (printed on the chart, close baselines'
    labels overlapped)."""
    for name, level in (baselines or {}).items():
        line = dict(color="#444444", width=1.5, dash=BASELINE_DASHES.get(name, "longdash"))
        fig.add_hline(y=level, line=line, name=f"baseline: {name}")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, name=f"{name} {level:.3f} (baseline)",
                                 hoverinfo="skip"))


def _score_axis(points: pd.DataFrame, baselines: dict[str, float] | None, title: str) -> tuple[list[float], str]:
    """The score axis fitted to the points' ranges and the baselines; its title says where it starts
    when that is not 0 (a zoomed axis stretches small differences).

    >>> _score_axis(pd.DataFrame({"min": [0.9], "max": [0.95]}), {"DTW": 0.92}, "test accuracy")[1]
    'accuracy · axis from 0.89'
    """
    values = [*points["min"].dropna(), *points["max"].dropna(), *(baselines or {}).values()]
    if not values:
        return [0.0, 1.0], title
    low, high = min(values), max(values)
    pad = 0.08 * max(high - low, 0.02)
    start = 0.0 if 0.0 <= low <= 0.25 else float(np.floor((low - pad) * 100) / 100)
    if start == 0.0:
        return [start, high + pad], title
    # short enough for a 320 px chart: the longer title ran into the chart's own title
    short = title.removeprefix("test ").replace(" over lags", "")
    return [start, high + pad], f"{short} · axis from {start:.2f}"


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
        min-max error bars over seeds, then ``"Pareto front"`` (rings: :func:`resolved_front`).
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
    front = resolved_front(rows, points)
    if not front.empty:
        # rings, not a staircase: the front is "not resolved worse than a cheaper setting", not "best mean"
        fig.add_trace(go.Scatter(x=front["budget"], y=front["mean"], name="Pareto front", mode="markers",
                                 marker=dict(symbol="circle-open", size=20, color="#000000", line=dict(width=1.5)),
                                 hovertemplate="on the Pareto front: no setting with as little memory is resolved "
                                               "better<extra></extra>"))
    _add_baselines(fig, baselines)
    which = _which(rows)
    y_range, y_title = _score_axis(points, baselines, _score_title(rows))
    fig.update_yaxes(range=y_range)
    return style_figure(fig, f"{task}: score vs memory ({which})", _BUDGET_TITLES[budget], y_title)


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
    y_range, y_title = _score_axis(points, baselines, _score_title(rows))
    fig.update_yaxes(range=y_range)
    return style_figure(fig, f"{task}: filter init, learned or frozen (width {width})", "TREESELECT rule and budget",
                  y_title)


def _rows(table: pd.DataFrame, task: str, init: str | None, d_model: int | None,
          every_init: bool = False) -> pd.DataFrame:
    rows = table[(table["task"] == task) & (table["status"] == "ok")]
    if rows.empty:
        raise ValueError(f"no finished trials for task {quote(task)}; tasks in the table: {sorted(table['task'].unique())}")
    if d_model is None:
        d_model = int(rows["d_model"].value_counts().idxmax())
    rows = rows[rows["d_model"] == d_model]
    if init is not None:
        rows = rows[rows["init"] == init]
    elif not every_init:  # the paper's setting when it is there, else the init with the most trials
        counts = rows["init"].value_counts()
        rows = rows[rows["init"] == (DEFAULT_INIT if DEFAULT_INIT in counts else counts.idxmax())]
    if rows.empty:
        raise ValueError(f"no finished trials for task {quote(task)} with init {quote(init)} and d_model {d_model}")
    return rows


def _which(rows: pd.DataFrame) -> str:
    return f"{rows['init'].iloc[0]}, width {int(rows['d_model'].iloc[0])}"


def resolved_front(rows: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Settings of ``points`` that no setting with no more memory is resolved better than.

    ``rows`` are the trials behind ``points`` (one task, init and width); ``points`` has one row per
    ``(tree_select, memory_size)`` with its ``budget``. Setting Q knocks P off the front when
    ``budget(Q) <= budget(P)`` and the paired interval of ``score(Q) - score(P)`` over their common
    seeds lies above zero; a difference inside its interval knocks nothing off. Sorted by budget.
    """
    keep = []
    for i, p in points.iterrows():
        beaten = False
        for j, q in points.iterrows():
            if i == j or q["budget"] > p["budget"]:
                continue
            try:
                diff = compare_configs(rows, _config(q), _config(p))
            except StudyStatsError:  # fewer than 2 common seeds: nothing is resolved
                continue
            if diff.better == "A":
                beaten = True
                break
        if not beaten:
            keep.append(i)
    return points.loc[keep].sort_values(["budget", "mean"], ascending=[True, False])


def _config(point: pd.Series) -> dict:
    m = point["memory_size"]
    return {"tree_select": point["tree_select"], "memory_size": None if pd.isna(m) else m}


#: How a paired difference is drawn: resolved for A, resolved for B, or not resolved (hollow grey).
OUTCOME_STYLE: dict[str, dict] = {
    "A": dict(color="#0072B2", symbol="circle"),  # blue (Okabe-Ito)
    "B": dict(color="#D55E00", symbol="diamond"),  # vermillion (Okabe-Ito)
    None: dict(color="#888888", symbol="circle-open"),
}


def _outcome(better: object) -> str | None:
    return better if better in ("A", "B") else None


def difference_figure(answers: pd.DataFrame, title: str, a: str, b: str, unit: float = 100.0) -> go.Figure:
    """Paired differences A - B with their 95 % intervals, one row per task and setting (a forest plot).

    ``answers`` are rows of :func:`multires.study.questions.answer` (overall scores only are drawn).
    Resolved differences are filled (blue: A better, vermillion: B better); differences whose interval
    contains zero are hollow grey and named "no difference resolved": no winner is drawn inside its
    interval. x is in points (hundredths of the score), zero drawn as a line.
    """
    rows = answers[answers["lag"].isna()] if "lag" in answers else answers
    fig = go.Figure()
    labels = [f"{_task_label(t)} · {s}" for t, s in zip(rows["task"], rows["setting"])]
    names = {"A": f"{a} better (interval above 0)", "B": f"{b} better (interval below 0)",
             None: "no difference resolved (interval contains 0)"}
    _add_outcome_traces(fig, rows, names, position=pd.Series(labels, index=rows.index), unit=unit, horizontal=True,
                        hover="%{customdata[0]}<extra></extra>")
    fig.add_vline(x=0, line=dict(color="#000000", width=1))
    fig.update_yaxes(categoryorder="array", categoryarray=list(dict.fromkeys(labels))[::-1])
    height = max(220, 90 + 34 * len(dict.fromkeys(labels)))
    return style_figure(fig, title, f"{a} minus {b} (points, 95 % interval over paired seeds)", None, height=height)


def lag_difference_figure(answers: pd.DataFrame, task: str, setting: str, a: str, b: str) -> go.Figure:
    """One comparison per recalled lag: A - B in R² with its 95 % interval (hollow grey: not resolved)."""
    rows = answers[(answers["task"] == task) & (answers["setting"] == setting) & answers["lag"].notna()]
    if rows.empty:
        raise ValueError(f"no per-lag comparisons for {task!r}, {setting!r}")
    rows = rows.sort_values("lag")
    fig = go.Figure()
    names = {"A": f"{a} recalls better", "B": f"{b} recalls better", None: "no difference resolved"}
    _add_outcome_traces(fig, rows, names, position=rows["lag"], unit=1.0, horizontal=False,
                        hover="lag %{x}: %{customdata[0]}<extra></extra>")
    fig.add_hline(y=0, line=dict(color="#000000", width=1))
    fig.update_xaxes(type="log", tickvals=list(rows["lag"]), ticktext=[str(int(v)) for v in rows["lag"]])
    return style_figure(fig, f"{_task_label(task)}: {a} minus {b} per lag ({setting})", "lag (steps back)",
                  f"{a} minus {b} (R² of the recalled value)")


def _add_outcome_traces(fig: go.Figure, rows: pd.DataFrame, names: dict, position: pd.Series, unit: float,
                        horizontal: bool, hover: str) -> None:
    """One marker trace per outcome (A better, B better, not resolved): the mean difference times ``unit``
    with its 95 % interval as error bars, placed at ``position`` on the other axis."""
    outcomes = [_outcome(v) for v in rows["better"]]
    for outcome in ("A", "B", None):
        mask = [o == outcome for o in outcomes]
        if not any(mask):
            continue
        mine, style = rows[mask], OUTCOME_STYLE[outcome]
        value = dict(type="data", symmetric=False, array=unit * (mine["high"] - mine["mean"]),
                     arrayminus=unit * (mine["mean"] - mine["low"]), thickness=1.6, width=5, color=style["color"])
        where, mean = list(position[mask]), unit * mine["mean"]
        fig.add_trace(go.Scatter(
            x=mean if horizontal else where, y=where if horizontal else mean, mode="markers", name=names[outcome],
            marker=dict(color=style["color"], symbol=style["symbol"], size=11, line=dict(width=2, color=style["color"])),
            customdata=mine[["verdict"]].to_numpy(), hovertemplate=hover,
            **({"error_x": value} if horizontal else {"error_y": value}),
        ))


def _task_label(task: str) -> str:
    return task[4:] if task.startswith("ucr:") else {"memory": "white-noise recall"}.get(task, task)
