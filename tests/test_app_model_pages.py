"""The model pages (Filters, Train, Compare) under ``streamlit.testing.v1.AppTest``, the background
training runner, and the figure builders of ``multires.figures.training``.

Every app test injects one small, seeded session model (so the tests do not depend on which shipped
models exist) and selects it in the sidebar.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import assert_no_exception, open_app, widget
from multires import ModelConfig, MultiresNet
from multires.figures.compare import (
    lag_r2_figure,
    score_ranges_figure,
    seed_groups,
    summary_row,
)
from multires.figures.style import FILTER_COLORS, TREE_SELECT_COLORS
from multires.figures.training import (
    example_series_figure,
    live_filters_figure,
    selection_history_figure,
    selection_snapshot_figure,
    training_curves_figure,
)
from multires.training import Progress, TrainConfig
from test_figures_filters import _assert_labelled
from ui import training_run, training_runner
from ui.models import ModelEntry
from ui.safe_text import unescape

TRAINING_DEADLINE_S = 600  # the tiny run takes a few seconds; this only guards against a hang
MODEL = "test model · haar · 4×2"
PAGES = ["app_pages/2_Filters.py", "app_pages/5_Train.py", "app_pages/6_Compare.py"]


def _test_model() -> ModelEntry:
    """A 4-channel, 2-layer Haar-initialised net whose channels moved apart by seeded noise."""
    generator = torch.Generator().manual_seed(0)
    net = MultiresNet(ModelConfig(d_model=4, n_layers=2, seq_len=64, wavelet="haar"))
    with torch.no_grad():
        for conv in net.convs:
            conv.h0.add_(0.2 * torch.randn(conv.h0.shape, generator=generator))
            conv.h1.add_(0.2 * torch.randn(conv.h1.shape, generator=generator))
    net.eval()
    metrics = {"task": "digits", "metric_name": "accuracy", "test_metric": 0.5, "test_accuracy": 0.5,
               "train_config": {"freeze_filters": False}, "train_time_s": 1.0}
    return ModelEntry(MODEL, net, metrics, "trained")


def _app(page: str | None = None) -> AppTest:
    return open_app(page, check=False, session_models={MODEL: _test_model()}, model=MODEL)


# --- smoke -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page):
    at = _app(page)
    assert_no_exception(at)
    assert at.title[0].value
    assert widget(at.sidebar.selectbox, "model").value == MODEL
    assert len(at.get("plotly_chart")) >= 1 or page == "app_pages/5_Train.py"


# --- Filters ---------------------------------------------------------------------------------------


def _diagnostics(at: AppTest) -> pd.DataFrame:
    return at.table[0].value


def test_filters_diagnostics_follow_layer_channel_and_wavelet():
    at = _app("app_pages/2_Filters.py")
    first = _diagnostics(at)
    learned_column = first.columns[0]
    assert first.loc["nearest wavelet", learned_column] == "haar"
    assert first.loc["nearest wavelet", "fixed haar"] == "haar"

    widget(at.sidebar.number_input, f"channel_{MODEL}").set_value(3).run()
    assert_no_exception(at)
    by_channel = _diagnostics(at)
    assert by_channel[learned_column].tolist() != first[learned_column].tolist()

    widget(at.sidebar.number_input, f"layer_{MODEL}").set_value(1).run()
    by_layer = _diagnostics(at)
    assert by_layer[learned_column].tolist() != by_channel[learned_column].tolist()

    widget(at.sidebar.selectbox, "wavelet").set_value("db2").run()
    assert_no_exception(at)
    by_wavelet = _diagnostics(at)
    assert "fixed db2" in by_wavelet.columns
    assert by_wavelet.loc["kernel size k", "fixed db2"] == "4"
    assert by_wavelet.loc["nearest wavelet", "fixed db2"] == "db2"
    assert by_wavelet[learned_column].tolist() == by_layer[learned_column].tolist()


def test_filters_raw_toggle_shows_unnormalised_taps():
    at = _app("app_pages/2_Filters.py")
    normalised = _diagnostics(at)
    assert normalised.loc["DC gain error", normalised.columns[0]] == "0"
    at.toggle(key="filters_normalise").set_value(False).run()
    raw = _diagnostics(at)
    assert raw.columns[0] == "learned (raw)"
    assert raw.loc["DC gain error", "learned (raw)"] != "0"


# --- Train and Compare -----------------------------------------------------------------------------


def _wait_for_collected(at: AppTest) -> training_run.TrainingRun:
    deadline = time.monotonic() + TRAINING_DEADLINE_S
    while time.monotonic() < deadline:
        time.sleep(0.25)
        at.run()  # the page polls the run; a finished run joins the session models
        run = at.session_state["training_run"]
        if run.collected:
            at.run()
            return run
    raise AssertionError("the training run did not finish in time")


def _models_table(at: AppTest) -> pd.DataFrame:
    """The Compare page's every-model table (the one with a model name per row)."""
    return next(frame.value for frame in at.dataframe if "name" in frame.value.columns)


def _start_tiny_run(epochs: int, rule: str | None = None) -> AppTest:
    """The Train page after pressing Train on digits with one channel and one layer (and ``rule``)."""
    at = _app("app_pages/5_Train.py")
    at.selectbox(key="train_task").set_value("digits").run()
    if rule is not None:
        at.radio(key="train_strategy").set_value(rule).run()
    at.number_input(key="train_width").set_value(1)
    at.number_input(key="train_layers").set_value(1)
    at.number_input(key="train_epochs").set_value(epochs)
    at.run()
    at.button(key="train_start").click().run()
    return at


@pytest.mark.slow  # a real training run under AppTest: among the slowest tests
def test_train_tiny_model_joins_sidebar_and_compare_table():
    at = _start_tiny_run(epochs=1)
    assert_no_exception(at)
    assert at.session_state["training_run"].active or at.session_state["training_run"].finished.is_set()
    at.button(key="train_start").click().run()  # a second click while it runs starts nothing
    if at.session_state["training_run"].active:
        assert any("Already training" in w.value for w in at.warning)

    run = _wait_for_collected(at)
    assert_no_exception(at)
    assert run.error is None and run.result is not None
    model_box = widget(at.sidebar.selectbox, "model")
    assert f"{run.name}  ·  trained" in model_box.options  # options as the picker formats them
    assert model_box.value == run.name
    assert any(run.name in unescape(s.value) for s in at.success)
    assert at.session_state["session_models"][run.name].extra["history"].step_loss

    at.switch_page("app_pages/6_Compare.py").run()
    assert_no_exception(at)
    table = _models_table(at)
    row = table[table["name"] == run.name].iloc[0]
    assert row["task"] == "digits" and row["TREESELECT rule"] == "fading" and row["source"] == "trained"
    assert 0.0 <= row["test score"] <= 1.0


@pytest.mark.slow  # a real training run under AppTest: among the slowest tests
def test_stop_ends_a_long_learned_run_with_a_usable_model_and_its_selection_history():
    at = _start_tiny_run(epochs=500, rule="learned")
    at.session_state["training_run"].request_stop()  # what the Stop button's on_click does
    run = _wait_for_collected(at)
    assert run.result is not None and run.result.stopped and run.result.stop_reason == "callback"
    assert run.result.steps < run.result.total_steps
    assert run.name in at.session_state["session_models"]
    assert_no_exception(at)
    assert at.selectbox(key="train_result_model").value == run.name
    charts = {chart.proto.id for chart in at.get("plotly_chart")}
    assert len(charts) >= 3  # curves, selection over training, snapshot on the tree


def test_bad_checkpoint_upload_shows_error_and_changes_nothing():
    at = _app("app_pages/5_Train.py")
    before = dict(at.session_state["session_models"])
    at.file_uploader(key="train_upload").set_value(("broken.safetensors", b"not a checkpoint", "application/octet-stream"))
    at.run()
    assert_no_exception(at)
    assert any("broken.safetensors" in unescape(e.value) and "not a usable checkpoint" in e.value for e in at.error)
    assert at.session_state["session_models"] == before
    assert widget(at.sidebar.selectbox, "model").value == MODEL


def test_good_checkpoint_upload_adds_and_selects_the_model():
    from multires.checkpoint import checkpoint_bytes

    entry = _test_model()
    data = checkpoint_bytes(entry.net, entry.metrics)
    at = _app("app_pages/5_Train.py")
    at.file_uploader(key="train_upload").set_value(("round trip.safetensors", data, "application/octet-stream"))
    at.run()
    assert_no_exception(at)
    assert "round trip" in at.session_state["session_models"]
    assert widget(at.sidebar.selectbox, "model").value == "round trip"


def _with_history(history_extra: dict, **metrics) -> ModelEntry:
    """The test model with a recorded 5-epoch, 50-step history (10 steps per epoch) in its metrics."""
    entry = _test_model()
    steps = list(range(1, 51))
    history = {"step": steps, "loss": [1.0 / s for s in steps], "metric": [s / 50 for s in steps],
               "lr": [0.01] * 50, "epoch_train": [0.2, 0.4, 0.6, 0.7, 0.8],
               "epoch_val": [0.1, 0.3, 0.5, 0.6, 0.7], **history_extra}
    entry.metrics.update(history=history, steps=50, total_steps=50, epochs_done=5, **metrics)
    return entry


@pytest.mark.parametrize("history_extra, metrics", [
    ({"epoch_step": [10, 20, 30, 40, 50]}, {"epochs": 2, "total_epochs": 5}),  # min_steps raised 2 epochs to 5
    ({}, {"epochs": 2, "total_epochs": 5}),  # no per-epoch steps recorded: total_epochs
    ({}, {"epochs": 5}),  # a checkpoint from before min_steps: epochs was the whole run
])
def test_result_curves_put_validation_points_at_epoch_ends(history_extra, metrics):
    import json

    at = open_app("app_pages/5_Train.py", check=False,
                  session_models={MODEL: _with_history(history_extra, **metrics)}, model=MODEL)
    assert_no_exception(at)
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Training curves" in c.proto.spec)
    val = next(trace for trace in chart["data"] if trace["name"] == "validation (epoch end)")
    assert list(val["x"]) == [10, 20, 30, 40, 50]  # not 25, 50, ... (50 steps over config.epochs = 2)


# --- the runner without the app ---------------------------------------------------------------------


def _progress(step: int) -> Progress:
    return Progress(step, 10, 0, 1, 1.0, 0.5, "accuracy", 0.1 * step, 0.01, 0.4 if step == 10 else None)


def test_runner_callback_records_curves_and_stops_when_the_session_is_gone(monkeypatch):
    run = training_run.TrainingRun("m", "digits", TrainConfig(max_seconds=10.0), session_id="gone")
    connected = {"value": True}
    monkeypatch.setattr(training_run, "_session_connected", lambda session_id: connected["value"])
    monkeypatch.setattr(training_run, "SESSION_GRACE_SECONDS", 0.0)
    assert run._callback(_progress(1)) is False
    assert run._check_session(0.0) is False  # the watcher's look: connected
    connected["value"] = False
    assert run._check_session(1.0) is False  # first sight of a missing session starts the grace period
    assert run._callback(_progress(2)) is False
    assert run._check_session(1.0) is True  # gone for the (zero) grace period: stopped
    with pytest.raises(training_run._SessionGone):  # the step in progress is the last: train() ends unscored
        run._callback(_progress(10))
    assert run.stop_cause == "session closed"
    curves = run.curves()
    assert curves["steps"] == [1, 2, 10] and curves["val_steps"] == [10] and curves["val_metric"] == [0.4]


def test_runner_stop_button_cause_is_kept():
    run = training_run.TrainingRun("m", "digits", TrainConfig(max_seconds=10.0), session_id=None)
    run.request_stop()
    run.request_stop("session closed")
    assert run.stop_event.is_set() and run.stop_cause == "Stop button"
    assert run._callback(_progress(1)) is True


def test_model_name_describes_the_run():
    config = TrainConfig(tree_select="uniform", memory_size=8, wavelet="db2", freeze_filters=True, d_model=16,
                         max_seconds=5.0)
    assert training_runner.model_name("memory", config) == "memory · uniform M=8 · db2 frozen · 16×2 · seed 0"


# --- figure builders of multires.figures.training ------------------------------------------------------


def test_training_curves_figure_has_loss_train_and_validation_traces():
    steps = list(range(1, 1001))
    fig = training_curves_figure(steps, np.linspace(2, 0.1, 1000), np.linspace(0.1, 0.9, 1000), "accuracy",
                                 [500, 1000], [0.6, 0.85], total_steps=1000, max_points=100)
    _assert_labelled(fig, "optimizer step", "cross entropy")
    assert [t.name for t in fig.data] == ["training loss", "training (running, this epoch)", "validation (epoch end)"]
    assert len(fig.data[0].x) <= 100 and fig.data[0].x[-1] == 1000  # thinned, last point kept
    assert fig.layout.yaxis2.title.text == "accuracy (fraction correct)"
    reserved = {c.upper() for c in (*FILTER_COLORS.values(), *TREE_SELECT_COLORS.values(), "#E69F00")}
    assert not {t.line.color.upper() for t in fig.data} & reserved  # blue/orange mean h0/h1, hues rules
    assert fig.data[2].line.dash == "dash" and fig.data[1].line.dash is None


def test_selection_figures_sum_bands_and_place_slots_on_the_tree():
    bands = ["a2", "b2", "b1", "b1"]
    lags = [0, 0, 0, 2]
    kept = np.array([[1, 1, 1, 1], [1, 0.5, 1, 0.5], [1, 0, 1, 0]])
    fig = selection_history_figure([0, 5, 10], kept, bands, layer=0, memory_size=2)
    _assert_labelled(fig, "training step", "tree band")
    assert len(fig.data) == 1 and list(fig.data[0].y) == ["a2", "b2", "b1"] and "M = 2" in fig.layout.title.text
    np.testing.assert_allclose(np.asarray(fig.data[0].z)[:, -1], [1, 0, 1])  # slots per channel at the end
    np.testing.assert_allclose(np.asarray(fig.data[0].z)[2], [2, 1.5, 1])  # b1 over training
    scale = [color for _, color in fig.data[0].colorscale]  # neutral greys: green is resolution fading
    assert all(c[1:3] == c[3:5] == c[5:7] for c in scale), scale
    snap = selection_snapshot_figure(kept[-1], bands, lags, layer=0, step=10, channel=1,
                                     channel_mask=np.array([True, False, True, False]))
    _assert_labelled(snap, "lag", "tree band")
    assert len(snap.data) == 2
    assert list(snap.data[1].x) == [0, 0] and list(snap.data[1].y) == ["a2", "b1"]


def _rows() -> pd.DataFrame:
    rows = []
    for i, (rule, wavelet, frozen) in enumerate([("fading", "haar", False), ("fading", "haar", True),
                                                     ("uniform", None, False), ("learned", "haar", False)]):
        config = ModelConfig(tree_select=rule, memory_size=None if rule == "fading" else 7,
                             wavelet=wavelet, kernel_size=2)
        metrics = {"task": "memory", "test_r2_mean": 0.1 * (i + 1), "train_config": {"freeze_filters": frozen},
                   "lags": [1, 2, 4], "test_r2_per_lag": [0.9, 0.5, None]}
        rows.append(summary_row(f"m{i}", "trained", config, metrics, 100 + i, 7, [7, 7 + 10 * i]))
    return pd.DataFrame(rows)


def test_summary_row_reads_checkpoint_metrics():
    table = _rows()
    assert table["init"].tolist() == ["haar, learned", "haar, frozen", "random k=2, learned", "haar, learned"]
    assert table["score"].unique().tolist() == ["mean R²"]
    assert table["test score"].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert table["distinct coefficients / layer"].tolist() == [7, 17, 27, 37]  # the largest layer's count
    blank = summary_row("uploaded", "uploaded", ModelConfig(), {}, 10, 7)
    assert blank["task"] == "?" and np.isnan(blank["test score"]) and blank["distinct coefficients / layer"] == 7


def _seeded(scores_by_seed: dict[int, float], epochs: int = 3, name: str = "gp · fading · haar · 8×1") -> list[dict]:
    config = ModelConfig(d_model=8, n_layers=1)
    return [summary_row(f"{name} · seed {seed}", "trained", config,
                        {"task": "ucr:GunPoint", "test_accuracy": score,
                         "train_config": {"seed": seed, "epochs": epochs}}, 500, 9, [9])
            for seed, score in scores_by_seed.items()]


def test_seed_groups_merge_rows_that_differ_only_by_seed():
    table = pd.DataFrame(_seeded({0: 0.8, 1: 0.9, 2: 0.7}) + _seeded({0: 0.6}, epochs=9))
    groups = seed_groups(table)
    assert groups["seeds"].tolist() == [3, 1]
    assert groups["mean"].tolist() == pytest.approx([0.8, 0.6])
    assert groups["low"].tolist() == pytest.approx([0.7, 0.6]) and groups["high"].tolist() == pytest.approx([0.9, 0.6])
    # Same readable name, different epochs: the labels say what differs instead of repeating the name.
    assert groups["configuration"].tolist() == ["gp · fading · haar · 8×1 (epochs=3)", "gp · fading · haar · 8×1 (epochs=9)"]


def test_score_ranges_figure_starts_at_zero_unless_an_explicit_labelled_zoom():
    groups = seed_groups(pd.DataFrame(_seeded({0: 0.94, 1: 0.96})))
    honest = score_ranges_figure(groups, "title", "test accuracy")
    low, high = honest.layout.xaxis.range
    assert low == 0.0 and high >= 1.0 and "zoomed" not in honest.layout.xaxis.title.text
    marker = honest.data[0]
    assert marker.x[0] == pytest.approx(0.95)
    assert marker.error_x.array[0] == pytest.approx(0.01) and marker.error_x.arrayminus[0] == pytest.approx(0.01)
    assert list(honest.data[1].x) == pytest.approx([0.94, 0.96])  # one tick per seed
    zoomed = score_ranges_figure(groups, "title", "test accuracy", zoom=True)
    low, high = zoomed.layout.xaxis.range
    assert 0.5 < low < 0.94 and 0.96 < high < 1.0
    assert f"axis starts at {low:.2f}" in zoomed.layout.xaxis.title.text


def test_score_ranges_figure_colours_rules_and_draws_baselines():
    groups = seed_groups(_rows())
    fig = score_ranges_figure(groups, "title", "test mean R²", {"MiniRocket": 0.99, "1-NN DTW": 0.91})
    colours = {t.name.split(" · ")[0]: t.marker.color for t in fig.data if t.mode == "markers" and t.name != "one seed"}
    assert colours == {"resolution fading": TREE_SELECT_COLORS["fading"], "uniform": TREE_SELECT_COLORS["uniform"],
                       "learned": TREE_SELECT_COLORS["learned"]}
    lines = {shape.name: shape.x0 for shape in fig.layout.shapes}
    assert lines == {"baseline: MiniRocket": 0.99, "baseline: 1-NN DTW": 0.91}
    assert [t.name for t in fig.data if t.mode == "lines"] == ["MiniRocket 0.990 (baseline)", "1-NN DTW 0.910 (baseline)"]


def test_live_filters_figure_draws_every_channel_and_the_start():
    h0 = np.array([[0.7, 0.7], [0.5, 0.9], [0.6, 0.8]])
    h1 = h0[:, ::-1] * np.array([-1, 1])
    fig = live_filters_figure(h0, h1, layer=1, step=40, channel=2, initial=(h0 * 0, h1 * 0), y_limit=1.2)
    assert [t.name for t in fig.data] == ["h0, every channel", "channel 2 at the start", "h0, channel 2",
                                          "h1, every channel", "channel 2 at the start", "h1, channel 2"]
    assert list(fig.data[2].y) == [0.6, 0.8] and list(fig.data[5].y) == pytest.approx([-0.8, 0.6])
    assert np.count_nonzero(np.isnan(np.asarray(fig.data[0].y, dtype=float))) == 3  # one gap after each channel
    assert fig.data[0].line.color == "#0072B2" and fig.data[3].line.color == "#D55E00"
    assert "step 40" in fig.layout.title.text and tuple(fig.layout.yaxis.range) == (-1.2, 1.2)


def test_example_series_figure_one_panel_per_class_shown():
    x = np.arange(7 * 10, dtype=float).reshape(7, 10)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    fig = example_series_figure(x, y, ["a", "b", "c"], per_class=2, max_classes=2, y_title="value (z)")
    assert [a.text for a in fig.layout.annotations] == ["class a", "class b"]
    assert len(fig.data) == 4 and list(fig.data[1].y) == list(x[3])  # the first two series of class a
    assert "first 2 of 3 classes" in fig.layout.title.text


def test_lag_r2_figure_one_line_per_model_coloured_by_rule():
    table = _rows()
    fig = lag_r2_figure(table.to_dict("records"))
    _assert_labelled(fig, "lag", "R²")
    assert len(fig.data) == 4
    assert [t.line.color for t in fig.data] == [TREE_SELECT_COLORS[s] for s in table["TREESELECT rule"]]
    assert fig.layout.xaxis.type == "log"
    assert np.isnan(fig.data[0].y[-1])  # a missing R² is a gap, not a zero


def test_compact_score_ranges_figure_is_shorter_with_the_legend_at_the_side():
    groups = seed_groups(_rows())
    normal = score_ranges_figure(groups, "title", "test accuracy", {"MiniRocket": 0.99})
    compact = score_ranges_figure(groups, "title", "test accuracy", {"MiniRocket": 0.99}, compact=True)
    assert compact.layout.height < normal.layout.height
    assert compact.layout.legend.orientation == "v" and compact.layout.legend.x > 1.0
    assert [t.name for t in compact.data] == [t.name for t in normal.data]  # same content, other layout
