"""The Train page on real data: a bundled UCR dataset end to end, uploaded datasets (bad and good),
several seeds grouped on Compare, and the live filters the runner copies while a model trains.

Every app test injects one small session model first, so "nothing the user had is lost" is checked
against something real.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import multires.model as model_module
import multires.training.loop as training_module
from conftest import ROOT, assert_no_exception, open_app
from multires import ModelConfig, MultiresNet
from multires.data.tasks import load_task
from multires.study.results import baseline_levels, read_baselines
from multires.training import Progress, TrainConfig
from ui import train_data, training_run
from ui.models import ModelEntry
from ui.safe_text import unescape

TRAIN, COMPARE = "app_pages/5_Train.py", "app_pages/6_Compare.py"
BASELINES_CSV = ROOT / "assets" / "studies" / "baselines.csv"
RUN_DEADLINE_S = 600  # guards against a hang only; tiny runs take seconds on an idle machine
KEPT = "kept model · haar · 2×1"


def _kept_model() -> ModelEntry:
    net = MultiresNet(ModelConfig(d_model=2, n_layers=1, seq_len=64, wavelet="haar")).eval()
    return ModelEntry(KEPT, net, {"task": "digits", "metric_name": "accuracy", "test_accuracy": 0.5}, "trained")


def _train_page() -> AppTest:
    return open_app(TRAIN, check=False, session_models={KEPT: _kept_model()}, model=KEPT)


def _tiny(at: AppTest, seconds: int = 5) -> None:
    at.number_input(key="train_width").set_value(2)
    at.number_input(key="train_layers").set_value(1)
    at.number_input(key="train_epochs").set_value(1)
    at.slider(key="train_budget").set_value(seconds)
    at.run()


def _train_to_end(at: AppTest) -> training_run.TrainingRun:
    at.button(key="train_start").click().run()
    assert_no_exception(at)
    deadline = time.monotonic() + RUN_DEADLINE_S
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        run = at.session_state["training_run"]
        if run.collected:
            at.run()
            return run
    raise AssertionError("the training run did not finish in time")


def _ucr_lines(rows: np.ndarray, labels: np.ndarray) -> bytes:
    return "".join(f"{label}\t" + "\t".join(f"{v:.6f}" for v in row) + "\n" for row, label in zip(rows, labels)).encode()


def _gunpoint_files() -> tuple[bytes, bytes]:
    """GunPoint's official splits written back out as UCR .tsv files (labels 1 and 2)."""
    task = load_task("ucr:GunPoint")
    x_train = torch.cat([task.x_train, task.x_val])[:, 0].numpy()
    y_train = torch.cat([task.y_train, task.y_val]).numpy() + 1
    return _ucr_lines(x_train, y_train), _ucr_lines(task.x_test[:, 0].numpy(), task.y_test.numpy() + 1)


# --- a bundled UCR dataset, end to end -------------------------------------------------------------


def test_gunpoint_is_offered_first_and_described():
    at = _train_page()
    assert_no_exception(at)
    picker = at.selectbox(key="train_task")
    assert picker.value == "ucr:GunPoint" and picker.options[0] == "GunPoint (UCR)"
    assert {"sequential MNIST (784 pixels)", "permuted sequential MNIST", "your own dataset (upload two files)…"} <= set(
        picker.options)
    assert any("length **150**" in c.value and "2 classes" in c.value for c in at.caption)
    assert any("class 1" in str(chart.proto.spec) for chart in at.get("plotly_chart"))  # example series panels


def test_gunpoint_trains_and_appears_on_compare_with_measured_baselines_only():
    at = _train_page()
    _tiny(at)
    run = _train_to_end(at)
    assert_no_exception(at)
    assert run.error is None and run.result is not None
    assert run.result.task_name == "ucr:GunPoint" and run.name.startswith("ucr:GunPoint · fading · haar · 2×1 · seed 0")
    assert any(run.name in unescape(s.value) and "test accuracy" in s.value for s in at.success)
    assert KEPT in at.session_state["session_models"]

    at.switch_page(COMPARE).run()
    assert_no_exception(at)
    assert at.radio(key="compare_task").value == "ucr:GunPoint"  # opens on the task just trained
    chart = next(c for c in at.get("plotly_chart") if "test score per configuration" in c.proto.spec)
    names = [shape.get("name") for shape in json.loads(chart.proto.spec)["layout"].get("shapes", [])]
    expected = baseline_levels(read_baselines(BASELINES_CSV), "ucr:GunPoint") if BASELINES_CSV.is_file() else {}
    assert sorted(n for n in names if n and n.startswith("baseline: ")) == sorted(f"baseline: {m}" for m in expected)
    if not expected:
        assert any("No baseline lines" in c.value for c in at.caption)


def test_sequential_mnist_trains_within_the_time_bound():
    at = _train_page()
    at.selectbox(key="train_task").set_value("smnist").run()
    assert_no_exception(at)
    assert at.number_input(key="train_width").value == 16  # the dataset's recipe, not the last task's
    assert any("length **784**" in c.value and "10 classes" in c.value for c in at.caption)
    _tiny(at, seconds=5)
    run = _train_to_end(at)
    assert run.error is None and run.result.task_name == "smnist"
    assert run.config.max_seconds == 5.0 and run.result.stop_reason in (None, "max_seconds")  # bounded, not stopped
    assert any("test accuracy" in s.value for s in at.success)


# --- uploads ---------------------------------------------------------------------------------------

_GOOD_TEST = b"1\t0.1\t0.2\t0.3\t0.4\n2\t0.4\t0.3\t0.2\t0.1\n"
_TOY_TRAIN = b"".join(b"%d\t%f\t%f\t%f\t%f\n" % (c, c * 0.1 + i, -c, c * i, 0.5) for i in range(6) for c in (1, 2))
BAD_UPLOADS = {
    "ragged": (b"1\t1\t2\t3\t4\n2\t1\t2\n" + _TOY_TRAIN, "rows have different lengths"),
    "non-numeric": (b"1\t1\tabc\t3\t4\n" + _TOY_TRAIN, "'abc' is not a number"),
    "single-class": (b"".join(b"1\t%d\t2\t3\t4\n" % i for i in range(8)), "single class"),
    "too long": (b"1\t" + b"\t".join(b"0.5" for _ in range(20000)) + b"\n", "at most 16384 per series"),
    "too large": ((b"1\t" + b"\t".join(b"0.123456" for _ in range(1000)) + b"\n") * 800, "largest accepted upload"),
}


def _upload(at: AppTest, train: tuple[str, bytes], test: tuple[str, bytes]) -> None:
    at.selectbox(key="train_task").set_value("your own dataset").run()
    at.file_uploader(key="train_data_train").set_value((train[0], train[1], "text/tab-separated-values"))
    at.file_uploader(key="train_data_test").set_value((test[0], test[1], "text/tab-separated-values"))
    at.run()


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_shows_its_message_and_keeps_the_session(case):
    data, message = BAD_UPLOADS[case]
    at = _train_page()
    at.radio(key="train_strategy").set_value("uniform").run()  # a choice the user made before uploading
    _upload(at, (f"{case}_TRAIN.tsv", data), ("x_TEST.tsv", _GOOD_TEST))
    assert_no_exception(at)
    assert any(message in unescape(e.value) for e in at.error), [e.value for e in at.error]
    assert at.button(key="train_start").disabled
    assert list(at.session_state["session_models"]) == [KEPT]
    assert at.radio(key="train_strategy").value == "uniform"
    assert at.sidebar.selectbox(key="model").value == KEPT


def test_good_upload_pair_trains_a_model_named_after_the_files():
    train_bytes, test_bytes = _gunpoint_files()
    at = _train_page()
    _upload(at, ("MyGun_TRAIN.tsv", train_bytes), ("MyGun_TEST.tsv", test_bytes))
    assert_no_exception(at)
    assert not at.error
    assert any("length **150**" in c.value for c in at.caption)
    _tiny(at)
    run = _train_to_end(at)
    assert run.error is None and run.result.task_name == "MyGun"
    assert run.name in at.session_state["session_models"] and KEPT in at.session_state["session_models"]
    entry = at.session_state["session_models"][run.name]
    assert entry.metrics["task"] == "MyGun" and 0.0 <= entry.metrics["test_accuracy"] <= 1.0


# --- several seeds ---------------------------------------------------------------------------------


@pytest.mark.slow  # two real training runs: among the slowest tests
def test_two_seeds_become_two_models_and_one_configuration_on_compare():
    at = _train_page()
    at.selectbox(key="train_task").set_value("digits").run()
    _tiny(at, seconds=5)
    at.number_input(key="train_seeds").set_value(2).run()
    run = _train_to_end(at)
    assert run.error is None and [r.config.seed for r in run.results] == [0, 1]
    assert [n.rsplit("· ", 1)[-1] for n in run.names] == ["seed 0", "seed 1"]
    at.switch_page(COMPARE).run()
    assert_no_exception(at)
    groups = next(f.value for f in at.dataframe if "seeds" in f.value.columns)
    row = groups[groups["configuration"] == run.names[0].rsplit(" · seed", 1)[0]].iloc[0]
    scores = sorted(r.test_metric for r in run.results)
    assert row["seeds"] == 2 and row["low"] == pytest.approx(scores[0]) and row["high"] == pytest.approx(scores[1])


# --- the live filters, at the callback level ---------------------------------------------------------


def _progress(step: int, net: MultiresNet | None = None) -> Progress:
    return Progress(step, 100, 0, 1, 1.0, 0.5, "accuracy", 0.01 * step, 0.01, net=net)


def test_live_filters_follow_the_model_as_the_callback_sees_it(monkeypatch):
    monkeypatch.setattr(training_run, "LIVE_SECONDS", 0.0)  # copy at every step
    net = MultiresNet(ModelConfig(d_model=3, n_layers=2, seq_len=64, wavelet="haar", tree_select="learned",
                                  memory_size=3))
    run = training_run.TrainingRun("m", "digits", TrainConfig(max_seconds=10.0), session_id=None)
    run._start_model(net)
    start = run.curves()["initial"]
    assert start.step == 0 and start.h0.shape == (2, 3, 2) and start.learned_layers == (0, 1)
    np.testing.assert_allclose(start.h0[0, 0], [2 ** -0.5, 2 ** -0.5], rtol=1e-6)

    with torch.no_grad():
        net.convs[1].h1[2] += 0.25  # what an optimizer step does
        net.convs[0].slot_mask[1, 0] = False
    run._callback(_progress(1, net))  # the runner sees the model through progress.net only
    live = run.curves()["live"]
    assert live.step == 1
    np.testing.assert_allclose(live.h1[1, 2] - start.h1[1, 2], [0.25, 0.25], rtol=1e-6)
    np.testing.assert_array_equal(live.h0, start.h0)
    assert not live.masks[0][1, 0] and start.masks[0][1, 0]
    assert len(live.bands[0]) == live.masks[0].shape[1] == len(live.lags[0])
    assert run.curves()["initial"] is start  # the start stays for the dashed "at the start" line


@pytest.mark.slow  # a real training run: among the slowest tests
def test_live_filters_change_during_a_real_run(monkeypatch):
    monkeypatch.setattr(training_run, "LIVE_SECONDS", 0.0)
    seen: list[tuple[int, np.ndarray]] = []
    original = training_run.TrainingRun._callback

    def spy(self, progress):
        stop = original(self, progress)
        seen.append((self.live.step, self.live.h0.copy()))
        return stop

    monkeypatch.setattr(training_run.TrainingRun, "_callback", spy)
    built: list[dict[str, torch.Tensor]] = []  # every model build_model made, as built
    original_build = model_module.build_model

    def build_spy(*args, **kwargs):
        net = original_build(*args, **kwargs)
        built.append({k: v.clone() for k, v in net.state_dict().items()})
        return net

    monkeypatch.setattr(model_module, "build_model", build_spy)  # the runner's build, looked up when it runs
    monkeypatch.setattr(training_module, "build_model", build_spy)  # train's build
    task = load_task("ucr:GunPoint")
    config = TrainConfig(d_model=2, n_layers=1, epochs=1, min_steps=20, lr=0.05, max_seconds=60.0)
    run = training_run.TrainingRun("gp", "ucr:GunPoint", config, session_id=None, task=task)
    run._work()
    assert run.error is None and run.result is not None
    assert [step for step, _ in seen] == list(range(1, len(seen) + 1))  # a fresh copy after every step
    assert not np.allclose(seen[-1][1], run.initial.h0)  # the filters moved while it trained
    # the start the page draws is the model train() started from: the runner's build, then train's
    assert len(built) == 2 and built[0].keys() == built[1].keys()
    assert all(torch.equal(built[0][k], built[1][k]) for k in built[0])
    np.testing.assert_array_equal(run.initial.h0, np.stack([built[1][f"layers.{i}.conv.h0"].numpy() for i in range(1)]))


def test_a_run_leaves_the_shared_cached_task_unchanged():
    """The cached task is shared by every session: training and the page's examples only read it."""

    task = train_data.cached_task("ucr:GunPoint")
    assert train_data.cached_task("ucr:GunPoint") is task  # loaded once per server
    before = {name: getattr(task, name).clone() for name in ("x_train", "y_train", "x_val", "x_test", "y_test")}
    x, y, _ = train_data.examples(task)
    x[:] = 0.0  # a caller scribbling on the examples must not reach the cache
    run = training_run.TrainingRun("gp", "ucr:GunPoint", TrainConfig(d_model=2, n_layers=1, epochs=1, min_steps=5,
                                                                         max_seconds=30.0), session_id=None)
    run._work()
    assert run.error is None
    for name, tensor in before.items():
        assert torch.equal(getattr(task, name), tensor), name
