"""Upload checks in worker processes (ui/upload_worker.py): what crosses back, and what happens when a
check cannot finish. The live server's side (it keeps answering during a heavy check) is in
tests/test_upload_worker_live.py.

Every wait here is a ceiling on a hang; a worker that is slow to start on a busy machine only makes
the tests slower.
"""

from __future__ import annotations

import os
import pickle
import threading
import time

import numpy as np
import pytest
import torch

from conftest import wait_until
from multires import ModelConfig
from multires.checkpoint import CheckpointError, checkpoint_bytes
from multires.checkpoint.metrics import SchemaError
from multires.checkpoint.safejson import JsonLimitError
from multires.data.tasks import DatasetError, task_from_files
from multires.data.uploads import parse_upload
from multires.data.uploads.checks import SignalError, SignalTooLongError
from multires.model import build_model
from multires.options import MAX_SIGNAL_LENGTH
from multires.study.results import ForgedParquetError, StudyResultsError, read_results
from multires.training.ensemble import load_model
from ui import upload_worker
from ui.upload_worker import (
    UploadCheckBusy,
    UploadCheckCrashed,
    UploadCheckError,
    UploadCheckTimeout,
    WorkerPool,
)

GOOD_CHECKPOINT = checkpoint_bytes(build_model(ModelConfig(d_model=4, n_layers=2, seq_len=64), seed=3),
                                   {"task": "digits"})
TRAIN_TSV = b"".join(f"{i % 2}\t{i}\t{i + 1}\t{-i}\t{i * 2}\t{i % 3}\t{i}\t{i}\t{i}\n".encode() for i in range(40))
TEST_TSV = b"".join(f"{i % 2}\t{-i}\t{i}\t{i}\t{1}\t{i % 5}\t{i}\t{2}\t{i}\n".encode() for i in range(10))


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the test looks at whatever the library raises
        return err
    raise AssertionError("the call did not raise")


# --- every error an upload check raises survives pickling (it travels from the worker) ------------------

LIBRARY_ERRORS = {
    "signal": lambda: parse_upload(b"\x00", "song.mp3"),
    "signal too long": lambda: parse_upload(b"1\n" * (MAX_SIGNAL_LENGTH + 5), "long.csv"),
    "dataset": lambda: task_from_files(b"a\tb\n", "TRAIN.tsv", b"a\tb\n", "TEST.tsv"),
    "checkpoint": lambda: load_model(GOOD_CHECKPOINT[:-7]),
    "study table": lambda: read_results(b"a,b\n1,2\n"),
}


@pytest.mark.parametrize("kind", list(LIBRARY_ERRORS))
def test_a_library_error_pickles_with_its_message_and_attributes(kind):
    err = _raised(LIBRARY_ERRORS[kind])
    assert isinstance(err, (SignalError, DatasetError, CheckpointError, StudyResultsError)), repr(err)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and str(err)
    if isinstance(err, SignalTooLongError):
        assert np.array_equal(back.parsed.values, err.parsed.values) and back.parsed.column == err.parsed.column


@pytest.mark.parametrize("cls", [SignalError, SignalTooLongError, DatasetError, CheckpointError, SchemaError,
                                 JsonLimitError, StudyResultsError, ForgedParquetError, UploadCheckError,
                                 UploadCheckTimeout, UploadCheckCrashed, UploadCheckBusy])
def test_every_upload_error_class_pickles(cls):
    parsed = parse_upload(b"1\n" * 8, "x.txt")
    err = cls("what is wrong", parsed) if cls is SignalTooLongError else cls("what is wrong")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == "what is wrong"


# --- through the server's pool: the same results and the same messages as in this process -----------------


@pytest.mark.parametrize("kind", list(LIBRARY_ERRORS))
def test_a_library_error_crosses_the_process_boundary_intact(kind):
    here = _raised(LIBRARY_ERRORS[kind])
    if isinstance(here, SignalTooLongError):  # the app's reader returns a too-long signal for windowing
        parsed, too_long = upload_worker.read_signal(b"1\n" * (MAX_SIGNAL_LENGTH + 5), "long.csv")
        assert too_long and np.array_equal(parsed.values, here.parsed.values)
        return
    call = {"signal": lambda: upload_worker.read_signal(b"\x00", "song.mp3"),
            "dataset": lambda: upload_worker.read_dataset((b"a\tb\n", "TRAIN.tsv"), (b"a\tb\n", "TEST.tsv")),
            "checkpoint": lambda: upload_worker.read_checkpoint(GOOD_CHECKPOINT[:-7]),
            "study table": lambda: upload_worker.read_study_table(b"a,b\n1,2\n")}[kind]
    there = _raised(call)
    assert type(there) is type(here) and str(there) == str(here)
    assert os.getpid() not in upload_worker.shared_pool().pids() and upload_worker.shared_pool().pids()


def test_good_uploads_come_back_as_they_are_built_here():
    parsed, too_long = upload_worker.read_signal(b"t,v\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(20)),
                                                 "x.csv", "v")
    assert not too_long and parsed.column == "v" and np.array_equal(parsed.values, np.arange(20.0) ** 2)

    task, here = upload_worker.read_dataset((TRAIN_TSV, "TRAIN.tsv"), (TEST_TSV, "TEST.tsv")), \
        task_from_files(TRAIN_TSV, "TRAIN.tsv", TEST_TSV, "TEST.tsv", seed=0)
    assert torch.equal(task.x_train, here.x_train) and torch.equal(task.y_test, here.y_test)
    assert task.class_names == here.class_names

    net, reference = upload_worker.read_checkpoint(GOOD_CHECKPOINT), load_model(GOOD_CHECKPOINT)
    assert net.metrics == reference.metrics and net.metrics["task"] == "digits"
    reference_state = reference.state_dict()
    assert all(torch.equal(value, reference_state[name]) for name, value in net.state_dict().items())
    x = torch.randn(2, 1, 64)
    assert torch.equal(net.eval()(x), reference.eval()(x))


def test_the_shared_pool_is_one_and_bounded():
    from multires.options import UPLOAD_CHECK_WORKERS

    pool = upload_worker.shared_pool()
    assert pool is upload_worker.shared_pool()
    assert len(pool.workers) == UPLOAD_CHECK_WORKERS <= 2


# --- a check that cannot finish: a clear message, and the pool keeps working ------------------------------


@pytest.fixture
def pool():
    """A pool of its own (one quick-starting worker: no parsers imported), stopped after the test."""
    made = WorkerPool(workers=1, modules=())
    yield made
    made.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_that_dies_gives_a_clear_message_and_is_replaced(pool):
    assert pool.run(abs, -3) == 3
    first = pool.pids()
    with pytest.raises(UploadCheckCrashed, match="stopped before it finished.*Upload it again to retry"):
        pool.run(os._exit, 1)  # the worker process ends mid-check, as the kernel's OOM killer would end it
    assert pool.run(abs, -4) == 4  # a fresh worker
    assert pool.pids() and pool.pids() != first


def test_a_check_past_its_time_bound_is_stopped_with_a_clear_message(pool):
    assert pool.run(abs, -1) == 1  # started: the bound below is the check's, not the start's
    (pid,) = pool.pids()
    with pytest.raises(UploadCheckTimeout, match="took longer than .* minutes, so it was not used"):
        pool.run(time.sleep, 600, seconds=1.0)
    wait_until(lambda: not _alive(pid), "the stopped worker to end")
    assert pool.run(abs, -2) == 2


def test_the_imports_a_check_needs_are_not_counted_in_its_time_bound(tmp_path, monkeypatch):
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(30)\nVALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # before the worker starts: it takes this path with it
    slow = WorkerPool(workers=1, modules=())
    try:
        assert slow.run(abs, -6, seconds=20, needs=("slow_to_import",)) == 6
    finally:
        slow.close()


def test_a_library_error_is_not_a_crash(pool):
    with pytest.raises(SignalError, match="unsupported file type") as raised:
        pool.run(parse_upload, b"\x00", "song.mp3")
    assert not isinstance(raised.value, UploadCheckError)
    assert pool.run(abs, -5) == 5 and len(pool.pids()) == 1  # the same worker goes on


def test_when_every_worker_stays_busy_a_check_gives_up_with_a_message(pool):
    pool.run(abs, 0)
    ended = []

    def long_check():
        try:
            pool.run(time.sleep, 600, seconds=300)
        except UploadCheckError as err:  # stopped by pool.close() below
            ended.append(err)

    sleeper = threading.Thread(target=long_check, daemon=True)
    sleeper.start()
    wait_until(lambda: pool._idle.empty(), "the long check to take the worker")
    with pytest.raises(UploadCheckBusy, match="busy checking other files"):
        pool.run(abs, -1, seconds=0.5)
    pool.close()  # ends the long check's worker: the sleeper gets its timeout or crash, not a hang
    sleeper.join(timeout=120)
    assert ended and isinstance(ended[0], UploadCheckCrashed)


def test_a_pool_never_forks():
    with pytest.raises(ValueError, match="must not fork"):
        WorkerPool(workers=1, context="fork")


def test_inline_mode_checks_in_this_process(monkeypatch):
    monkeypatch.setattr(upload_worker, "INLINE", True)
    seen = []
    monkeypatch.setattr(upload_worker, "_signal", lambda *args: seen.append(os.getpid()) or ("parsed", False))
    assert upload_worker.read_signal(b"1\n", "x.csv") == ("parsed", False) and seen == [os.getpid()]


_MAIN_IS_A_SCRIPT = r"""
import pathlib, sys, types
script = pathlib.Path(sys.argv[1])
# As under Streamlit: the running app script is __main__, a module with a file and no spec.
main = types.ModuleType("__main__")
main.__file__ = str(script)
main.__spec__ = None
sys.modules["__main__"] = main
from ui.upload_worker import WorkerPool
pool = WorkerPool(1)
try:
    print(pool.run(len, b"abc", seconds=600))
    assert main.__spec__ is None, "the main module was left changed"
finally:
    pool.close()
"""


def test_a_worker_never_runs_the_servers_main_module(tmp_path):
    """spawn re-runs ``__main__`` in a new process; Streamlit makes the app script ``__main__``, so a worker
    would run the app, whose preloading starts a worker, which runs the app ... (a chain that filled the
    machine's memory). The worker must start without running it."""
    import subprocess
    import sys
    from pathlib import Path

    marker = tmp_path / "ran"
    script = tmp_path / "fake_app.py"
    script.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('the app ran in a worker')\n")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", _MAIN_IS_A_SCRIPT, str(script)], check=False, cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "3"
    assert not marker.exists(), "the worker ran the server's main module"


def test_a_worker_process_never_starts_workers(monkeypatch):
    import multiprocessing

    started = []
    pool = WorkerPool(1)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())  # as inside a worker
    monkeypatch.setattr(pool.workers[0], "start", lambda needs=(): started.append(needs))
    pool.warm()
    assert started == []
