"""Study figures from a small hand-made results table: traces, error bars, Pareto front, baselines."""

from __future__ import annotations

import pandas as pd
import pytest

from multires.figures.study import INIT_COLORS, budget_figure, init_figure
from multires.figures.style import TREE_SELECT_COLORS


def _table() -> pd.DataFrame:
    """Two seeds per setting; budgets: fading 7, uniform 4 and 8, learned M=4 keeps 10 distinct."""
    rows = []
    settings = [  # rule, M, per channel, distinct, init, scores of seeds 0 and 1
        ("fading", None, 7, 7.0, "learned from haar", (0.80, 0.84)),
        ("uniform", 4, 4, 4.0, "learned from haar", (0.60, 0.70)),
        ("uniform", 8, 8, 8.0, "learned from haar", (0.70, 0.80)),
        ("learned", 4, 4, 10.0, "learned from haar", (0.88, 0.90)),
        ("fading", None, 7, 7.0, "frozen haar", (0.50, 0.56)),
        ("fading", None, 7, 7.0, "learned from random", (0.30, 0.40)),
    ]
    for rule, m, per_channel, distinct, init, scores in settings:
        for seed, score in enumerate(scores):
            rows.append({"task": "ucr:Toy", "tree_select": rule, "memory_size": m, "init": init, "d_model": 8,
                         "seed": seed, "status": "ok", "metric_name": "accuracy", "test_score": score,
                         "slots_per_channel": per_channel, "distinct_slots_mean": distinct})
    rows.append({**rows[0], "status": "error", "test_score": None, "seed": 2})  # ignored
    rows.append({**rows[0], "task": "other", "test_score": 0.1})  # another task: ignored
    return pd.DataFrame(rows)


def test_budget_figure_draws_each_rule_with_its_seed_range_in_its_colour():
    fig = budget_figure(_table(), "ucr:Toy", "distinct")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["resolution fading", "uniform", "learned", "Pareto front"]
    uniform = by_name["uniform"]
    assert list(uniform.x) == [4.0, 8.0] and list(uniform.y) == pytest.approx([0.65, 0.75])
    assert list(uniform.error_y.array) == pytest.approx([0.05, 0.05])
    assert list(uniform.error_y.arrayminus) == pytest.approx([0.05, 0.05])
    assert uniform.marker.color == TREE_SELECT_COLORS["uniform"]
    assert by_name["learned"].marker.color == TREE_SELECT_COLORS["learned"]
    assert "distinct coefficients per layer" in fig.layout.xaxis.title.text
    # a zoomed score axis says where it starts (issue 21: "the y axis starts at 0.88 without saying so")
    start = fig.layout.yaxis.range[0]
    assert fig.layout.yaxis.title.text == ("test accuracy" if start == 0 else f"accuracy · axis from {start:.2f}")


def test_pareto_front_keeps_every_setting_no_paired_interval_separates():
    """Two seeds per setting: no difference is resolved (paired t-interval over 1 degree of freedom), so no
    setting leaves the front, on either budget axis (tests/test_study_stats.py drops a resolved-worse one)."""
    distinct = budget_figure(_table(), "ucr:Toy", "distinct").data[-1]
    assert list(distinct.x) == [4.0, 7.0, 8.0, 10.0] and list(distinct.y) == pytest.approx([0.65, 0.82, 0.75, 0.89])
    per_channel = budget_figure(_table(), "ucr:Toy", "per_channel").data[-1]
    assert sorted(per_channel.x) == [4.0, 4.0, 7.0, 8.0]


def test_budget_figure_filters_by_init_and_draws_baselines_as_lines():
    fig = budget_figure(_table(), "ucr:Toy", init="frozen haar", baselines={"MiniRocket": 0.95, "1-NN DTW": 0.9})
    # baselines named in the legend, not printed on the chart (close ones overlapped)
    assert [t.name for t in fig.data] == ["resolution fading", "Pareto front", "MiniRocket 0.950 (baseline)",
                                         "1-NN DTW 0.900 (baseline)"]
    assert list(fig.data[0].y) == pytest.approx([0.53])
    lines = [(s.name, s.y0) for s in fig.layout.shapes]
    assert lines == [("baseline: MiniRocket", 0.95), ("baseline: 1-NN DTW", 0.9)]
    assert not fig.layout.annotations


def test_init_figure_groups_settings_by_init_with_ranges():
    fig = init_figure(_table(), "ucr:Toy")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["frozen haar", "learned from haar", "learned from random"]
    assert list(by_name["learned from haar"].x) == ["resolution fading", "uniform M=4", "uniform M=8", "learned M=4"]
    assert list(by_name["learned from random"].x) == ["resolution fading"]
    assert list(by_name["learned from random"].y) == pytest.approx([0.35])
    assert list(by_name["learned from random"].error_y.array) == pytest.approx([0.05])
    assert by_name["frozen haar"].marker.color == INIT_COLORS["frozen haar"]


def test_a_task_without_finished_trials_is_refused_with_the_tasks_available():
    with pytest.raises(ValueError, match=r"no finished trials for task 'nope'.*ucr:Toy"):
        budget_figure(_table(), "nope")
