"""Load and faults on a real server, driven by real browsers (headless Chromium via Playwright).

One app server (``streamlit run app.py`` on loopback, ``WME_TORCH_THREADS=1``) serves the whole
module; a separate process polls its ``/_stcore/health`` every 0.2 s from the first test to the last,
and every scenario asserts that each probe was answered (none failed). The scenarios:

* four sessions at once, two training a small model on the Train page while two browse every page:
  both trained models appear, no error element anywhere, shipped models byte-for-byte unchanged;
* a session closed mid-training: its run stops (the server log says why), the server's CPU goes
  idle and its thread count returns to where it was; then twenty train-and-close sessions in a row
  (two at a time): every run stops, threads come back, resident memory stays bounded;
* five fast clicks on Train start one run, not several, and leave a consistent session;
* PyTorch's CPU threads are set once per server process, and a run cannot outlive its time bound
  (these two run in-process under ``AppTest``).

Nothing here asserts how long anything took: a busy CI machine makes a run slow, not wrong. Every
wait is a condition whose ceiling (``live_app.HANG_S``, 10 minutes) only catches a hang. The
latencies (health median/p95/max, time to stop after Stop or a closed tab, memory growth) are
measured by ``benchmarks/bench_reliability.py``. What held goes to ``artifacts/reliability.json``
(section ``load``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import ROOT, record_reliability, start_app_server, stop_app_server
from live_app import (
    BROWSE_PAGES,
    HANG_S,
    PAGE_TIMEOUT_MS,
    TRAINED,
    TRAINING_PROGRESS,
    HealthMonitor,
    Served,
    browse_pages,
    errors_on,
    in_browser,
    number_label,
    open_session,
    set_number,
    sidebar_models,
    start_training,
    wait_idle,
    wait_until,
)
from multires.training import TrainConfig
from ui import runtime, training_runner

pytestmark = [pytest.mark.slow, pytest.mark.browser]

APP = str(ROOT / "app.py")
MODELS_DIR = ROOT / "assets" / "models"
CLOSE_SESSIONS = 20
CLOSE_LANES = 2  # sessions open at a time in the train-and-close series (the server trains 2 runs at once)
RSS_GROWTH_BOUND = 400 * 2**20  # generous: twenty closed sessions must not keep their models
REPORT: dict = {}

#: How the server log ends a run whose session closed while it trained (ui.training_runner).
UNSCORED = r"stopped at step \d+, not scored: its session closed"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    directory = tmp_path_factory.mktemp("load-server")
    server = start_app_server(directory)
    health = HealthMonitor(server.url, directory / "health.log")
    health.start()
    try:
        yield Served(server, health)
    finally:
        health.stop()
        stop_app_server(server)
        REPORT["faults_tried"] = {"sessions_at_once": 4, "trainings_at_once": 2,
                                  "sessions_closed_mid_training": 1 + CLOSE_SESSIONS, "fast_clicks_on_train": 5,
                                  "runs_at_their_time_bound": 1, "thread_pool_settings": 2}
        record_reliability("load", REPORT)


def assert_healthy(served: Served, t0: float, what: str) -> dict:
    """Every health probe since ``t0`` was answered (how fast is the benchmark's business)."""
    failed, probes = served.health.failures(t0)
    assert probes >= 3, f"too few health probes during {what}"
    assert failed == 0, f"{failed} of {probes} health probes failed during {what}"
    return {"probes": probes, "failed": failed}


def wait_for_threads(served: Served, at_most: int) -> int:
    """The run's thread (and its session's) are gone: the count comes back to ``at_most``."""
    wait_until(lambda: served.threads() <= at_most,
               lambda: f"the thread count to return to {at_most} (threads now: {served.thread_names()})")
    return served.threads()


def shipped_digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(MODELS_DIR.iterdir()) if p.is_file()}


# --- 1. four sessions at once ---------------------------------------------------------------------------


async def _trainer(browser, url: str, seed: int) -> dict:
    context, page = await open_session(browser, f"{url}/train")
    try:
        name = await start_training(page, width=1, layers=1, epochs=2, seed=seed)
        await page.get_by_text(TRAINED).wait_for()
        await wait_idle(page)
        return {"name": name, "errors": await errors_on(page), "models": await sidebar_models(page),
                "charts": await page.locator(".js-plotly-plot").count()}
    finally:
        await context.close()


async def _browser(browser, url: str, rounds: int) -> dict:
    """Click through every page with the sidebar navigation, as a user does (one page load in all)."""
    context, page = await open_session(browser, url)
    try:
        return await browse_pages(page, rounds)
    finally:
        await context.close()


async def _four_sessions(browser, url: str) -> list[dict]:
    return await asyncio.gather(_trainer(browser, url, seed=1), _trainer(browser, url, seed=2),
                                _browser(browser, url, rounds=2), _browser(browser, url, rounds=2))


def test_four_sessions_two_training_two_browsing(served):
    digests = shipped_digests()
    ended_before = len(served.ended_runs())
    t0 = time.time()
    train_a, train_b, browse_a, browse_b = in_browser(_four_sessions, served.url)

    for trained in (train_a, train_b):
        assert trained["errors"] == []
        assert f"{trained['name']} · trained" in trained["models"], trained["models"]
        assert trained["charts"] >= 1  # the finished run's curves
    for browsed in (browse_a, browse_b):
        assert browsed["errors"] == [] and browsed["visited"] == 2 * len(BROWSE_PAGES)
    ended = served.wait_for_ended(ended_before + 2)[ended_before:]
    assert sorted(name for name, _ in ended) == sorted([train_a["name"], train_b["name"]])
    # Each ran to its end: all its steps, or (on a busy machine) the page's time budget; never an error.
    ran_out = r"(\d+)/\1 steps|\d+/\d+ steps, stopped \(max_seconds\)"
    assert all(re.fullmatch(ran_out, how) for _, how in ended), ended
    assert shipped_digests() == digests
    REPORT["four_sessions"] = {"pages_browsed": browse_a["visited"] + browse_b["visited"], "models_trained": 2,
                               "health": assert_healthy(served, t0, "four sessions")}


# --- 2. sessions closed mid-training -------------------------------------------------------------------


async def _train_then_close(browser, url: str, context=None) -> str:
    """Open the Train page in a new tab, start a long run (500 epochs, else the page's defaults),
    wait until it is really training, then close the tab (its session). Returns the run's name."""
    own = context is None
    if own:
        context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        await page.goto(f"{url}/train", wait_until="domcontentloaded")
        await wait_idle(page)
        name = await start_training(page, epochs=500)
        await page.get_by_text(TRAINING_PROGRESS).first.wait_for()
        return name
    finally:
        await page.close()
        if own:
            await context.close()


def test_closing_a_session_stops_its_run(served):
    """A session closed while its run trains: the run stops for that reason and the server goes idle.
    The thread count is recorded, not asserted here: the server's request thread pools grow lazily with
    the peak number of concurrent requests and keep their idle threads, so one session can leave the
    count higher without leaking anything. That nothing stays *per session* is asserted over twenty
    sessions below (the count comes back to where it was before them)."""
    t_start = time.time()
    served.wait_until_idle()
    threads_idle = served.threads()
    ended_before = len(served.ended_runs())
    name = in_browser(_train_then_close, served.url)
    ended = served.wait_for_ended(ended_before + 1)[ended_before:]  # a 500-epoch run: only a stop ends it
    assert ended == [(name, ended[0][1])]
    assert re.fullmatch(UNSCORED, ended[0][1]), ended  # stopped at its next step, and not scored: no one will see it
    assert f"stopping training run {name!r}" in served.log() and "its session" in served.log()
    cpu = served.wait_until_idle()
    REPORT["closed_session"] = {"stopped": ended[0][1], "idle_cpu_fraction": round(cpu, 3),
                                "threads_idle": threads_idle, "threads_after": served.threads(),
                                "health": assert_healthy(served, t_start, "a closed session")}


async def _train_and_close_in_a_row(browser, url: str, count: int, lanes: int, after_each) -> list[str]:
    """``count`` train-and-close sessions, ``lanes`` at a time, each lane one tab after the other in one
    browser (cache warm, as a returning user's); every tab is closed while its run trains, and
    ``after_each()`` is called after each close."""
    context = await browser.new_context(viewport={"width": 1440, "height": 900})

    async def lane(n: int) -> list[str]:
        names = []
        for _ in range(n):
            names.append(await _train_then_close(browser, url, context))
            after_each()
        return names

    try:
        per_lane = [count // lanes + (i < count % lanes) for i in range(lanes)]
        return [name for names in await asyncio.gather(*(lane(n) for n in per_lane)) for name in names]
    finally:
        await context.close()


def test_twenty_sessions_train_and_close_memory_stays_bounded(served):
    t_start = time.time()
    # One session first, not counted: the server's one-time threads (preloading, request pools, torch's
    # own) exist after it, so what is compared below is what twenty more sessions leave behind.
    warm_ended = len(served.ended_runs())
    in_browser(_train_and_close_in_a_row, served.url, 1, 1, lambda: None)
    served.wait_for_ended(warm_ended + 1)
    served.wait_until_idle()
    rss_before = served.rss_bytes()
    threads_before = served.threads()
    ended_before = len(served.ended_runs())
    rss = []  # resident memory after each closed session
    names = in_browser(_train_and_close_in_a_row, served.url, CLOSE_SESSIONS, CLOSE_LANES,
                       lambda: rss.append(served.rss_bytes()))
    ended = served.wait_for_ended(ended_before + CLOSE_SESSIONS)[ended_before:]
    assert len(ended) == CLOSE_SESSIONS and sorted(n for n, _ in ended) == sorted(names)
    assert [how for _, how in ended if not re.fullmatch(UNSCORED, how)] == []
    served.wait_until_idle()  # nothing left running
    threads_after = wait_for_threads(served, threads_before)
    rss_after = served.rss_bytes()
    assert rss_after - rss_before < RSS_GROWTH_BOUND, (rss_before, rss, rss_after)
    REPORT["twenty_sessions"] = {"sessions": CLOSE_SESSIONS, "at_a_time": CLOSE_LANES, "all_stopped": True,
                                 "threads_before": threads_before, "threads_after": threads_after,
                                 "rss_growth_bound_mib": RSS_GROWTH_BOUND // 2**20,
                                 "health": assert_healthy(served, t_start, "twenty sessions")}


# --- 3. five fast clicks on Train ---------------------------------------------------------------------


async def _rapid_clicks(browser, url: str) -> dict:
    context, page = await open_session(browser, f"{url}/train")
    try:
        await set_number(page, number_label("Epochs", "epochs"), 500)
        name = (await page.get_by_text("Will train").inner_text()).removeprefix("Will train").strip()
        button = page.get_by_role("button", name="Train", exact=True)
        for _ in range(5):
            await button.click(delay=0, no_wait_after=True)
        await page.get_by_text(TRAINING_PROGRESS).first.wait_for()
        await page.get_by_role("button", name="Stop").first.click()  # the live view redraws every second
        await page.get_by_text(TRAINED).wait_for()
        await wait_idle(page)
        return {"name": name, "errors": await errors_on(page), "models": await sidebar_models(page),
                "success": await page.locator('[data-testid="stAlertContentSuccess"]').all_inner_texts()}
    finally:
        await context.close()


def test_five_fast_clicks_start_one_run(served):
    t_start = time.time()
    ended_before = len(served.ended_runs())
    outcome = in_browser(_rapid_clicks, served.url)
    name = outcome["name"]
    assert outcome["errors"] == []
    trained = [m for m in outcome["models"] if m.endswith("· trained")]
    assert trained == [f"{name} · trained"], outcome["models"]  # one model, no "(2)" twin
    assert any("stopped early (Stop button)" in s for s in outcome["success"]), outcome["success"]
    # The worker logs its end just after the page can see it: wait for the line, then check no other.
    ended = served.wait_for_ended(ended_before + 1)[ended_before:]
    assert [n for n, _ in ended] == [name], ended  # exactly one run started (and ended) for five clicks
    assert ended[0][1].endswith("stopped (Stop button)")
    REPORT["rapid_clicks"] = {"clicks": 5, "runs_started": len(ended),
                              "health": assert_healthy(served, t_start, "rapid clicks")}


# --- 4. threads and time bounds (in-process) ------------------------------------------------------------


def _threads_a_new_thread_gets() -> int:
    """PyTorch's intra-op threads as a thread started now sees them (a session's script run, a
    training run): ``torch.set_num_threads`` sets the process default, while a thread that set its
    own count earlier (this test's main thread) keeps that one."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


@pytest.mark.parametrize("setting, expected", [(None, 1), ("2", 2)], ids=["default", "WME_TORCH_THREADS=2"])
def test_torch_threads_are_set_once_per_server_process(setting, expected, monkeypatch):
    import streamlit as st

    calls = []
    real = torch.set_num_threads
    before = _threads_a_new_thread_gets()
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n))[1])
    if setting is None:
        monkeypatch.delenv("WME_TORCH_THREADS", raising=False)
    else:
        monkeypatch.setenv("WME_TORCH_THREADS", setting)
    try:
        real(3)  # whatever the process had before the app started
        st.cache_resource.clear()  # a fresh "server": its first session configures the thread pool
        first = AppTest.from_file(APP, default_timeout=HANG_S)
        first.run()
        assert not first.exception
        preloading = runtime.start_preloading()  # the first run started it; threads are set there
        preloading.join(timeout=HANG_S)
        assert not preloading.is_alive(), "the preloading thread hung"
        assert calls == [expected] and _threads_a_new_thread_gets() == expected
        second = AppTest.from_file(APP, default_timeout=HANG_S)  # another session on the same server
        second.run()
        first.run()  # and a rerun
        assert calls == [expected], "set_num_threads must run once per server, not per session or rerun"
        assert _threads_a_new_thread_gets() == expected
    finally:
        real(before)
    REPORT.setdefault("torch_threads", {})[setting or "default"] = {"set_calls": len(calls), "threads": expected}


def test_a_run_cannot_outlive_its_time_bound():
    bound = 5.0
    at = AppTest.from_file(APP, default_timeout=HANG_S)
    at.run()
    at.switch_page("app_pages/5_Train.py").run()
    at.number_input(key="train_epochs").set_value(500)
    at.slider(key="train_budget").set_value(int(bound))  # the smallest the page offers
    at.run()
    at.button(key="train_start").click().run()
    run = at.session_state["training_run"]
    assert run.config.max_seconds == bound
    assert run.finished.wait(HANG_S), "the run did not end"  # 500 epochs: only the bound ends it
    at.run()
    assert not at.exception
    result = run.result
    # Stopped by its clock, long before its 500 epochs: the loop ends before the step that would run past
    # the bound (how close to the bound it ends depends on the machine's load: the benchmark measures it).
    assert result is not None and result.stopped and result.stop_reason == "max_seconds"
    assert 0 < result.steps < result.total_steps
    assert any("stopped at the time bound" in s.value for s in at.success)
    # No request can ask for more than the app's bound, or for none.
    for seconds in (None, training_runner.APP_MAX_SECONDS + 1):
        with pytest.raises(ValueError, match="max_seconds"):
            training_runner.start("digits", TrainConfig(max_seconds=seconds))
    REPORT["time_bound"] = {"bound_s": bound, "stop_reason": result.stop_reason,
                            "steps": f"{result.steps}/{result.total_steps}"}


def test_health_held_throughout_the_module(served):
    """Every probe since the server started, through every scenario above, was answered."""
    REPORT["health_throughout"] = assert_healthy(served, served.started, "this module")
