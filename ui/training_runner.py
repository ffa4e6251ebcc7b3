"""Training in the app: one background thread per session, polled by the Train page.

Why a thread: Streamlit reruns the page script on every click, so a training loop running inside
the script would be cut off by the Stop button's own rerun (and would freeze every other widget).
Instead :func:`start` runs :func:`multires.training.train` in a daemon thread and keeps a
:class:`TrainingRun` in ``st.session_state``; the page polls it (``st.fragment(run_every=...)``)
to draw progress, and :func:`collect_finished` turns a finished run into a session model on the
script thread (the worker never touches Streamlit).

How a run ends — every path ends the thread within one optimizer step:

* it finishes its epochs;
* **Stop**: the button sets ``run.stop_event``; the ``train`` callback returns ``True`` after the
  next step and ``train`` returns a valid (stopped) model;
* **time bound**: ``TrainConfig.max_seconds`` (at most :data:`APP_MAX_SECONDS`) is enforced by
  ``train`` itself;
* **session closed**: at most once per second the callback asks the Streamlit runtime whether the
  session that started the run is still connected
  (``streamlit.runtime.get_instance().is_active_session``); after it has been gone for
  :data:`SESSION_GRACE_SECONDS` (a reload or a network blip reconnects within that) the run stops
  and its result is dropped with the session;
* a ``TrainingError``/``ValueError`` ends it with ``run.error`` set.

At most one run per session: :func:`start` refuses while one is active. Across sessions the
server-wide :data:`MAX_CONCURRENT_RUNS` keeps a shared 2-core CPU responsive.
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit.logger import get_logger

from . import state

if TYPE_CHECKING:  # imported where used: app.py imports this module on every page, torch-free
    from multires.tasks import TaskData
    from multires.training import Progress, TrainConfig, TrainResult

__all__ = [
    "APP_MAX_SECONDS",
    "SESSION_GRACE_SECONDS",
    "MAX_CONCURRENT_RUNS",
    "TASK_SEED",
    "TrainingRun",
    "cached_task",
    "current_run",
    "start",
    "collect_finished",
    "model_name",
    "entry_from_result",
    "add_uploaded_checkpoint",
]

_LOG = get_logger(__name__)  # Streamlit's handler and level, so it shows in the server log

#: Upper bound of one run's training time in the app (seconds).
APP_MAX_SECONDS = 300.0
#: A run whose session has been disconnected this long is stopped.
SESSION_GRACE_SECONDS = 5.0
#: Runs training at the same time on this server (all sessions together).
MAX_CONCURRENT_RUNS = 2
#: Every task is split with this seed, so models trained here share the shipped models' test split.
TASK_SEED = 0

_SESSION_KEY = "training_run"
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_RUNS)


@functools.lru_cache(maxsize=3)
def cached_task(name: str) -> TaskData:
    """The task's tensors (read-only, shared by every session and run)."""
    from multires.tasks import load_task

    return load_task(name, seed=TASK_SEED)


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.session_id


def _session_connected(session_id: str | None) -> bool:
    """True unless the Streamlit runtime says this session is gone (no runtime, e.g. AppTest: True)."""
    from streamlit import runtime

    if session_id is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(session_id)


@dataclass
class TrainingRun:
    """One training run of one session; written by the worker thread, read by the page."""

    name: str  # the model's name once it joins the session
    task_name: str
    config: TrainConfig
    session_id: str | None
    stop_event: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    stop_cause: str | None = None  # "Stop button", "session closed"
    result: TrainResult | None = None
    error: str | None = None
    collected: bool = False
    waiting: bool = True  # for a free training slot on the server
    # Curves so far (appended by the worker after every step; read under the lock).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    last: Progress | None = None
    _gone_since: float | None = None
    _next_check: float = 0.0

    @property
    def active(self) -> bool:
        return not self.finished.is_set()

    def request_stop(self, cause: str = "Stop button") -> None:
        if self.stop_cause is None:
            self.stop_cause = cause
        self.stop_event.set()

    def curves(self) -> dict[str, Any]:
        """A consistent copy of the curves so far."""
        with self._lock:
            return {"steps": list(self.steps), "loss": list(self.loss), "metric": list(self.metric),
                    "val_steps": list(self.val_steps), "val_metric": list(self.val_metric), "last": self.last}

    # --- worker side ---------------------------------------------------------------------------

    def _callback(self, progress: Progress) -> bool:
        with self._lock:
            self.steps.append(progress.step)
            self.loss.append(progress.loss)
            self.metric.append(progress.metric)
            if progress.val_metric is not None:
                self.val_steps.append(progress.step)
                self.val_metric.append(progress.val_metric)
            self.last = progress
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + 1.0
            if _session_connected(self.session_id):
                self._gone_since = None
            elif self._gone_since is None:
                self._gone_since = now
            elif now - self._gone_since >= SESSION_GRACE_SECONDS and not self.stop_event.is_set():
                _LOG.info("stopping training run %r at step %d: its session %s is closed",
                          self.name, progress.step, self.session_id)
                self.request_stop("session closed")
        return self.stop_event.is_set()

    def _work(self) -> None:
        from multires.training import TrainingError, train

        acquired = False
        try:
            while not (acquired := _slots.acquire(timeout=0.5)):  # wait for a free slot, stoppable
                if self.stop_event.is_set() or not _session_connected(self.session_id):
                    return
            self.waiting = False
            self.started = time.monotonic()
            if not self.stop_event.is_set():
                self.result = train(cached_task(self.task_name), self.config, callback=self._callback)
        except (TrainingError, ValueError) as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - the page must show it, not the thread die silently
            _LOG.error("training run %r failed:\n%s", self.name, traceback.format_exc())
            self.error = f"{type(err).__name__}: {err}"
        finally:
            if acquired:
                _slots.release()
            self.finished.set()
            _LOG.info("training run %r ended: %s", self.name,
                      self.error or (f"{self.result.steps}/{self.result.total_steps} steps"
                                     + (f", stopped ({self.stop_cause or self.result.stop_reason})"
                                        if self.result.stopped else "")
                                     if self.result is not None else "not started"))


# --- script side (called by the page) ------------------------------------------------------------


def current_run() -> TrainingRun | None:
    """This session's latest run (active, finished or collected), if any."""
    return st.session_state.get(_SESSION_KEY)


def model_name(task_name: str, config: TrainConfig) -> str:
    """A readable default name, e.g. ``"digits · fading · haar · 32×2"``."""
    if config.wavelet is None:
        init = f"random k={config.kernel_size}"
    else:
        init = config.wavelet + (" frozen" if config.freeze_filters else "")
    budget = f" M={config.memory_size}" if config.memory_size else ""
    return f"{task_name} · {config.tree_select}{budget} · {init} · {config.d_model}×{config.n_layers}"


def start(task_name: str, config: TrainConfig) -> tuple[TrainingRun | None, str | None]:
    """Start a run for this session in a background thread.

    Returns
    -------
    (run, None) when started; ``(None, message)`` when refused (a run of this session is still going).
    """
    run = current_run()
    if run is not None and run.active:
        return None, (f"Already training “{run.name}”: wait for it to finish or press Stop "
                      "before starting another run.")
    if config.max_seconds is None or config.max_seconds > APP_MAX_SECONDS:
        raise ValueError(f"an app run needs max_seconds <= {APP_MAX_SECONDS:g}")
    run = TrainingRun(model_name(task_name, config), task_name, config, _session_id())
    st.session_state[_SESSION_KEY] = run
    thread = threading.Thread(target=run._work, name=f"train-{run.name}", daemon=True)
    thread.start()
    return run, None


def entry_from_result(name: str, result: TrainResult) -> state.ModelEntry:
    """A session model from a finished run: metrics as a checkpoint stores them, full curves in ``extra``."""
    return state.ModelEntry(
        name, result.net, result.metrics(), "trained",
        extra={"history": result.history, "selection_history": result.selection_history},
    )


def collect_finished() -> TrainingRun | None:
    """If this session's run has finished and not been collected yet, add its model to the session.

    Returns the run that was just collected (its model is selected on the next rerun), else None.
    """
    run = current_run()
    if run is None or run.active or run.collected:
        return None
    run.collected = True
    if run.result is not None:
        run.name = state.add_session_model(entry_from_result(run.name, run.result))
    return run


def add_uploaded_checkpoint(data: bytes, filename: str) -> tuple[str | None, str | None]:
    """Load an uploaded checkpoint into the session's models.

    Returns
    -------
    (name, None) on success, ``(None, message)`` when the bytes are not a usable checkpoint; in that
    case nothing in the session changes.
    """
    from multires.checkpoint import CheckpointError, load_checkpoint

    try:
        net, _config, metrics = load_checkpoint(data)
    except CheckpointError as err:
        return None, f"“{filename}” is not a usable checkpoint: {err}"
    net.eval()
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    entry = state.ModelEntry(stem or "uploaded", net, dict(metrics or {}), "uploaded")
    return state.add_session_model(entry), None
