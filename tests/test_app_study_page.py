"""The Study page under ``AppTest``: the shipped study, the budget-axis toggle, good and bad uploads."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import ROOT, chart_layouts, open_app
from streamlit.testing.v1 import AppTest

from multires.study import read_results
from ui.safe_text import unescape

PAGE = "app_pages/7_Study.py"
SHIPPED = ROOT / "assets" / "studies" / "ucr.csv"


def _study_page() -> AppTest:
    return open_app(PAGE)


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.radio(key="study_source").set_value("Upload a results file").run()
    at.file_uploader(key="study_upload").set_value((name, data, "text/csv")).run()


def test_shipped_study_draws_both_charts_for_every_task():
    at = _study_page()
    shipped = read_results(SHIPPED)
    tasks = sorted(shipped.loc[shipped["status"] == "ok", "task"].unique())
    assert at.title[0].value == "Studies"
    assert at.radio(key="study_source").value == "ucr", "the real-dataset study opens first"
    assert at.selectbox(key="study_task").options == tasks
    layouts = chart_layouts(at)
    assert len(layouts) == 2
    assert "distinct coefficients per layer" in layouts[0]["xaxis"]["title"]["text"]
    assert len(at.caption) >= 2 and "Pareto front" in at.caption[0].value
    for task in tasks[1:]:
        at.selectbox(key="study_task").set_value(task).run()
        assert not at.exception
        assert chart_layouts(at)[0]["title"]["text"].startswith(task)


def test_shipped_memory_study_draws_r2_without_baseline_lines():
    at = _study_page()
    at.radio(key="study_source").set_value("memory").run()
    assert not at.exception
    assert at.selectbox(key="study_task").options == ["memory", "memory-independent"]
    layouts = chart_layouts(at)
    assert [layout["yaxis"]["title"]["text"] for layout in layouts] == ["test mean R² over lags"] * 2
    assert not layouts[0].get("shapes"), "MiniRocket / DTW are classifiers: no lines on a recall task"


def test_budget_toggle_counts_slots_per_channel():
    at = _study_page()
    at.radio(key="study_budget_axis").set_value("per_channel").run()
    assert not at.exception
    assert "slots per channel" in chart_layouts(at)[0]["xaxis"]["title"]["text"]


def test_baselines_are_drawn_as_reference_lines_when_measured():
    baselines = pd.read_csv(ROOT / "assets" / "studies" / "baselines.csv")
    at = _study_page()
    task = at.selectbox(key="study_task").value
    methods = set(baselines.loc[baselines["task"] == task, "method"])
    shapes = chart_layouts(at)[0].get("shapes", [])
    assert {s["name"] for s in shapes} == {f"baseline: {m}" for m in methods}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("other.csv", b"a,b\n1,2\n", "missing column"),
        ("scores.csv", None, "must be numeric"),
    ],
)
def test_a_bad_upload_says_what_is_wrong_and_keeps_the_page(name, data, message):
    if data is None:  # a real table whose score column holds text
        table = read_results(SHIPPED).assign(test_score="high")
        data = table.to_csv(index=False).encode()
    at = _study_page()
    at.radio(key="study_budget_axis").set_value("per_channel").run()
    _upload(at, name, data)
    assert not at.exception
    assert len(at.error) == 1 and name in unescape(at.error[0].value) and message in unescape(at.error[0].value)
    assert len(at.get("plotly_chart")) == 2, "the shipped study is still drawn"
    assert at.radio(key="study_budget_axis").value == "per_channel", "the user's choices are kept"


def test_a_good_upload_replaces_the_shipped_study():
    shipped = read_results(SHIPPED)
    mine = shipped[shipped["task"] == shipped["task"].iloc[0]].assign(task="my:dataset")
    buffer = io.BytesIO()
    mine.to_parquet(buffer, index=False)
    at = _study_page()
    _upload(at, "results.parquet", buffer.getvalue())
    assert not at.exception and not at.error
    assert at.selectbox(key="study_task").options == ["my:dataset"]
    assert chart_layouts(at)[0]["title"]["text"].startswith("my:dataset")


def test_presentation_mode_shortens_the_budget_chart_and_leaves_the_kept_chart_alone():
    """The budget chart is kept by its inputs (ui.figure_cache): presentation mode is one of them, and
    turning it off again draws the full-height chart (the kept figure was not modified)."""
    at = _study_page()
    normal = chart_layouts(at)[0].get("height")
    at.session_state["present"] = True
    at.run()
    assert not at.exception
    assert chart_layouts(at)[0]["height"] == 320
    at.session_state["present"] = False
    at.run()
    assert chart_layouts(at)[0].get("height") == normal != 320
