"""Seed ensembles in the app (issue 22, item 2): a real ensemble file opens wherever a checkpoint does.

A tiny real ensemble (``multires.fit`` with ``ensemble=2`` on noisy sines, a few steps) is uploaded on
the Train page. Compare scores it as ``multires.predict`` does on the same series (the whole ensemble,
probabilities averaged); the explorer pages (Filters, Coefficient tree, TREESELECT) show one member
with a one-line note and a selector, and switching member changes the plotted filters. Bad ensemble
files (members whose shapes disagree, a truncated file, a wrong member count) get a clear message and
the app keeps working. The library side: every member is checked like an uploaded checkpoint, before
any of its tensor data is read.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
import torch

from conftest import assert_no_exception, chart_spec, open_app, rewrite_checkpoint, widget
from multires import predict
from multires.checkpoint import CheckpointError, checkpoint_bytes
from multires.checkpoint import format as format_module
from multires.checkpoint import io as checkpoint_io
from multires.data.tasks import from_arrays
from multires.training.config import TrainConfig
from multires.training.ensemble import MultiresEnsemble, load_model, model_bytes
from multires.training.history import TrainingWarning
from multires.training.inference import predict_proba
from multires.training.recipe import fit
from ui.class_question import _answer_line
from ui.models import MEMBER_KEY, ModelEntry
from ui.safe_text import unescape

TRAIN, FILTERS, TREE, TREESELECT, COMPARE = (
    "app_pages/5_Train.py", "app_pages/2_Filters.py", "app_pages/3_Coefficient_tree.py",
    "app_pages/4_TREESELECT.py", "app_pages/6_Compare.py")
EXPLORERS = (FILTERS, TREE, TREESELECT)
NAME = "sines-ensemble"
#: Random k = 2 filters, so the two seeds' members start (and stay) visibly different; a few steps.
TINY = dict(d_model=4, n_layers=1, epochs=6, min_steps=0, batch_size=8, lr=0.03, norm="layer", folds=2, wavelet=None,
            kernel_size=2, ensemble=2)


def _sines(counts, length, rng, frequencies=(1, 4)):
    """Noisy sines of one frequency per class, random phase."""
    t = np.linspace(0, 1, length)
    X = [np.sin(2 * np.pi * frequencies[label] * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(length)
         for label, count in enumerate(counts) for _ in range(count)]
    return np.array(X), [f"c{label}" for label, count in enumerate(counts) for _ in range(count)]


@pytest.fixture(scope="module")
def trained():
    """A real 2-seed ensemble file, and the raw test series and labels of its task."""
    rng = np.random.default_rng(0)
    X_train, y_train = _sines((12, 12), 24, rng)
    X_test, y_test = _sines((10, 10), 24, rng)
    task = from_arrays("sines", X_train, y_train, X_test, y_test, seed=0)
    with warnings.catch_warnings():  # a few steps: the recipe says it is under-trained, which is the point
        warnings.simplefilter("ignore", TrainingWarning)
        result = fit(task, TrainConfig(**TINY))
    assert isinstance(result.net, MultiresEnsemble) and result.net.n_members == 2
    return model_bytes(result.net, result.metrics()), X_test, np.asarray(y_test), task.class_names


def _upload(at, filename: str, data: bytes) -> None:
    at.file_uploader(key="train_upload").set_value((filename, data, "application/octet-stream"))
    at.run()


def _opened(trained):
    """The app on the Train page with the ensemble uploaded (and so selected in the sidebar)."""
    at = open_app(TRAIN)
    _upload(at, f"{NAME}.safetensors", trained[0])
    assert_no_exception(at)
    assert widget(at.sidebar.selectbox, "model").value == NAME
    return at


def _note(at) -> str:
    notes = [unescape(m.value) for m in at.markdown if "holds an ensemble" in m.value]
    assert len(notes) == 1, [m.value for m in at.markdown]
    return notes[0]


def _note_for(member: int) -> str:
    return (f"This file holds an ensemble of 2 models trained with different seeds; showing member {member} — "
            "choose another:")


# --- the app ------------------------------------------------------------------------------------------


def test_explorer_pages_show_one_member_and_switching_it_changes_the_filters(trained):
    at = _opened(trained)
    at.switch_page(FILTERS).run()
    assert_no_exception(at)
    assert _note(at) == _note_for(1)
    first = chart_spec(at, "filters_taps")["data"]
    at.selectbox(key=MEMBER_KEY + NAME).set_value(1).run()
    assert_no_exception(at)
    assert _note(at) == _note_for(2)
    second = chart_spec(at, "filters_taps")["data"]
    assert second != first  # the learned (left) panel now draws the other seed's filters
    members = load_model(trained[0]).members
    assert not np.allclose(members[0].filters(0, 0)[0], members[1].filters(0, 0)[0])  # and they do differ
    at.selectbox(key=MEMBER_KEY + NAME).set_value(0).run()
    assert chart_spec(at, "filters_taps")["data"] == first  # the same member draws the same filters again
    at.selectbox(key=MEMBER_KEY + NAME).set_value(1).run()

    at.switch_page(TREE).run()  # the choice carries to the other explorer pages
    assert_no_exception(at)
    assert _note(at) == _note_for(2)
    at.switch_page(TREESELECT).run()
    assert_no_exception(at)
    page_model = f"ts_model_{NAME}"  # the page offers a shipped learned model first when the sidebar's is fixed
    if any(box.key == page_model for box in at.selectbox):
        at.selectbox(key=page_model).set_value(NAME).run()
        assert_no_exception(at)
    assert _note(at) == _note_for(2)
    at.switch_page(FILTERS).run()
    assert _note(at) == _note_for(2) and chart_spec(at, "filters_taps")["data"] == second


def test_compare_scores_the_whole_ensemble_as_predict_does(trained):
    data, X_test, y_test, class_names = trained
    at = _opened(trained)
    at.switch_page(COMPARE).run()
    assert_no_exception(at)
    assert at.radio(key="compare_task").value == "sines"
    table = next(frame.value for frame in at.dataframe if "name" in frame.value.columns)
    row = table[table["name"] == NAME].iloc[0]
    ensemble = load_model(data)
    accuracy = float(np.mean(predict(ensemble, X_test, class_names=class_names) == y_test))
    assert row["test score"] == pytest.approx(accuracy, abs=1e-9)
    assert row["parameters"] == sum(m.n_parameters() for m in ensemble.members)
    members = [float(np.mean(predict(m, X_test, class_names=class_names) == y_test)) for m in ensemble.members]
    print(f"ensemble accuracy {accuracy:.3f}, members {members}")


def test_class_question_answers_with_the_whole_ensemble(trained):
    from multires.analysis.explain import explain_prediction

    data, X_test, y_test, class_names = trained
    ensemble = load_model(data)
    series = ((X_test[3] - X_test[3].mean()) / X_test[3].std())  # normalised as in training
    entry = ModelEntry(NAME, ensemble, ensemble.metrics, "uploaded")
    why = explain_prediction(ensemble.members[1], series)
    probabilities = predict_proba(ensemble, series[None], normalize="none")[0]
    members = np.stack([torch.softmax(m(torch.from_numpy(series[None, None]).float()), -1)[0].detach().numpy()
                        for m in ensemble.members])
    assert np.allclose(probabilities, members.mean(axis=0), atol=1e-6)  # averaged probabilities, not a vote
    said = int(probabilities.argmax())
    line = _answer_line(entry, series, why, said, list(class_names))
    assert line.startswith(f"The 2 models of the ensemble together say {class_names[said]} "
                           f"({100 * probabilities[said]:.0f} % sure): right.")
    assert line.endswith(f"on its own it says {class_names[why.predicted]}.")


def _bad_files(data: bytes) -> dict[str, tuple[bytes, str]]:
    return {
        "shapes-disagree": (rewrite_checkpoint(data, tensors=lambda t: {**t, "members.1.decoder.weight":
                                                                        torch.zeros(2, 7)}),
                            r"model 2 of the 2 in this ensemble file: tensor 'decoder.weight' is F32 \(2, 7\), "
                            r"the config needs F32 \(2, 4\)"),
        "truncated": (data[:-40], "file is truncated"),
        "says-three": (rewrite_checkpoint(data, metadata=lambda m: {**m, "members": "3"}),
                       "says it holds 3 models but has no tensors for model 3"),
    }


def test_bad_ensemble_files_get_a_clear_message_and_the_app_keeps_working(trained):
    at = _opened(trained)
    models_before = dict(at.session_state["session_models"])
    for case, (data, message) in _bad_files(trained[0]).items():
        _upload(at, f"{case}.safetensors", data)
        assert_no_exception(at)
        errors = [unescape(e.value) for e in at.error]
        assert any(f"“{case}.safetensors” is not a usable checkpoint" in e for e in errors), errors
        assert any(re.search(message, e) for e in errors), (message, errors)
        assert dict(at.session_state["session_models"]) == models_before  # nothing lost, nothing added
        assert widget(at.sidebar.selectbox, "model").value == NAME
    for page in (*EXPLORERS, COMPARE):
        at.switch_page(page).run()
        assert_no_exception(at)


# --- the library: every member is checked like an uploaded checkpoint ------------------------------------


def test_every_member_is_refused_on_its_header_before_any_tensor_is_read(trained, monkeypatch):
    bad, message = _bad_files(trained[0])["shapes-disagree"]

    def forbidden(*_args, **_kwargs):
        raise AssertionError("tensor data was read before the member's shapes were checked")

    monkeypatch.setattr(checkpoint_io, "_safetensors_load", forbidden)
    monkeypatch.setattr(checkpoint_io, "build_model", forbidden)
    with pytest.raises(CheckpointError, match=message):
        load_model(bad)


@pytest.mark.parametrize("case, edit, match", [
    ("deep metrics", lambda m: {**m, "metrics": "[" * 100_000}, "ensemble file metrics nests 100000 levels deep"),
    ("metric of the wrong type", lambda m: {**m, "metrics": json.dumps({"test_metric": "high"})},
     "ensemble file metrics field test_metric must be a finite number"),
    ("no members", lambda m: {**m, "members": "0"}, "holds 1 to 20 models; this one says '0'"),
    ("too many members", lambda m: {**m, "members": "21"}, "holds 1 to 20 models; this one says '21'"),
    ("members not a number", lambda m: {**m, "members": "٢"}, "holds 1 to 20 models"),
    ("costly config", lambda m: {**m, "config": json.dumps({**json.loads(m["config"]), "d_model": 512,
                                                            "n_layers": 16, "seq_len": 65536, "depth": None})},
     "ensemble file holds an invalid model config: .*more than the 4194304 allowed"),
    ("unknown version", lambda m: {**m, "format_version": "2"}, "format_version '2' is not supported"),
])
def test_hostile_ensemble_metadata_is_refused_with_a_message(trained, case, edit, match):
    with pytest.raises(CheckpointError, match=match):
        load_model(rewrite_checkpoint(trained[0], metadata=edit))


def test_tensors_outside_the_members_and_non_finite_members_are_refused(trained):
    data = trained[0]
    stray = rewrite_checkpoint(data, tensors=lambda t: {**t, "members.01.decoder.bias": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="belongs to none of the ensemble's 2 members"):
        load_model(stray)
    nan = rewrite_checkpoint(data, tensors=lambda t: {**t, "members.0.decoder.bias": torch.full((2,), float("nan"))})
    with pytest.raises(CheckpointError, match="model 1 of the 2 .*non-finite"):
        load_model(nan)


def test_the_file_size_bound_covers_the_whole_ensemble(trained, monkeypatch):
    monkeypatch.setattr(format_module, "MAX_CHECKPOINT_BYTES", len(trained[0]) - 1)
    with pytest.raises(CheckpointError, match="more than the .* allowed"):
        load_model(trained[0])


def test_a_single_cross_validated_fit_saves_its_metrics_as_a_checkpoint(trained):
    rng = np.random.default_rng(1)
    X, y = _sines((10, 10), 24, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        result = fit(from_arrays("sines", X, y, X, y, seed=0), TrainConfig(**{**TINY, "epochs": 2, "ensemble": 1}))
    assert result.metrics()["val"] is None  # cross-validation leaves no validation split
    loaded = load_model(checkpoint_bytes(result.net, result.metrics()))
    assert not isinstance(loaded, MultiresEnsemble) and loaded.metrics["protocol"]["name"] == "cv"
