"""The Study page under ``AppTest``: the shipped study, the budget-axis toggle, good and bad uploads."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, chart_layouts, open_app
from multires.study import read_results
from ui.safe_text import unescape
from ui.train_data import task_label

PAGE = "app_pages/7_Study.py"
SHIPPED = ROOT / "assets" / "studies" / "paired.csv"


def _study_page() -> AppTest:
    return open_app(PAGE)


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.radio(key="study_source").set_value("Upload a results file").run()
    at.file_uploader(key="study_upload").set_value((name, data, "text/csv")).run()


def test_shipped_study_draws_both_charts_for_every_task():
    at = _study_page()
    shipped = read_results(SHIPPED)
    tasks = sorted(shipped.loc[shipped["status"] == "ok", "task"].unique(), key=lambda t: (not t.startswith("ucr:"), t))
    assert at.title[0].value == "Studies"
    assert at.radio(key="study_source").value == "paired", "the paired study (it answers the four questions) opens first"
    assert at.selectbox(key="study_task").options == [task_label(t) for t in tasks], "real data first, in words"
    layouts = chart_layouts(at)
    assert len(layouts) >= 2, "the budget and init charts, then the four questions' charts"
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
    assert at.selectbox(key="study_task").options == [task_label("memory"), task_label("memory-independent")]
    layouts = chart_layouts(at)[:2]
    assert all(layout["yaxis"]["title"]["text"] in ("test mean R² over lags", "mean R² · axis from "
                                                    f"{layout['yaxis']['range'][0]:.2f}") for layout in layouts)
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
    assert len(at.get("plotly_chart")) >= 2, "the shipped study is still drawn"
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
    assert chart_layouts(at)[0]["height"] == 290
    at.session_state["present"] = False
    at.run()
    assert chart_layouts(at)[0].get("height") == normal != 290


def _answer_lines(at: AppTest) -> list[str]:
    return [unescape(m.value) for m in at.markdown if m.value.startswith("- ")]


def test_the_four_questions_are_answered_from_the_shown_table_with_intervals():
    """An upload with a planted difference on one task and none on the other: the page finds exactly that."""
    from test_study_stats import _four_question_table

    at = _study_page()
    _upload(at, "planted.csv", _four_question_table().to_csv(index=False).encode())
    assert not at.exception and not at.error
    lines = _answer_lines(at)
    assert any(line.startswith("- Learned filters resolved better on A (fading") for line in lines)
    assert any(line.startswith("- No difference resolved on B (fading") for line in lines)
    assert not any("resolved better on B" in line for line in lines), "no winner inside its interval"
    assert any("uniform recalls better at lags 64" in line for line in lines)
    titles = [layout["title"]["text"] for layout in chart_layouts(at)]
    assert any(t.startswith("Does learning the filters") for t in titles)
    assert any("per lag" in t for t in titles)
    assert "paired t-interval" in " ".join(m.value for m in at.markdown)


def test_the_shipped_study_answers_every_question_from_its_own_rows():
    from multires.study.questions import QUESTIONS, answer_all, summary

    at = _study_page()
    lines = _answer_lines(at)
    answers = answer_all(read_results(SHIPPED))
    expected = [f"- {line}" for key in QUESTIONS for line in summary(answers, key)]
    assert lines == [unescape(line) for line in expected]
