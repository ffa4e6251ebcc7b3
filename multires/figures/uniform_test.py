"""Does uniform beat fading when a task needs exact values far back? The paired comparison, its chart and caption.

Plain data in (the table ``scripts/uniform_vs_fading.py`` writes, ``assets/studies/distant_windows.csv``:
one row per setting, seed and rule), ``plotly.graph_objects.Figure`` / text out; no Streamlit.

* :func:`paired_summary` -- per setting: each rule's mean test accuracy, the mean paired difference
  uniform − fading over seeds with its 95 % paired t-interval, how many seeds uniform won, the
  budgets both rules had and (frozen filters) the best accuracy each memory allows;
* :func:`uniform_test_figure` -- one panel per setting, one line per seed joining its two rules;
* :func:`uniform_test_caption` -- the chart in plain words, written from the numbers (so it says
  whatever the table shows).

Examples
--------
>>> rows = [{"setting": "memory alone", "seed": s, "tree_select": r, "test_accuracy": a, "slots_per_channel": 7,
...          "distinct_per_layer": 7, "n_parameters": 834, "steps": 504, "ceiling": c}
...         for s, (f, u) in enumerate([(0.50, 0.80), (0.52, 0.84), (0.49, 0.83)])
...         for r, a, c in (("fading", f, 0.5), ("uniform", u, 0.85))]
>>> summary = paired_summary(pd.DataFrame(rows))
>>> summary[["setting", "seeds", "uniform_wins", "difference"]].round(3).values.tolist()
[['memory alone', 3, 3, 0.32]]
>>> round(float(summary["low"].iloc[0]), 3), round(float(summary["high"].iloc[0]), 3)
(0.27, 0.37)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..study.stats import CONFIDENCE
from .style import TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = [
    "UNIFORM_TEST_COLUMNS", "SETTING_LABELS", "paired_summary", "paired_t_interval", "uniform_test_caption",
    "uniform_test_figure",
]

#: Confidence level of the paired t-interval.
#: Columns :func:`paired_summary` needs.
UNIFORM_TEST_COLUMNS = ("setting", "seed", "tree_select", "test_accuracy", "slots_per_channel", "distinct_per_layer",
                    "n_parameters", "steps")
#: How the settings of the shipped table are named on the page (others are shown as they are spelled).
SETTING_LABELS: dict[str, str] = {
    "memory alone": "memory alone: 1 block, Haar filters frozen",
    "full model": "full model: 2 blocks, filters learned from Haar",
}
_RULES = ("fading", "uniform")
_Y_FLOOR = 0.4  # the accuracy axis starts here (said in its title); chance is 0.5


def paired_t_interval(differences: Any, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of paired differences and its two-sided t-interval: ``mean ± t_{n-1} · sd / sqrt(n)``.

    Returns ``(mean, low, high)``; with one difference the interval is undefined (NaN, NaN).

    >>> [round(v, 3) for v in paired_t_interval([0.1, 0.2, 0.3])]
    [0.2, -0.048, 0.448]
    """
    d = np.asarray(differences, dtype=np.float64).ravel()
    if d.size == 0 or not np.isfinite(d).all():
        raise ValueError(f"need at least one finite paired difference, got {d.tolist()}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t  # scipy.stats takes about a second to import: only this summary needs it

    half = float(t.ppf(0.5 + confidence / 2, d.size - 1)) * float(d.std(ddof=1)) / math.sqrt(d.size)
    return mean, mean - half, mean + half


def paired_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per setting: the paired comparison of uniform and fading over seeds.

    Parameters
    ----------
    table : DataFrame
        :data:`UNIFORM_TEST_COLUMNS` (plus optional ``ceiling``): one row per (setting, seed, rule), rules
        ``"fading"`` and ``"uniform"``; a seed counts only when both of its rules are present.

    Returns
    -------
    DataFrame with ``setting``, ``seeds``, ``fading_mean``, ``uniform_mean``, ``difference``
    (mean of uniform − fading per seed), ``low``/``high`` (its 95 % paired t-interval; NaN with one
    seed), ``uniform_wins`` (seeds where uniform scored higher), ``fading_wins``, ``differences``
    (per seed, in seed order), ``seed_list``, the budgets ``slots``, ``distinct``, ``parameters``,
    ``steps`` (each equal for both rules, else ``ValueError``), ``fading_ceiling`` /
    ``uniform_ceiling`` (mean of the ``ceiling`` column: the best accuracy from the rule's memory
    with frozen filters), ``fading_layer1`` / ``uniform_layer1`` (mean of ``layer1_ceiling``: the
    best accuracy from the trained first layer's memory, all channels together) -- NaN when the
    table has no such column -- and ``blocks`` (largest ``n_layers``, 0 if unknown). Settings keep
    the table's order.

    Raises
    ------
    ValueError
        If a column is missing, no seed has both rules, or the two rules of a seed had different budgets.
    """
    missing = [c for c in UNIFORM_TEST_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the comparison table lacks column(s) {', '.join(missing)}")
    out = []
    for setting in pd.unique(table["setting"]):
        rows = table[(table["setting"] == setting) & table["tree_select"].isin(_RULES)]
        wide = rows.pivot_table(index="seed", columns="tree_select", values="test_accuracy", aggfunc="first")
        if not set(_RULES) <= set(wide.columns):
            continue
        wide = wide.dropna(subset=list(_RULES)).sort_index()
        if wide.empty:
            continue
        budgets = {}
        for column, name in (("slots_per_channel", "slots"), ("distinct_per_layer", "distinct"),
                             ("n_parameters", "parameters"), ("steps", "steps")):
            values = rows[rows["seed"].isin(wide.index)][column].unique()
            if len(values) != 1:
                raise ValueError(f"setting {setting!r}: the rules' {name} differ ({sorted(values)}); "
                                 "the comparison needs equal budgets")
            budgets[name] = int(values[0])
        diff = (wide["uniform"] - wide["fading"]).to_numpy(dtype=np.float64)
        mean, low, high = paired_t_interval(diff)
        ceilings = {}
        for rule in _RULES:
            for column, name in (("ceiling", "ceiling"), ("layer1_ceiling", "layer1")):
                values = rows.loc[rows["tree_select"] == rule, column] if column in rows else pd.Series(dtype=float)
                values = pd.to_numeric(values, errors="coerce").dropna()
                ceilings[f"{rule}_{name}"] = float(values.mean()) if len(values) else math.nan
        blocks = pd.to_numeric(rows["n_layers"], errors="coerce").max() if "n_layers" in rows else math.nan
        out.append({
            "setting": setting, "seeds": len(diff), "fading_mean": float(wide["fading"].mean()),
            "uniform_mean": float(wide["uniform"].mean()), "difference": mean, "low": low, "high": high,
            "uniform_wins": int((diff > 0).sum()), "fading_wins": int((diff < 0).sum()),
            "differences": diff.tolist(), "seed_list": [int(s) for s in wide.index], **budgets, **ceilings,
            "blocks": int(blocks) if np.isfinite(blocks) else 0,
        })
    if not out:
        raise ValueError("no seed of the comparison table has both a fading and a uniform run")
    return pd.DataFrame(out)


def _label(setting: str) -> str:
    return SETTING_LABELS.get(setting, str(setting))


def _signed(value: float) -> str:
    """A signed difference of accuracies, 3 decimals (differences are often below 0.01), true minus sign."""
    return f"{value:+.3f}".replace("-", "−")


def uniform_test_figure(table: pd.DataFrame, compact: bool = False) -> go.Figure:
    """Test accuracy of fading and uniform at equal budget: one panel per setting, one line per seed.

    Each panel has the two rules side by side; a grey line joins the two runs of one seed (same
    data, initialisation and steps), the large marker is the mean over seeds, and where the table
    has them a short dashed bar marks the best accuracy any classifier could reach from that rule's
    memory. A dotted line marks chance (0.5). The panel title gives the mean paired difference and
    its 95 % interval.

    Parameters
    ----------
    table : DataFrame
        As for :func:`paired_summary`.
    compact : bool
        Shorter (presentation mode: fits a 1280x720 screen with its caption).
    """
    summary = paired_summary(table)
    titles = []
    for row in summary.itertuples():
        interval = ("" if math.isnan(row.low) else
                    f" (95 % interval {_signed(row.low)} to {_signed(row.high)})")
        titles.append(f"{_label(row.setting)}<br>uniform − fading: {_signed(row.difference)}{interval}")
    fig = make_subplots(rows=1, cols=len(summary), shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.08)
    x_names = [TREE_SELECT_LABELS[r] for r in _RULES]
    for col, row in enumerate(summary.itertuples(), start=1):
        rows = table[table["setting"] == row.setting]
        wide = rows.pivot_table(index="seed", columns="tree_select", values="test_accuracy", aggfunc="first")
        wide = wide.loc[row.seed_list, list(_RULES)]
        for seed, pair in wide.iterrows():
            fig.add_trace(go.Scatter(
                x=x_names, y=pair.to_numpy(dtype=float), mode="lines+markers", showlegend=False,
                line=dict(color="#9a9a9a", width=1.5), marker=dict(size=8, color=[TREE_SELECT_COLORS[r] for r in _RULES]),
                hovertemplate=f"seed {seed}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            ), row=1, col=col)
        for rule, name in zip(_RULES, x_names):
            mean = float(getattr(row, f"{rule}_mean"))
            fig.add_trace(go.Scatter(
                x=[name], y=[mean], mode="markers", name=f"{name}: mean over seeds", showlegend=False,
                marker=dict(size=18, symbol="diamond", color=TREE_SELECT_COLORS[rule], line=dict(color="#222", width=1.5)),
                hovertemplate=f"{name}<br>mean over {row.seeds} seeds: %{{y:.3f}}<extra></extra>",
            ), row=1, col=col)
            ceiling = float(getattr(row, f"{rule}_ceiling"))
            if not math.isnan(ceiling):
                fig.add_trace(go.Scatter(
                    x=[name, name], y=[ceiling, ceiling], mode="markers", showlegend=False,
                    marker=dict(symbol="line-ew", size=46, line=dict(color="#222", width=2.5)),
                    hovertemplate=f"{name}<br>best possible from this memory: %{{y:.3f}}<extra></extra>",
                ), row=1, col=col)
        fig.add_hline(y=0.5, line=dict(color="#666", width=1.2, dash="dot"), row=1, col=col,
                      annotation_text="chance", annotation_position="bottom right",
                      annotation_font=dict(size=12, color="#555"))
    # one legend for the marks (empty traces: the marks themselves are drawn above)
    legend = [("one seed (line joins its two runs)", dict(size=8, color="#9a9a9a"), "lines+markers"),
              ("mean over seeds", dict(size=14, symbol="diamond", color="#bbbbbb", line=dict(color="#222", width=1.5)),
               "markers")]
    if summary[["fading_ceiling", "uniform_ceiling"]].notna().any().any():
        legend.append(("best possible from the memory (frozen filters)",
                       dict(symbol="line-ew", size=24, line=dict(color="#222", width=2.5)), "markers"))
    for name, marker, mode in legend:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode=mode, name=name, marker=marker,
                                 line=dict(color="#9a9a9a", width=1.5)))
    fig.update_yaxes(range=[_Y_FLOOR, 1.02], showgrid=True)
    fig.update_yaxes(title_text=f"test accuracy (axis from {_Y_FLOOR})", row=1, col=1)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_names, range=[-0.4, 1.4])
    height = 440 if compact else 470
    fig = style_figure(fig, "Exact values far back: uniform vs fading at equal budget", None, None, height=height)
    # the legend sits a fixed number of pixels under the tick labels, whatever the height
    plot_height = height - 120 - 95
    fig.update_layout(margin=dict(t=120, b=95),
                      legend=dict(orientation="h", yanchor="top", y=-45 / plot_height, xanchor="left", x=0.0))
    for annotation in fig.layout.annotations[: len(titles)]:  # the panel titles
        annotation.font.size = 13
    return fig


def uniform_test_caption(summary: pd.DataFrame, task_words: str = "") -> str:
    """The chart of :func:`uniform_test_figure` in plain words, from :func:`paired_summary`'s numbers.

    One sentence per setting (means, seeds won, the difference with its interval, the ceiling when
    known) and a verdict: uniform wins a setting when its whole interval is above 0, fading when it is
    below 0, else neither is shown better.

    >>> nan = float("nan")
    >>> s = pd.DataFrame([{"setting": "x", "seeds": 5, "fading_mean": 0.5, "uniform_mean": 0.8, "difference": 0.3,
    ...     "low": 0.25, "high": 0.35, "uniform_wins": 5, "fading_wins": 0, "slots": 7, "distinct": 7,
    ...     "parameters": 834, "steps": 504, "fading_ceiling": nan, "uniform_ceiling": nan, "fading_layer1": nan,
    ...     "uniform_layer1": nan, "blocks": 1}])
    >>> print(uniform_test_caption(s))  # doctest: +NORMALIZE_WHITESPACE
    **x**: uniform 0.80 vs fading 0.50 test accuracy on average; uniform higher in 5 of 5 seeds, by +0.300
    (95 % interval +0.250 to +0.350, paired t over 5 seeds): **uniform wins**. Both rules keep 7 cells per
    channel (7 distinct per layer), with 834 parameters and 504 training steps.
    """
    parts = [task_words.strip()] if task_words.strip() else []
    for row in summary.itertuples():
        if math.isnan(row.low):
            interval, verdict = f"(one seed: no interval)", "too few seeds to tell"
        else:
            interval = f"(95 % interval {_signed(row.low)} to {_signed(row.high)}, paired t over {row.seeds} seeds)"
            verdict = ("**uniform wins**" if row.low > 0 else "**fading wins**" if row.high < 0
                       else "**neither is shown better**")
        sentence = (f"**{_label(row.setting)}**: uniform {row.uniform_mean:.2f} vs fading {row.fading_mean:.2f} test "
                    f"accuracy on average; uniform higher in {row.uniform_wins} of {row.seeds} seeds, by "
                    f"{_signed(row.difference)} {interval}: {verdict}. Both rules keep {row.slots} cells per channel "
                    f"({row.distinct} distinct per layer), with {row.parameters:,} parameters and {row.steps} training "
                    "steps.")
        if not (math.isnan(row.fading_ceiling) or math.isnan(row.uniform_ceiling)):
            sentence += (f" With these frozen filters no classifier can beat {row.uniform_ceiling:.2f} from uniform's "
                         f"cells or {row.fading_ceiling:.2f} from fading's (dashes).")
        elif row.blocks > 1 and not math.isnan(row.fading_layer1) and row.fading_mean > row.fading_layer1 + 0.05:
            sentence += (f" Here fading's first block alone (learned filters included, read at the last step) allows at most "
                         f"{row.fading_layer1:.2f} (uniform's {row.uniform_layer1:.2f}): the rest comes from the next "
                         "block, which reads the first block's outputs at many past steps, so stacked blocks rebuild "
                         "the detail far back that one fading layer averages away.")
        parts.append(sentence)
    return " ".join(parts)
