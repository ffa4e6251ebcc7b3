"""ui.defaults: the explorer pages open on a real-data model and a real GunPoint series, and say what it is."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import open_app
from multires.data.tasks import load_task
from ui import defaults
from ui.models import MODELS_DIR, ModelEntry

INDEX = {m["name"]: m for m in json.loads((MODELS_DIR / "index.json").read_text())["models"]}


def test_default_model_is_the_shipped_gunpoint_model_and_falls_back_without_it():
    assert defaults.default_model(INDEX) == defaults.REAL_MODEL
    assert INDEX[defaults.REAL_MODEL]["task"] == defaults.DEFAULT_TASK
    assert INDEX[defaults.REAL_LEARNED_MODEL]["tree_select"] == "learned"
    without = {k: v for k, v in INDEX.items() if not k.startswith("gunpoint-")}
    assert defaults.default_model(without) == defaults.FALLBACK_MODEL
    assert defaults.default_learned_model(["x", "digits-learned8-haar"]) == 1


def test_real_signals_are_gunpoint_test_series_one_per_class():
    names = defaults.real_signal_names()
    task = load_task(defaults.DEFAULT_TASK, seed=defaults.DATA_SEED)
    assert len(names) == task.n_classes == 2 and defaults.default_signal() == names[0]
    for label, name in enumerate(names):
        index = int(name.rsplit("test series ", 1)[1].rstrip(")"))
        assert int(task.y_test[index]) == label
        np.testing.assert_allclose(defaults.real_series(name), task.x_test[index, 0].double().numpy())
    assert defaults.real_series("ECG") is None


def test_model_note_says_what_the_model_learned_from_and_its_score():
    metrics = {"task": "ucr:GunPoint", "metric_name": "accuracy", "test_metric": INDEX[defaults.REAL_MODEL]["test_metric"]}
    note = defaults.model_note(ModelEntry("m", object(), metrics, "shipped"))
    assert note.startswith("Shipped model trained on GunPoint") and f"{100 * metrics['test_metric']:.1f} %" in note
    recall = defaults.model_note(ModelEntry("m", object(), {"task": "memory", "metric_name": "r2_mean",
                                                               "test_metric": 0.5}, "trained"))
    assert recall == "Your model trained on white noise, asked to recall the value 1 to 128 steps back; test R² 0.50."
    assert "no test score recorded" in defaults.model_note(ModelEntry("m", object(), {}, "uploaded"))


@pytest.mark.parametrize("page", ["app_pages/2_Filters.py", "app_pages/3_Coefficient_tree.py",
                                  "app_pages/4_TREESELECT.py", "app_pages/6_Compare.py"])
def test_explorer_pages_open_on_the_real_data_model_with_its_note(page):
    at = open_app(page)
    assert at.session_state["model"] == defaults.REAL_MODEL
    assert any("GunPoint" in c.value and "trained on" in c.value.lower() for c in at.caption)
    if page != "app_pages/6_Compare.py":
        assert at.session_state["signal"] == defaults.default_signal()
    else:
        assert at.radio(key="compare_task").value == defaults.DEFAULT_TASK


def test_which_class_question_reveals_the_truth_the_models_answer_and_its_evidence():
    at = open_app("app_pages/4_TREESELECT.py")
    assert "Which class is this series?" in [s.value for s in at.subheader]
    assert "ts_class_figure" not in str([c.proto.id for c in at.get("plotly_chart")])  # nothing before Reveal
    at.radio(key="ts_class_guess").set_value(1).run()
    at.button(key="ts_class_reveal").click().run()
    assert not at.exception
    task = load_task(defaults.DEFAULT_TASK, seed=defaults.DATA_SEED)
    truth = defaults.class_words(defaults.DEFAULT_TASK, task.class_names[int(task.y_test[0])])
    text = " ".join(m.value for m in [*at.success, *at.warning]).replace("\\", "")
    assert f"It is {truth}" in text
    assert any("model says" in m.value for m in at.markdown)
    at.button(key="ts_class_next").click().run()  # another series: the answer is hidden again
    assert not at.exception and not any("model says" in m.value for m in at.markdown)
