"""The app with its uploads checked in worker processes (ui/upload_worker.py).

* Under AppTest: when a check cannot finish (too slow, its worker died), each upload path shows a
  clear message, the session keeps everything it had, a rerun does not check the same upload again,
  and uploading the file again checks it again.
* On a live server: while a heavy checkpoint is checked, ``/_stcore/health`` keeps answering. Before
  the worker processes, the check ran on the session's script thread and held the interpreter, and
  the health endpoint did not answer until it ended.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    HANG_S,
    assert_no_exception,
    assert_shown,
    open_app,
    open_session,
    record_reliability,
    rewrite_checkpoint,
    snapshot,
    start_app_server,
    stop_app_server,
    upload,
    wait_for_app_idle,
    wait_until,
    widget,
)
from ui import upload_worker
from ui.upload_worker import CRASHED_MESSAGE, UploadCheckCrashed, UploadCheckTimeout, timeout_message

TREE_PAGE, TRAIN_PAGE, STUDY_PAGE = "app_pages/3_Coefficient_tree.py", "app_pages/5_Train.py", "app_pages/7_Study.py"
SHIPPED_STUDY = Path(__file__).resolve().parent.parent / "assets" / "studies" / "paired.csv"
TRAIN_TSV = b"".join(b"%d\t%f\t%f\t%f\t%f\n" % (c, c * 0.1 + i, -c, c * i, 0.5) for i in range(6) for c in (1, 2))
TEST_TSV = b"1\t0.1\t0.2\t0.3\t0.4\n2\t0.4\t0.3\t0.2\t0.1\n"


def _checkpoint(metrics: dict | None = None) -> bytes:
    from multires import ModelConfig
    from multires.checkpoint import checkpoint_bytes
    from multires.model import build_model

    return checkpoint_bytes(build_model(ModelConfig(d_model=4, n_layers=2, seq_len=64), seed=1), metrics or {})


class Unfinished:
    """Stands in for the pool's ``check``: the first ``fails`` checks raise ``error``, the next ones run."""

    def __init__(self, error: Exception, fails: int = 1) -> None:
        self.error, self.fails, self.calls = error, fails, 0
        self.real = upload_worker.check

    def __call__(self, job, *args):
        self.calls += 1
        if self.calls <= self.fails:
            raise self.error
        return self.real(job, *args)


TIMEOUT = UploadCheckTimeout(timeout_message(180))
CRASH = UploadCheckCrashed(CRASHED_MESSAGE)


@pytest.mark.parametrize("error", [TIMEOUT, CRASH], ids=["timeout", "crash"])
def test_a_signal_check_that_cannot_finish_says_so_and_keeps_the_session(error, monkeypatch):
    check = Unfinished(error)
    monkeypatch.setattr(upload_worker, "check", check)
    at = open_session(TREE_PAGE)
    before = snapshot(at)
    # the parsed file is kept by content (st.cache_data) for the whole test process: a file of this test's own
    wave = b"".join(b"%f\n" % v for v in np.sin(np.arange(64) / 5) * (1 + [TIMEOUT, CRASH].index(error)))
    upload(at, "tree_upload", "wave.csv", wave)
    assert_no_exception(at)
    assert_shown(at.error, f"Could not use wave.csv: {re.escape(str(error))}")
    assert snapshot(at) == before and "uploaded_signal" not in at.session_state
    at.run()
    assert check.calls == 1, "a rerun does not check the same upload again"
    upload(at, "tree_upload", "wave.csv", wave)  # again
    assert_no_exception(at)
    assert not at.error and at.session_state["uploaded_signal"]["name"] == "wave.csv"
    assert widget(at.sidebar.selectbox, "signal").value == "Uploaded signal"


@pytest.mark.parametrize("error", [TIMEOUT, CRASH], ids=["timeout", "crash"])
def test_a_checkpoint_check_that_cannot_finish_says_so_and_keeps_the_session(error, monkeypatch):
    check = Unfinished(error)
    monkeypatch.setattr(upload_worker, "check", check)
    at = open_session(TRAIN_PAGE)
    before = snapshot(at)
    upload(at, "train_upload", "mine.safetensors", _checkpoint())
    assert_no_exception(at)
    assert_shown(at.error, f"“mine.safetensors” was not loaded. {re.escape(str(error))}")
    assert snapshot(at) == before
    at.run()
    assert check.calls == 1
    upload(at, "train_upload", "mine.safetensors", _checkpoint())
    assert_no_exception(at)
    assert "mine" in at.session_state["session_models"] and widget(at.sidebar.selectbox, "model").value == "mine"


def test_a_study_table_check_that_cannot_finish_says_so_and_the_shipped_study_stays(monkeypatch):
    check = Unfinished(TIMEOUT)
    monkeypatch.setattr(upload_worker, "check", check)
    at = open_app(STUDY_PAGE)
    at.radio(key="study_source").set_value("Upload a results file").run()
    data = SHIPPED_STUDY.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n"  # not a table kept by another test
    at.file_uploader(key="study_upload").set_value(("mine.csv", data, "text/csv")).run()
    assert_no_exception(at)
    assert_shown(at.error, f"mine.csv: {re.escape(str(TIMEOUT))}")
    assert "study_budget" in [chart.key for chart in at.get("plotly_chart")], "the shipped study is still drawn"
    at.run()
    assert check.calls == 1 and len(at.error) == 1
    at.file_uploader(key="study_upload").set_value(("mine.csv", data, "text/csv")).run()
    assert_no_exception(at)
    assert not at.error and check.calls == 2


def test_a_dataset_check_that_cannot_finish_says_so_and_a_new_upload_retries(monkeypatch):
    check = Unfinished(CRASH)
    monkeypatch.setattr(upload_worker, "check", check)
    at = open_app(TRAIN_PAGE)

    def upload_pair():
        at.selectbox(key="train_task").set_value("your own dataset").run()
        at.file_uploader(key="train_data_train").set_value(("toy_TRAIN.tsv", TRAIN_TSV, "text/tab-separated-values"))
        at.file_uploader(key="train_data_test").set_value(("toy_TEST.tsv", TEST_TSV, "text/tab-separated-values"))
        at.run()

    upload_pair()
    assert_no_exception(at)
    assert_shown(at.error, re.escape(CRASHED_MESSAGE))
    assert at.button(key="train_start").disabled
    at.run()
    assert check.calls == 1
    upload_pair()
    assert_no_exception(at)
    assert not at.error and check.calls == 2
    assert not at.button(key="train_start").disabled


# --- a live server: /_stcore/health answers while a heavy upload is checked ---------------------------------


def heavy_checkpoint(size: int = 4_800_000) -> bytes:
    """A legal checkpoint just under the 5 MB upload limit, almost all of it metrics (a long list): its
    bounded JSON parse and schema check cost the most CPU of any upload the app accepts."""
    good = _checkpoint({"task": "digits"})
    entries = 230_000
    while True:
        metrics = json.dumps({"task": "digits", "note": [[i, str(i)] for i in range(entries)]})
        data = rewrite_checkpoint(good, metadata=lambda m, metrics=metrics: {**m, "metrics": metrics})
        if len(data) <= size:
            return data
        entries = int(entries * (size - 20_000) / len(data))


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def check_workers(server_pid: int) -> list[int]:
    """The server's upload-check worker processes (children started by multiprocessing's spawn)."""
    workers = []
    for child in _children(server_pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            pass
    return workers


def _state_and_ticks(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[11]) + int(fields[12])


class WorkerWatch(threading.Thread):
    """Samples the server's check workers and the server itself every 0.1 s: a sample is busy when a
    worker runs (state R) or used CPU since the previous sample; CPU ticks of both are kept."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self._stop_event = server_pid, threading.Event()
        self.samples: list[tuple[float, bool, int, int]] = []  # (time, busy, worker ticks, server ticks)

    def run(self) -> None:
        ticks: dict[int, int] = {}
        while not self._stop_event.is_set():
            busy = False
            for pid in check_workers(self.server_pid):
                seen = _state_and_ticks(pid)
                if seen is None:
                    continue
                busy |= seen[0] == "R" or seen[1] > ticks.get(pid, seen[1])
                ticks[pid] = seen[1]
            server = _state_and_ticks(self.server_pid)
            self.samples.append((time.time(), busy, sum(ticks.values()), server[1] if server else 0))
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def busy_window(self, t0: float, t1: float) -> tuple[float, float] | None:
        busy = [t for t, b, _, _ in self.samples if b and t0 <= t <= t1]
        return (busy[0], busy[-1]) if busy else None

    def cpu_seconds(self, t0: float, t1: float) -> tuple[float, float]:
        """CPU seconds the workers and the server used between ``t0`` and ``t1``."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return 0.0, 0.0
        tick = os.sysconf("SC_CLK_TCK")
        return (inside[-1][2] - inside[0][2]) / tick, (inside[-1][3] - inside[0][3]) / tick


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def _workers_idle(server_pid: int) -> bool:
    """Some worker exists (the preloading starts one) and none used CPU over one second."""
    workers = check_workers(server_pid)
    before = [_state_and_ticks(pid) for pid in workers]
    time.sleep(1.0)
    after = [_state_and_ticks(pid) for pid in workers]
    return bool(workers) and all(b is not None and a is not None and a[1] == b[1] and a[0] != "R"
                                 for b, a in zip(before, after))


def wait_for_idle_worker(server_pid: int) -> None:
    wait_until(lambda: _workers_idle(server_pid), "the server's upload worker to start and go idle", poll_s=0)


def upload_while_probing(browser, url: str, server_pid: int, health, path: Path, settle=wait_for_idle_worker) -> dict:
    """Upload the checkpoint at ``path`` on the Train page while ``health`` polls; what was seen.
    ``settle(server_pid)`` runs first, once the page is open (by default: wait for the idle worker)."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(HANG_S * 1000)
    try:
        page.goto(f"{url}/train", wait_until="domcontentloaded")
        wait_for_app_idle(page)
        page.get_by_role("tab", name="Load a checkpoint").click()
        if settle is not None:
            settle(server_pid)
        watch = WorkerWatch(server_pid)
        watch.start()
        t0 = time.time()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
        outcome = page.get_by_text(re.compile(f"Loaded “{path.stem}”|not a usable checkpoint|was not loaded")).first
        outcome.wait_for(state="visible")
        t1 = time.time()
        watch.stop()
        worker_mb = [round(_rss_kb(pid) / 1024) for pid in check_workers(server_pid)]
        shown = outcome.inner_text()
    finally:
        page.close()
    window = watch.busy_window(t0, t1)
    probes = health.samples(t0, t1)
    during = [] if window is None else [p for p in probes if p[0] >= window[0] and p[0] + p[1] <= window[1] and p[2]]
    worker_cpu, server_cpu = watch.cpu_seconds(*window) if window else (0.0, 0.0)
    return {"shown": shown, "upload_to_message_s": round(t1 - t0, 1),
            "check_busy_s": None if window is None else round(window[1] - window[0], 1),
            "worker_cpu_s": round(worker_cpu, 2), "server_cpu_s_during_check": round(server_cpu, 2),
            "max_probe_latency_during_check_s": round(max((p[1] for p in probes if window and
                                                           window[0] <= p[0] <= window[1]), default=0.0), 2),
            "probes": len(probes), "probes_answered_during_check": len(during), "worker_rss_mb": worker_mb,
            "max_probe_latency_s": round(max((p[1] for p in probes), default=0.0), 2),
            "probe_latency": health.latency(t0, t1)}


@pytest.mark.slow
@pytest.mark.browser
def test_the_server_answers_health_checks_while_a_heavy_upload_is_checked(tmp_path, chromium):
    from live_app import HealthMonitor

    path = tmp_path / "heavy.safetensors"
    path.write_bytes(heavy_checkpoint())
    server = start_app_server(tmp_path)
    health = HealthMonitor(server.url, tmp_path / "health.log")
    health.start()
    try:
        seen = upload_while_probing(chromium, server.url, server.process.pid, health, path)
    finally:
        health.stop()
        stop_app_server(server)
    record_reliability("upload_checks_off_the_server", {**seen, "file_bytes": path.stat().st_size})
    assert seen["shown"].startswith("Loaded “heavy”"), seen
    assert seen["check_busy_s"] is not None, f"no worker process of the server did the check: {seen}"
    assert seen["server_cpu_s_during_check"] < seen["worker_cpu_s"], f"the server did the check's work: {seen}"
    assert seen["probes_answered_during_check"] >= 1, f"the server did not answer while the upload was checked: {seen}"
