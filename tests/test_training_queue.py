"""The server's training line (``ui.run_queue``) and how runs wait in it, start, cancel and stop.

Runs here are real :class:`ui.training_run.TrainingRun` objects on their real worker and watcher
threads; only :func:`multires.training.train` is replaced by :class:`GatedTrainer`, whose every
optimizer step waits for the test to allow it. So "training", "waiting" and "one step in progress"
are states the test sets up, and every assertion is about state; waits are conditions with a
generous ceiling that only catches a hang (never a duration).
"""

from __future__ import annotations

import functools
import threading
from types import SimpleNamespace

import pytest
import torch

import conftest
from multires.data.tasks import TaskData
from multires.training import Progress, TrainConfig
from ui import training_run
from ui.run_queue import Place, RunQueue, waiting_message

CEILING_S = 60.0  # only catches a hang
wait_until = functools.partial(conftest.wait_until, ceiling_s=CEILING_S, poll_s=0.01)  # gated steps: poll fast


def tiny_task() -> TaskData:
    generator = torch.Generator().manual_seed(0)
    x = [torch.randn(n, 1, 16, generator=generator) for n in (8, 4, 4)]
    y = [torch.randint(0, 2, (n,), generator=generator) for n in (8, 4, 4)]
    return TaskData("tiny", x[0], y[0], x[1], y[1], x[2], y[2], 2, "classify", (), ("a", "b"), "tiny")


class GatedTrainer:
    """Stands in for ``multires.training.train``: each step of a run waits until :meth:`allow` lets it."""

    def __init__(self) -> None:
        self.gates: dict[str, threading.Semaphore] = {}
        self.steps: dict[str, int] = {}
        self.lock = threading.Lock()

    def gate(self, name: str) -> threading.Semaphore:
        with self.lock:
            return self.gates.setdefault(name, threading.Semaphore(0))

    def allow(self, name: str, steps: int = 1) -> None:
        for _ in range(steps):
            self.gate(name).release()

    def __call__(self, task, config, callback):
        run = callback.__self__  # the TrainingRun whose _callback this is
        step = 0
        while True:
            assert self.gate(run.name).acquire(timeout=CEILING_S), "a step was never allowed"
            step += 1
            self.steps[run.name] = step
            if callback(Progress(step, 1000, 0, 1, 1.0, 0.5, "accuracy", 0.1 * step, 0.01)):
                return SimpleNamespace(steps=step, total_steps=1000, stopped=True, stop_reason="callback",
                                       config=config)


@pytest.fixture
def trainer(monkeypatch):
    fake = GatedTrainer()
    monkeypatch.setattr("multires.training.train", fake)
    monkeypatch.setattr(training_run, "_queue", RunQueue(training_run.MAX_CONCURRENT_RUNS))
    monkeypatch.setattr(training_run, "WATCH_SECONDS", 0.02)
    return fake


def new_run(name: str, session_id: str | None = None) -> training_run.TrainingRun:
    return training_run.TrainingRun(name, "tiny", TrainConfig(max_seconds=10.0), session_id, task=tiny_task())


def stop_and_end(trainer: GatedTrainer, run: training_run.TrainingRun) -> None:
    run.request_stop()
    trainer.allow(run.name)  # the step in progress ends, its callback sees the stop
    assert run.finished.wait(CEILING_S), f"{run.name} did not end"


# --- the line itself ---------------------------------------------------------------------------------


def test_queue_is_first_come_first_served_within_capacity():
    line = RunQueue(capacity=2)
    a, b, c, d = (line.join() for _ in range(4))
    assert [line.try_start(t) for t in (d, c, b, a)] == [False, False, False, True]  # only the first in line
    assert line.try_start(b)  # then the next
    assert line.running == 2 and line.place(c) == Place(1, 2) and line.place(d) == Place(2, 3)
    assert not line.try_start(c)  # full
    line.leave(a)
    assert not line.try_start(d) and line.try_start(c)  # c was first in line
    assert line.place(c) is None and line.place(d) == Place(1, 2)


def test_a_cancelled_wait_leaves_the_line_and_the_next_moves_up():
    line = RunQueue(capacity=1)
    running, first, second = line.join(), line.join(), line.join()
    assert line.try_start(running)
    cancel = threading.Event()
    cancel.set()
    assert line.wait_turn(first, cancel) is False
    assert line.place(first) is None and line.place(second) == Place(1, 1)
    with pytest.raises(ValueError):
        RunQueue(capacity=0)


def test_waiting_message_text():
    assert waiting_message(Place(1, 2)) == "Waiting: place 1 in line (2 runs ahead)"
    assert waiting_message(Place(3, 1)) == "Waiting: place 3 in line (1 run ahead)"


# --- three (and four) sessions at MAX_CONCURRENT_RUNS = 2 -----------------------------------------------


def test_third_session_waits_with_its_place_then_starts_by_itself(trainer):
    assert training_run.MAX_CONCURRENT_RUNS == 2
    a, b, c, d = (new_run(name, session_id=None) for name in ("a", "b", "c", "d"))
    for run in (a, b, c, d):
        training_run.launch(run)
    wait_until(lambda: not a.waiting and not b.waiting, "the first two runs train")
    trainer.allow("a")
    trainer.allow("b")
    wait_until(lambda: trainer.steps.get("a") == 1 and trainer.steps.get("b") == 1, "both took a step")
    assert c.waiting and d.waiting and "c" not in trainer.steps
    assert c.waiting_text() == "Waiting: place 1 in line (2 runs ahead)"
    assert d.waiting_text() == "Waiting: place 2 in line (3 runs ahead)"
    assert a.waiting_text() is None

    stop_and_end(trainer, a)  # a slot frees: c (first in line) starts by itself, d moves up
    wait_until(lambda: not c.waiting, "the first waiting run starts")
    assert d.waiting and d.waiting_text() == "Waiting: place 1 in line (2 runs ahead)"
    trainer.allow("c")
    wait_until(lambda: trainer.steps.get("c") == 1, "the started run trains")

    d.request_stop()  # Cancel while waiting: d leaves the line without training
    assert d.finished.wait(CEILING_S)
    assert d.results == [] and "d" not in trainer.steps and d._outcome().startswith("not started")
    assert training_run._queue.waiting == 0
    for run in (b, c):
        stop_and_end(trainer, run)
    assert training_run._queue.running == 0
    assert [a.result.steps, b.result.steps, c.result.steps] == [2, 2, 2]


def test_a_closed_session_stops_its_run_during_the_step_in_progress(trainer, monkeypatch):
    connected = {"value": True}
    monkeypatch.setattr(training_run, "_session_connected", lambda session_id: connected["value"])
    monkeypatch.setattr(training_run, "SESSION_GRACE_SECONDS", 0.1)
    run = new_run("closing", session_id="tab")
    training_run.launch(run)
    trainer.allow("closing")
    wait_until(lambda: trainer.steps.get("closing") == 1, "the first step")
    # Step 2 is now in progress (blocked) when the tab closes: the watcher, not the step, notices.
    connected["value"] = False
    wait_until(run.stop_event.is_set, "the watcher stops the run while a step is in progress")
    assert run.stop_cause == "session closed" and run.active
    trainer.allow("closing")  # the step in progress ends; no other starts
    assert run.finished.wait(CEILING_S)
    # Issue 23: nobody will see the scores, so the run ends without computing them (about 10 s held a slot).
    assert run.unscored and run.results == [] and run.error is None and trainer.steps["closing"] == 2
    assert run._outcome() == "stopped at step 2, not scored: its session closed"


def test_a_closed_session_leaves_the_line_without_training(trainer, monkeypatch):
    gone = {"waiting-tab"}
    monkeypatch.setattr(training_run, "_session_connected", lambda session_id: session_id not in gone)
    monkeypatch.setattr(training_run, "SESSION_GRACE_SECONDS", 0.1)
    busy = [new_run(name) for name in ("x", "y")]
    for run in busy:
        training_run.launch(run)
    wait_until(lambda: not any(r.waiting for r in busy), "two runs train")
    waiting = new_run("w", session_id="waiting-tab")
    training_run.launch(waiting)
    assert waiting.finished.wait(CEILING_S)
    assert waiting.stop_cause == "session closed" and waiting.results == [] and "w" not in trainer.steps
    for run in busy:
        stop_and_end(trainer, run)


def test_the_session_watcher_keeps_a_reconnected_session_running(monkeypatch):
    seen = iter([False, True, False, False, False])
    monkeypatch.setattr(training_run, "_session_connected", lambda session_id: next(seen))
    monkeypatch.setattr(training_run, "SESSION_GRACE_SECONDS", 5.0)
    run = new_run("r", session_id="tab")
    assert run._check_session(0.0) is False  # gone: the grace period starts
    assert run._check_session(1.0) is False  # back (a reload): the grace period is forgotten
    assert run._check_session(2.0) is False  # gone again, from now
    assert run._check_session(6.9) is False and not run.stop_event.is_set()
    assert run._check_session(7.0) is True and run.stop_cause == "session closed"


# --- the Train page shows the line ------------------------------------------------------------------------


def test_train_page_shows_the_place_in_line_and_cancel_leaves_it(monkeypatch):
    line = RunQueue(training_run.MAX_CONCURRENT_RUNS)
    monkeypatch.setattr(training_run, "_queue", line)
    others = [line.join() for _ in range(training_run.MAX_CONCURRENT_RUNS)]
    assert all(line.try_start(t) for t in others)  # two other sessions are training
    try:
        at = conftest.open_app("app_pages/5_Train.py", check=False)
        at.selectbox(key="train_task").set_value("digits").run()
        at.button(key="train_start").click().run()
        assert not at.exception, [e.message for e in at.exception]
        run = at.session_state["training_run"]
        assert run.waiting and run.active
        at.run()
        assert any("Waiting: place 1 in line (2 runs ahead)" in info.value for info in at.info)
        assert any(m.value.startswith("**Waiting to train**") for m in at.markdown)
        assert at.button(key="train_stop").label == "Cancel"
        at.button(key="train_stop").click().run()
        assert run.finished.wait(CEILING_S)
        at.run()
        assert not at.exception and run.results == [] and line.waiting == 0
    finally:
        for ticket in others:
            line.leave(ticket)
