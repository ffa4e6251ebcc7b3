"""The lesson path (step in the URL, Next/Back, predict-then-reveal) and the statements students read.

Each statement test names the sentence a student quoted as wrong (issue 21) and asserts what the
page now says, read off the same data as the chart under it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import open_app
from ui.lesson import STEPS
from ui.safe_text import unescape

LESSON = "app_pages/8_Lesson.py"
#: What a student must never read outside a "For developers" expander: module paths, config field
#: names, file paths (issue 21: "assets/studies/baselines.csv", "multires.filters.filter_diagnostics",
#: "TrainConfig.max_seconds").
CODE_NAME = re.compile(r"multires\.\w|TrainConfig|tree_select|max_seconds|assets/|\.csv\b|pywt\.|--grid|python -m")


def lesson(step: int | str | None = None) -> AppTest:
    """The lesson page, opened as a shared link ``/lesson?step=...`` brings it."""
    return open_app(LESSON, query=None if step is None else {"step": str(step)})


def title(at: AppTest) -> str:
    return at.title[0].value


def student_text(at: AppTest) -> list[str]:
    """Every sentence on the page a student reads (markdown, captions, alerts, widget labels), except inside
    an expander labelled "For developers"."""
    hidden = {id(node) for expander in at.expander if "developers" in expander.label.lower()
              for node in _descendants(expander)}
    texts = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error"):
        texts += [unescape(el.value) for el in at.get(kind) if id(el) not in hidden]
    for kind in ("selectbox", "radio", "slider", "number_input", "toggle", "multiselect", "select_slider"):
        texts += [el.label for el in at.get(kind) if id(el) not in hidden]
    return [str(t) for t in texts]


def _descendants(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _descendants(child)


def code_names(texts: list[str]) -> list[str]:
    return [t for t in texts if CODE_NAME.search(t)]


# --- the lesson path ----------------------------------------------------------------------------------


def test_the_url_step_opens_that_step_and_next_back_move_it():
    at = lesson(3)
    assert title(at).startswith(f"Lesson 3/{len(STEPS)}: {STEPS[2].title}")
    at.button(key="lesson_next").click().run()
    assert at.query_params["step"] == "4"
    assert title(at).startswith(f"Lesson 4/{len(STEPS)}")
    at.button(key="lesson_back").click().run()
    at.button(key="lesson_back").click().run()
    assert title(at).startswith(f"Lesson 2/{len(STEPS)}")
    assert at.query_params["step"] == "2"


def test_the_first_and_last_steps_disable_back_and_next():
    first = lesson()
    assert title(first).startswith("Lesson 1/") and first.button(key="lesson_back").disabled
    last = lesson(len(STEPS))
    assert last.button(key="lesson_next").disabled and not last.button(key="lesson_back").disabled


@pytest.mark.parametrize("bad", ["0", "99", "three"])
def test_a_bad_step_in_the_link_is_reported_and_step_1_shown(bad):
    at = lesson(bad)
    assert title(at).startswith("Lesson 1/")
    assert any(f"step={bad} is not a step of the lesson" in unescape(w.value) for w in at.warning)


@pytest.mark.parametrize("step", range(1, len(STEPS) + 1))
def test_every_step_has_its_chart_one_sentence_and_one_question(step):
    at = lesson(step)
    assert len(at.get("plotly_chart")) == 1  # the key chart, before any reveal
    questions = [m.value for m in at.markdown if m.value.startswith("**Predict:**")]
    assert len(questions) == 1
    assert not at.success and not at.warning  # nothing revealed yet
    assert not code_names(student_text(at))


def _question_key(at: AppTest) -> str:
    keys = [r.key for r in at.radio if r.key and r.key.startswith("lesson_q_")]
    assert len(keys) == 1, keys
    return keys[0]


def reveal(at: AppTest, guess: str) -> AppTest:
    key = _question_key(at)
    at.radio(key=key).set_value(guess).run()
    at.button(key=key.removesuffix("_guess") + "_reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_reveal_checks_the_guess_and_a_new_guess_hides_the_answer_again():
    at = lesson(1)
    right = "two: h0 and h1, the same at every level"
    reveal(at, "one per node of the tree")
    assert at.warning and "The answer: " + right in at.warning[0].value
    at.radio(key=_question_key(at)).set_value(right).run()
    assert not at.warning and not at.success  # the answer was for another guess: hidden again
    at.button(key="lesson_q_tree_reveal").click().run()
    assert at.success and at.success[0].value.startswith("Right: ")


def test_the_energy_step_hides_the_bars_until_reveal_then_names_the_largest():
    at = lesson(2)
    assert [c.key for c in at.get("plotly_chart")] == ["lesson_chart_tree_heatmap"]  # no bar gives it away
    options = list(at.radio(key="lesson_q_energy_guess").options)
    reveal(at, options[0])
    message = unescape((at.success or at.warning)[0].value)
    answer = re.search(r"(?:Right: |The answer: )(\w+)\.", message).group(1)
    assert any(c.key == "lesson_chart_energy" for c in at.get("plotly_chart"))  # the bars, now
    from multires import coefficient_tree, default_depth, wavelet_filters
    from multires.data.signals import load_signal
    from multires.figures.tree import normalized_level_energy

    x = load_signal("ECG", n=512)
    rows = coefficient_tree(x, *wavelet_filters("haar"), depth=default_depth(512, 2)).rows()
    assert answer == rows[int(np.argmax(normalized_level_energy(rows)))][0]


def test_the_fading_step_says_log2_n_numbers():
    at = lesson(3)
    options = list(at.radio(key="lesson_q_footprint_guess").options)
    reveal(at, "13")
    assert at.success, "J + 1 = 13 for N = 4096 and k = 2"
    assert "13" in options


def test_the_uniform_step_finds_a_lag_where_uniform_wins():
    at = lesson(5)
    reveal(at, "uniform")
    assert at.success, [w.value for w in at.warning]
    why = " ".join(m.value for m in at.markdown)
    found = re.search(r"uniform R² ([0-9]*\.[0-9]+), fading ([0-9]*\.[0-9]+)", why)
    assert found and float(found.group(1)) > float(found.group(2))
    keys = [c.key for c in at.get("plotly_chart")]
    assert "lesson_chart_uniform" in keys  # the recall chart, on reveal
    from ui.uniform_test import TABLE

    assert ("lesson_uniform_test" in keys) == TABLE.is_file()  # and the measured task, when it is shipped


def test_the_learned_selection_step_says_whether_it_is_better_from_the_scores():
    at = lesson(len(STEPS))
    reveal(at, "no: about the same or lower")
    why = " ".join(m.value for m in at.markdown)
    learned, fading = map(float, re.search(r"Best learned ([0-9.]+) vs best fading ([0-9.]+)", why).groups())
    assert bool(at.success) == (learned <= fading + 0.005)


def test_the_learned_choice_step_counts_distinct_cells_from_the_layer():
    at = lesson(8)
    options = list(at.radio(key="lesson_q_learned_choice_guess").options)
    assert "8" in options
    reveal(at, options[-1])
    from ui.models import shipped_models

    conv = shipped_models()["digits-learned8-haar"].net.convs[0]
    assert f"{conv.distinct_slots()}: the channels" in " ".join(m.value for m in at.markdown)


# --- statements a student quoted as wrong ------------------------------------------------------------------


def test_treeselect_says_it_overrides_the_sidebar_model_beside_the_picker():
    at = open_app("app_pages/4_TREESELECT.py")
    sidebar = at.session_state["model"]
    page_model = next(s for s in at.selectbox if s.label == "Model (this page only)").value
    assert page_model != sidebar
    notice = next(unescape(m.value) for m in at.markdown if "Not the sidebar's model" in m.value)
    assert f"This page shows {page_model}" in notice.replace("*", "") and sidebar in notice


def test_treeselect_learned_rule_lists_the_candidates_it_really_had():
    at = open_app("app_pages/4_TREESELECT.py")
    from ui.models import all_models

    name = next(s for s in at.selectbox if s.label == "Model (this page only)").value
    conv = all_models()[name].net.convs[0]
    rule = next(m.value for m in at.markdown if "pruned each channel" in m.value)
    assert "up to lag" not in rule
    assert f"the {len(conv.slots)} candidate cells" in rule
    finest = sorted(s.lag for s in conv.slots if s.band == "detail" and s.level == 1)
    assert f"b1 at lags {', '.join(map(str, finest))}" in rule  # e.g. "b1 at lags 0, 2, 4": the lags really offered


def test_compare_recall_caption_is_read_off_the_chart():
    at = open_app("app_pages/6_Compare.py", compare_task="memory")
    caption = next(unescape(c.value) for c in at.caption
                   if c.value.startswith("Colour = TREESELECT rule, dash = initialisation"))
    assert "uniform spreads its budget evenly" not in caption
    assert "memory-fading-haar: almost exact at every lag" in caption
    assert "memory-uniform9-haar: poor at lags 1–8, almost exact at lags 16–128" in caption


def test_compare_never_writes_a_range_of_one_value():
    at = open_app("app_pages/6_Compare.py", compare_task="memory")
    assert not [c.value for c in at.caption if re.search(r"\b(\d+)–\1\b", c.value)]


def test_wavelets_haar_reports_its_exact_orthonormality_not_the_sampling_error():
    at = open_app("app_pages/1_Wavelets.py")
    labels = [m.label for m in at.metric]
    assert "Gram: max |G − I|" not in labels
    exact = next(m for m in at.metric if m.label == "Orthonormal filters: error")
    assert float(exact.value) < 1e-12
    assert any("that is the grid, not the wavelet" in c.value for c in at.caption)


def test_train_promises_what_its_tooltip_says():
    at = open_app("app_pages/5_Train.py")
    epochs = at.number_input(key="train_epochs")
    assert "time bound can still stop it sooner" in epochs.help
    assert any("stopped it after 125 of its 300 planned steps" in c.value for c in at.caption)
    plan = next(c.value for c in at.caption if c.value.startswith("Plan per seed"))
    assert "300 optimizer steps" in plan and "more than the 15 asked" in plan


def test_study_init_caption_names_only_the_starts_in_the_chart_and_keeps_commands_for_developers():
    at = open_app("app_pages/7_Study.py", study_source="memory")
    caption = next(c.value for c in at.caption if c.value.startswith("The same rules with the filters"))
    assert "random" not in caption
    assert not code_names(student_text(at))
    developers = next(e for e in at.expander if e.label == "For developers")
    assert "--grid memory" in " ".join(m.value for m in developers.markdown)


def test_playground_start_from_says_your_own_taps_once_they_are_typed():
    at = open_app("app_pages/2b_Playground.py")
    assert at.selectbox(key="pg_preset").value == "db2"
    at.number_input(key="pg_h0_0").set_value(0.5).run()
    assert at.selectbox(key="pg_preset").value == "your own taps"


@pytest.mark.parametrize("page", ["app_pages/0_Home.py", "app_pages/1_Wavelets.py", "app_pages/2_Filters.py",
                                  "app_pages/2b_Playground.py", "app_pages/3_Coefficient_tree.py",
                                  "app_pages/4_TREESELECT.py", "app_pages/5_Train.py", "app_pages/6_Compare.py",
                                  "app_pages/7_Study.py"])
def test_no_code_names_in_student_text(page):
    at = open_app(page)
    assert not code_names(student_text(at)), code_names(student_text(at))


def test_every_row_of_each_level_over_time_keeps_labelled_ticks():
    from multires.figures.tree import level_traces

    rows = [("a3", np.linspace(5.0, 9.0, 64)), ("b3", 1e-3 * np.sin(np.arange(64.0))), ("b2", np.zeros(64)),
            ("b1", np.r_[np.full(63, -0.2), 40.0])]
    fig = level_traces(rows, "t")
    axes = [fig.layout[f"yaxis{i if i > 1 else ''}"] for i in range(1, len(rows) + 1)]  # row i on yaxis i
    assert len(axes) == len(rows)
    for axis, (label, values) in zip(axes, rows):
        ticks = list(axis.tickvals)
        assert ticks and all(axis.range[0] <= t <= axis.range[1] for t in ticks), label
        if values.max() > 0:
            assert max(ticks) > 0, label  # the row's top is labelled, not only 0


def test_cost_chart_keeps_an_equal_learned_line_visible_and_its_legend_off_the_axis_title():
    from multires.figures.treeselect import footprint_figure

    n = 2 ** np.arange(4, 10)
    fig = footprint_figure(n, {"fading": np.log2(n) + 1, "uniform": np.full(n.shape, 8.0),
                               "learned": np.full(n.shape, 8.0)}, current_n=64)
    by_name = {t.name: t for t in fig.data}
    assert by_name["uniform"].line.dash in (None, "solid") and by_name["learned"].line.dash == "dash"
    assert fig.layout.legend.orientation == "v" and fig.layout.legend.x > 1  # beside the plot, not under it
