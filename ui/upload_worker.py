"""Uploaded files are read and checked in worker processes, never in the process that serves the pages.

A check is linear in the file's size, but at the 5 MB upload limit the slowest legal files take
seconds of CPU (tens of seconds on a busy machine). Run on a session's script thread, such a check held
Python's interpreter lock, so every other session, and the server's ``/_stcore/health``, waited for it.
Here each check runs in a worker process of a small pool that every session of the server shares:

* **Bounded.** :data:`~multires.options.UPLOAD_CHECK_WORKERS` workers, each running one check at a time;
  a session whose check finds every worker busy waits for one (without holding the interpreter), at most
  :data:`~multires.options.UPLOAD_CHECK_SECONDS`. Workers are started with ``spawn`` (never ``fork``
  from a threaded server) and kept for the next checks; the server's preloading starts the first one
  with every parser imported, PyTorch included (:meth:`WorkerPool.warm`), the second starts when two
  checks overlap. A worker imports what a check needs (:data:`NEEDS`) before the check's time bound
  starts, within :data:`START_SECONDS`. A worker never runs the server's main module: ``spawn``
  re-runs ``__main__`` in every new process, and Streamlit makes the app script ``__main__`` while it
  runs, so each worker would run the app, whose preloading would start a worker of its own, without
  end. Workers are started with ``__main__`` marked as not to be re-run (:func:`_main_not_rerun`), and
  a worker process never starts workers itself.
* **Only the result crosses back**: the parsed signal, table, task or model (as large as the bounded
  upload), pickled by the worker (this project's code; the upload itself is never unpickled anywhere).
* **The library's own errors cross intact** (``SignalError``, ``DatasetError``, ``CheckpointError``,
  ``StudyResultsError``; every one pickles with its message and attributes), so the pages show the
  messages they showed before.
* **A check that cannot finish** raises :class:`UploadCheckError` with a message for the user: past
  :data:`~multires.options.UPLOAD_CHECK_SECONDS` the worker is stopped (:class:`UploadCheckTimeout`); a
  worker that dies, e.g. killed for its memory (workers are the kernel's first choice when memory runs
  out), gives :class:`UploadCheckCrashed`. Either way that worker is replaced before the next check, the
  other checks go on, and the session keeps everything it had.

:data:`INLINE` runs checks in the calling process instead (tests that replace a library function to
watch which stage a file reaches need that). Streamlit-free: the pages catch :class:`UploadCheckError`.

Examples
--------
>>> timeout_message(180)[:45]
'Checking the file took longer than 3 minutes,'
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.machinery
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from multires.options import UPLOAD_CHECK_SECONDS, UPLOAD_CHECK_WORKERS

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from multires.data.tasks import TaskData
    from multires.data.uploads.checks import ParsedSignal

__all__ = [
    "INLINE",
    "START_SECONDS",
    "UploadCheckBusy",
    "UploadCheckCrashed",
    "UploadCheckError",
    "UploadCheckTimeout",
    "WorkerPool",
    "check",
    "read_checkpoint",
    "read_dataset",
    "read_signal",
    "read_study_table",
    "shared_pool",
    "timeout_message",
]

#: Run checks in the calling process (tests that watch the library's stages from inside set this).
INLINE = False
#: Longest a worker may take to start or to import what a check needs (a ceiling on a hang: importing
#: PyTorch at low priority on the busy 2-core machine took minutes). Not counted in a check's own bound.
START_SECONDS = 600.0
#: What every worker imports when it starts: NumPy and the signal parsers.
WORKER_MODULES = ("multires.data.uploads",)


class UploadCheckError(RuntimeError):
    """The upload could not be checked (not: the file is bad); the message is for the user, as-is."""


class UploadCheckTimeout(UploadCheckError):
    """The check took longer than its bound; its worker was stopped."""


class UploadCheckCrashed(UploadCheckError):
    """The worker process died during the check (e.g. killed for its memory); it is replaced."""


class UploadCheckBusy(UploadCheckError):
    """No worker became free in time: every one stayed busy with other sessions' checks."""


def timeout_message(seconds: float) -> str:
    """What a user reads when a check passed its time bound."""
    return (f"Checking the file took longer than {seconds / 60:g} minutes, so it was not used. The server may be "
            "very busy: upload the file again to retry.")


CRASHED_MESSAGE = ("The process checking the file stopped before it finished (the file may need more memory than the "
                   "server allows), so it was not used. Upload it again to retry.")
BUSY_MESSAGE = "The server is busy checking other files, so this one was not checked: upload it again in a minute."


# --- in the worker --------------------------------------------------------------------------------------


def _prepare() -> None:
    """A new worker: the project's thread policy before PyTorch loads, and first in line for the kernel's
    out-of-memory killer (a worker that dies is replaced; the server must not be the one killed)."""
    from multires.training.threads import set_env_threads

    set_env_threads()
    try:
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as adj:
            adj.write("1000")
    except OSError:  # not Linux, or not allowed: the size bounds still hold
        pass


def _ready(modules: tuple[str, ...]) -> int:
    """Import what checks need (timed apart from the checks); returns the worker's process id."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    return os.getpid()


def _run(job: Callable[..., Any], args: tuple) -> bytes:
    """``job(*args)``, pickled here so PyTorch tensors travel as bytes (not through shared memory); then
    the memory the check freed goes back to the system (an idle worker keeps its imports only)."""
    try:
        return pickle.dumps(job(*args), protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        _give_back_memory()


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc's ``malloc_trim``; elsewhere nothing)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _signal(data: bytes, filename: str, column: str | None) -> tuple[ParsedSignal, bool]:
    from multires.data.uploads import parse_upload
    from multires.data.uploads.checks import SignalTooLongError

    try:
        return parse_upload(data, filename, column), False
    except SignalTooLongError as error:
        return error.parsed, True


def _dataset(train: bytes, train_name: str, test: bytes, test_name: str, seed: int) -> TaskData:
    from multires.data.tasks import task_from_files

    return task_from_files(train, train_name, test, test_name, seed=seed)


def _checkpoint(data: bytes) -> nn.Module:
    from multires.training.ensemble import load_model

    return load_model(data)


def _study_table(data: bytes) -> pd.DataFrame:
    from multires.study.results import read_results

    return read_results(data)


#: What each check imports, imported before the check starts so its time bound counts the check only.
NEEDS: dict[Callable[..., Any], tuple[str, ...]] = {
    _signal: ("multires.data.uploads", "pandas"), _dataset: ("multires.data.tasks",),
    _checkpoint: ("multires.training.ensemble",), _study_table: ("multires.study.results",),
}
#: What the server's preloading has its first worker import: every check's modules, PyTorch included.
ALL_NEEDS = tuple(dict.fromkeys(name for names in NEEDS.values() for name in names))


# --- in the server ----------------------------------------------------------------------------------------


class _Worker:
    """One worker process (a one-process ``ProcessPoolExecutor``), started when first needed."""

    def __init__(self, context: multiprocessing.context.BaseContext, modules: tuple[str, ...]) -> None:
        self._context = context
        self._modules = modules
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._imported: set[str] = set()

    def start(self, needs: tuple[str, ...] = ()) -> concurrent.futures.ProcessPoolExecutor:
        """The running worker, started if it was not, with ``needs`` imported (within :data:`START_SECONDS`)."""
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(1, mp_context=self._context,
                                                                    initializer=_prepare)
            self._imported = set()
        missing = tuple(name for name in (*self._modules, *needs) if name not in self._imported)
        if missing:
            with _main_not_rerun():  # the executor starts its process on the first submit
                future = self._executor.submit(_ready, missing)
            self._result(future, START_SECONDS)
            self._imported.update(missing)
        return self._executor

    def run(self, job: Callable[..., Any], args: tuple, seconds: float, needs: tuple[str, ...] = ()) -> Any:
        executor = self.start(needs)
        with _main_not_rerun():  # the first submit when nothing was imported first
            future = executor.submit(_run, job, args)
        return pickle.loads(self._result(future, seconds))

    def _result(self, future: concurrent.futures.Future, seconds: float) -> Any:
        """The future's result; the job's own exception passes through as it was raised."""
        try:
            return future.result(timeout=seconds)
        except TimeoutError:
            self.stop()
            raise UploadCheckTimeout(timeout_message(seconds)) from None
        except BrokenProcessPool:
            self.stop()
            raise UploadCheckCrashed(CRASHED_MESSAGE) from None

    def pid(self) -> int | None:
        """The worker's process id while it runs (None before the first check and after a stop)."""
        processes = dict(getattr(self._executor, "_processes", None) or {})
        return next(iter(processes), None)

    def stop(self) -> None:
        """End the worker now, even mid-check (the executor has no public way to end a running job)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=5)


class WorkerPool:
    """``workers`` worker processes shared by every caller; each runs one check at a time.

    Parameters
    ----------
    workers : int
        Processes at most (started as checks need them, kept for the next ones).
    modules : tuple of str
        Imported by every new worker before its first check.
    context : str
        ``multiprocessing`` start method: ``spawn`` (the default) or ``forkserver``; never ``fork``
        (forking a threaded server can copy a lock some other thread holds).
    """

    def __init__(self, workers: int = UPLOAD_CHECK_WORKERS, modules: tuple[str, ...] = WORKER_MODULES,
                 context: str = "spawn") -> None:
        if context == "fork":
            raise ValueError("a worker pool of a threaded server must not fork; use spawn or forkserver")
        start = multiprocessing.get_context(context)
        self.workers = [_Worker(start, modules) for _ in range(workers)]
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()  # the most recently used worker first: warm
        for worker in reversed(self.workers):
            self._idle.put(worker)

    def run(self, job: Callable[..., Any], *args: Any, seconds: float = UPLOAD_CHECK_SECONDS,
            needs: tuple[str, ...] = ()) -> Any:
        """``job(*args)`` in a free worker, once it has imported the modules ``needs`` names: its result,
        or its exception; :class:`UploadCheckError` if no worker became free within ``seconds`` or the
        job did not finish in ``seconds`` (its imports are bounded by :data:`START_SECONDS` apart)."""
        try:
            worker = self._idle.get(timeout=seconds)
        except queue.Empty:
            raise UploadCheckBusy(BUSY_MESSAGE) from None
        try:
            return worker.run(job, args, seconds, needs)
        finally:
            self._idle.put(worker)

    def warm(self, needs: tuple[str, ...] = ALL_NEEDS) -> None:
        """Start one worker now with ``needs`` imported (the server's preloading does, so the first upload
        of any kind waits for neither); nothing in a worker process (workers never start workers)."""
        if multiprocessing.parent_process() is not None:
            return
        worker = self._idle.get()
        try:
            worker.start(needs)
        except UploadCheckError:  # a worker that cannot start now is started again by the first check
            pass
        finally:
            self._idle.put(worker)

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return [pid for worker in self.workers if (pid := worker.pid()) is not None]

    def close(self) -> None:
        """Stop every worker (tests; a server's pool lives as long as the server)."""
        for worker in self.workers:
            worker.stop()


_main_lock = threading.Lock()


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """While a worker process starts: ``__main__`` marked so that ``spawn`` does not run it in the worker.

    ``spawn`` re-runs the parent's main module in the child unless the module's spec names it
    ``__main__`` (or ``<package>.__main__``); Streamlit's app script, which Streamlit makes ``__main__``,
    has no spec. The mark is taken off again, so the module is left as it was.
    """
    with _main_lock:
        main = sys.modules.get("__main__")
        if main is None or getattr(main, "__spec__", None) is not None:
            yield
            return
        main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        try:
            yield
        finally:
            main.__spec__ = None


_shared: WorkerPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> WorkerPool:
    """The server's one pool, created on the first upload and shared by every session."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkerPool()
        return _shared


def check(job: Callable[..., Any], *args: Any) -> Any:
    """``job(*args)`` in the shared pool (in this process if :data:`INLINE`)."""
    if INLINE:
        return job(*args)
    return shared_pool().run(job, *args, needs=NEEDS.get(job, ()))


def read_signal(data: bytes, filename: str, column: str | None = None) -> tuple[ParsedSignal, bool]:
    """:func:`multires.data.uploads.parse_upload` of an upload in a worker: ``(parsed, too_long)``; a
    signal over the length limit comes back whole with ``True`` (the page offers a window of it).
    Raises ``SignalError`` for a bad file, :class:`UploadCheckError` if the check could not finish."""
    return check(_signal, data, filename, column)


def read_dataset(train: tuple[bytes, str], test: tuple[bytes, str], seed: int = 0) -> TaskData:
    """:func:`multires.data.tasks.task_from_files` of two uploads in a worker (``DatasetError`` for bad
    files, :class:`UploadCheckError` if the check could not finish)."""
    return check(_dataset, train[0], train[1], test[0], test[1], seed)


def read_checkpoint(data: bytes) -> nn.Module:
    """:func:`multires.training.ensemble.load_model` of an upload in a worker (``CheckpointError`` for a
    bad file, :class:`UploadCheckError` if the check could not finish)."""
    return check(_checkpoint, data)


def read_study_table(data: bytes) -> pd.DataFrame:
    """:func:`multires.study.results.read_results` of an upload in a worker (``StudyResultsError`` for a
    bad file, :class:`UploadCheckError` if the check could not finish)."""
    return check(_study_table, data)
