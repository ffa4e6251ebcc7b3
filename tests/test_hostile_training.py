"""Training that cannot go on, from the Train page and the CLI: a non-finite value in the data, or a
loss that overflows at the largest learning rate. The page reports the failure in words, adds no
model, leaves the session as it was and can start the next run; the CLI exits 1 and writes nothing.

Counts go to ``artifacts/reliability.json`` (section ``bad_inputs``). The other bad-input families
through the app: ``test_hostile_signal_uploads.py``, ``test_app_untrusted_checkpoints.py``,
``test_hostile_links.py``, ``test_hostile_study_tables.py``, ``test_hostile_dataset_files.py``.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

import multires.training.cli as cli
from conftest import CaseLog, assert_shown, open_session, snapshot
from multires.data.tasks import load_task
from ui import train_data

TRAIN_PAGE = "app_pages/5_Train.py"
TRAINING_DEADLINE_S = 600  # a failing run ends at its first step; this only guards against a hang
CASES = CaseLog()


def _poisoned(kind: str):
    """A digits task that cannot be trained: a NaN pixel, or finite pixels so large the loss overflows."""
    task = load_task("digits", seed=0)
    if kind == "non-finite-data":
        x = task.x_train.clone()
        x[3, 0, 10] = float("nan")
        return dataclasses.replace(task, x_train=x)
    return dataclasses.replace(task, x_train=task.x_train * 1e37)  # with the largest learning rate


TRAINING_CASES = {
    "non-finite-data": r"x_train holds 1 non-finite value\(s\)",
    "diverging-loss-at-max-lr": "training loss became non-finite at step 1.*lower the learning rate",
}


@pytest.mark.parametrize("case", list(TRAINING_CASES))
def test_training_that_cannot_go_on_reports_and_adds_no_model(case, monkeypatch):
    poisoned = _poisoned(case)
    at = open_session(TRAIN_PAGE)
    monkeypatch.setattr(train_data, "cached_task", lambda name: poisoned)
    at.number_input(key="train_width").set_value(4)  # as tests/test_training.py: overflows at step 1
    at.number_input(key="train_layers").set_value(2)
    at.number_input(key="train_epochs").set_value(2)
    lr = at.select_slider(key="train_lr")
    lr.set_value(float(lr.options[-1]) if case.startswith("diverging") else lr.value)  # the largest offered
    at.run()
    before = snapshot(at)
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + TRAINING_DEADLINE_S
    while not at.session_state["training_run"].collected:
        assert time.monotonic() < deadline, "the failing run did not end"
        time.sleep(0.2)
        at.run()
    at.run()
    run = at.session_state["training_run"]
    assert run.result is None and run.error is not None and not run.active
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.error, f"Training “{run.name}” failed: .*{TRAINING_CASES[case]}")
    assert snapshot(at) == before  # no new session model, nothing re-selected
    # A failed run does not block the next one.
    monkeypatch.setattr(train_data, "cached_task", lambda name: load_task("digits", seed=0))
    at.button(key="train_start").click().run()
    assert not any("Already training" in w.value for w in at.warning)
    next_run = at.session_state["training_run"]
    assert next_run is not run
    next_run.request_stop()
    assert next_run.finished.wait(TRAINING_DEADLINE_S)
    CASES.passed_case("training", f"app-{case}")


@pytest.mark.parametrize("case", list(TRAINING_CASES))
def test_cli_training_that_cannot_go_on_exits_1_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    poisoned = _poisoned(case)
    monkeypatch.setattr(cli, "load_task", lambda name, seed=0, **kwargs: poisoned)
    out = tmp_path / "run"
    lr = ["--lr", "1.0"] if case.startswith("diverging") else []  # TRAIN_LIMITS["lr"] upper bound
    code = cli.main(["--task", "digits", "--epochs", "1", "--d-model", "4", "--quiet", *lr, "--out", str(out)])
    assert code == 1
    assert "non-finite" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    CASES.passed_case("training", f"cli-{case}")




@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    CASES.record({"training": 2 * len(TRAINING_CASES)})
