"""Training in the app: one background thread per session, polled by the Train page.

Why a thread: Streamlit reruns the page script on every click, so a training loop running inside
the script would be cut off by the Stop button's own rerun (and would freeze every other widget).
Instead :func:`start` runs :func:`multires.training.train` in a daemon thread and keeps a
:class:`TrainingRun` in ``st.session_state``; the page polls it (``st.fragment(run_every=...)``)
to draw progress, and :func:`collect_finished` turns a finished run into session models on the
script thread (the worker never touches Streamlit).

A run trains one config for one or more seeds, one after the other (seed, seed + 1, ...); every
seed becomes its own model, and the Compare page groups models that differ only by seed.

While it trains, the worker copies the model's filters ``h0, h1`` (and, for learned TREESELECT,
the kept-slot masks) at most every :data:`LIVE_SECONDS` into :attr:`TrainingRun.live`, so the page
can draw them changing (a :class:`LiveFilters`). It reads them from ``progress.net``, the
callback's read-only view of the training model; the start (:attr:`TrainingRun.initial`) comes from
the same deterministic ``build_model(config.model_config(task), seed)`` that ``train`` calls.

Before it starts, :func:`start` estimates the run (:func:`multires.training.runcost.check_budget`: peak
memory, one step's time, the final scoring) and refuses it, saying what to reduce, over the budget
of :mod:`multires.options`; so one step takes at most about :data:`~multires.options.MAX_STEP_SECONDS`
and every way of ending a run below acts within seconds.

How a run ends — every path ends the thread within one optimizer step:

* it finishes its epochs (for every seed);
* **Stop**: the button sets ``run.stop_event``; the ``train`` callback returns ``True`` after the
  next step, ``train`` returns a valid (stopped) model and the remaining seeds are skipped;
* **time bound**: ``TrainConfig.max_seconds`` (at most :data:`APP_MAX_SECONDS`, per seed) is
  enforced by ``train`` itself;
* **session closed**: a watcher thread asks the Streamlit runtime every :data:`WATCH_SECONDS`
  whether the session that started the run is still connected
  (``streamlit.runtime.get_instance().is_active_session``), independently of the training steps;
  once it has been gone for :data:`SESSION_GRACE_SECONDS` (a reload or a network blip reconnects
  within that) it sets the stop, so the run ends within the grace period, one watch period and the
  step in progress, and its result is dropped with the session;
* a ``TrainingError``/``ValueError`` ends it with ``run.error`` set.

At most one run per session: :func:`start` refuses while one is active. Across sessions at most
:data:`MAX_CONCURRENT_RUNS` train at once (a shared 2-core CPU stays responsive); a run that cannot
start waits in a first-come, first-served line (:mod:`ui.run_queue`), shows its place
(:meth:`TrainingRun.waiting_text`), starts by itself when a slot frees, and may be cancelled (Stop).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st
from streamlit.logger import get_logger

from multires.plaintext import short

from . import state
from .run_queue import RunQueue, waiting_message

#: Longest model name taken from an uploaded file's name (names fill pickers and messages).
MAX_MODEL_NAME = 80

if TYPE_CHECKING:  # imported where used: app.py imports this module on every page, torch-free
    from multires import MultiresNet
    from multires.data.tasks import TaskData
    from multires.training import Progress, TrainConfig, TrainResult
    from multires.training.runcost import RunCost

__all__ = [
    "APP_MAX_SECONDS",
    "LIVE_SECONDS",
    "MAX_CONCURRENT_RUNS",
    "MAX_SEEDS",
    "SESSION_GRACE_SECONDS",
    "TASK_SEED",
    "WATCH_SECONDS",
    "LiveFilters",
    "TrainingRun",
    "add_uploaded_checkpoint",
    "cached_task",
    "collect_finished",
    "current_run",
    "entry_from_result",
    "estimate",
    "launch",
    "live_filters",
    "model_name",
    "start",
]

_LOG = get_logger(__name__)  # Streamlit's handler and level, so it shows in the server log

#: Upper bound of one seed's training time in the app (seconds).
APP_MAX_SECONDS = 300.0
#: A run whose session has been disconnected this long is stopped.
SESSION_GRACE_SECONDS = 5.0
#: Runs training at the same time on this server (all sessions together).
MAX_CONCURRENT_RUNS = 2
#: Every task is split with this seed, so models trained here share the shipped models' test split.
TASK_SEED = 0
#: Seeds one run may train (one after the other).
MAX_SEEDS = 5
#: The live filters are copied from the training model at most this often (seconds).
LIVE_SECONDS = 0.5
#: How often a run's watcher asks whether its session is still connected (seconds).
WATCH_SECONDS = 0.5

_SESSION_KEY = "training_run"
_queue = RunQueue(MAX_CONCURRENT_RUNS)  # the server's training slots and the line waiting for them
_clock = time.monotonic  # the watcher's clock (tests drive it)


@functools.lru_cache(maxsize=4)
def cached_task(name: str) -> TaskData:
    """The named task's tensors, loaded once per server (read-only, shared by every session and run).

    Large tasks (sequential MNIST, the longer UCR sets) take seconds to build; nothing here or in
    :func:`multires.training.train` writes into a task's tensors.
    """
    from multires.data.tasks import load_task

    return load_task(name, seed=TASK_SEED)


@dataclass(frozen=True)
class LiveFilters:
    """A copy of a training model's filters (and learned selection) at one optimizer step.

    Attributes
    ----------
    step : int
        Optimizer steps done when copied (0: the initial filters).
    h0, h1 : ndarray (n_layers, channels, k)
        Every layer's lowpass / highpass taps (cross-correlation order, as ``conv.h0``).
    masks : tuple of ndarray (channels, n_candidates), bool
        Kept-slot masks of the learned-TREESELECT layers (``net.convs`` order); empty otherwise.
    learned_layers : tuple of int
        Index in ``net.convs`` of each mask's layer.
    bands, lags : tuple of tuple
        Per learned layer, every candidate's band label (``"a6"``, ``"b3"``) and lag.
    """

    step: int
    h0: np.ndarray
    h1: np.ndarray
    masks: tuple[np.ndarray, ...] = ()
    learned_layers: tuple[int, ...] = ()
    bands: tuple[tuple[str, ...], ...] = ()
    lags: tuple[tuple[int, ...], ...] = ()


def live_filters(net: MultiresNet, step: int) -> LiveFilters:
    """Copy ``net``'s filters and learned masks now (cheap: a few hundred numbers per layer).

    Examples
    --------
    >>> from multires import ModelConfig, MultiresNet
    >>> live = live_filters(MultiresNet(ModelConfig(d_model=4, n_layers=2, seq_len=64, wavelet="haar")), 0)
    >>> live.h0.shape, live.masks
    ((2, 4, 2), ())
    """
    convs = net.convs
    h0 = np.stack([conv.h0.detach().cpu().numpy().copy() for conv in convs])  # (L C k)
    h1 = np.stack([conv.h1.detach().cpu().numpy().copy() for conv in convs])  # (L C k)
    learned = tuple(i for i, conv in enumerate(convs) if conv.tree_select == "learned")
    masks = tuple(convs[i].slot_mask.cpu().numpy().copy() for i in learned)  # (C candidates) each
    bands = tuple(tuple(f"{'a' if s.band == 'approx' else 'b'}{s.level}" for s in convs[i].slots) for i in learned)
    lags = tuple(tuple(int(s.lag) for s in convs[i].slots) for i in learned)
    return LiveFilters(int(step), h0, h1, masks, learned, bands, lags)


def _initial_model(task: TaskData, config: TrainConfig) -> MultiresNet | None:
    """The model ``train(task, config)`` starts from, or None if the config is refused.

    :func:`multires.model.build_model` is deterministic in (model config, seed) and leaves the
    global RNG alone, so this is the training model before its first step without touching the run.
    """
    from multires.model import build_model

    try:
        config.validate()
        net = build_model(config.model_config(task), config.seed)
    except ValueError:
        return None  # train() refuses the same config with its own message
    net.update_selection(0.0)  # as train() does before the first step (learned TREESELECT)
    return net


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
    """One training run of one session (one config, ``seeds`` seeds); written by the worker, read by the page."""

    name: str  # the model's name (first seed) once it joins the session
    task_name: str
    config: TrainConfig
    session_id: str | None
    task: TaskData | None = None  # an uploaded task; None: cached_task(task_name)
    seeds: int = 1  # config.seed, config.seed + 1, ... trained one after the other
    stop_event: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    stop_cause: str | None = None  # "Stop button", "session closed"
    unscored: bool = False  # stopped without computing scores (its session closed)
    results: list[TrainResult] = field(default_factory=list)  # one per finished seed
    names: list[str] = field(default_factory=list)  # the models' names once collected
    error: str | None = None
    collected: bool = False
    waiting: bool = True  # for a free training slot on the server
    ticket: int | None = None  # its place in the server's line (ui.run_queue)
    cost: RunCost | None = None  # the estimate it was started with
    seed_index: int = 0  # which seed is training (0-based)
    # Curves of the current seed so far and its live filters (written by the worker, read under the lock).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    last: Progress | None = None
    live: LiveFilters | None = None
    initial: LiveFilters | None = None  # the current seed's filters before its first step
    _next_live: float = 0.0
    _gone_since: float | None = None

    @property
    def active(self) -> bool:
        return not self.finished.is_set()

    @property
    def result(self) -> TrainResult | None:
        """The last finished seed's result (None until one has finished)."""
        return self.results[-1] if self.results else None

    def request_stop(self, cause: str = "Stop button") -> None:
        if self.stop_cause is None:
            self.stop_cause = cause
        self.stop_event.set()

    def waiting_text(self) -> str | None:
        """``"Waiting: place 1 in line (2 runs ahead)"`` while it waits for a slot, else None."""
        place = None if self.ticket is None or not self.waiting else _queue.place(self.ticket)
        return None if place is None else waiting_message(place)

    def curves(self) -> dict[str, Any]:
        """A consistent copy of the current seed's curves and live filters."""
        with self._lock:
            return {"steps": list(self.steps), "loss": list(self.loss), "metric": list(self.metric),
                    "val_steps": list(self.val_steps), "val_metric": list(self.val_metric), "last": self.last,
                    "live": self.live, "initial": self.initial}

    # --- worker side ---------------------------------------------------------------------------

    def _observe(self, progress: Progress, now: float) -> None:
        """Copy the model's filters if :data:`LIVE_SECONDS` have passed (or at an epoch's end)."""
        net = progress.net  # a read-only view of the training model: only copied from
        if net is None or (now < self._next_live and progress.val_metric is None):
            return
        self._next_live = now + LIVE_SECONDS
        snapshot = live_filters(net, progress.step)
        with self._lock:
            self.live = snapshot

    def _callback(self, progress: Progress) -> bool:
        now = time.monotonic()
        self._observe(progress, now)
        with self._lock:
            self.steps.append(progress.step)
            self.loss.append(progress.loss)
            self.metric.append(progress.metric)
            if progress.val_metric is not None:
                self.val_steps.append(progress.step)
                self.val_metric.append(progress.val_metric)
            self.last = progress
        if self.stop_event.is_set() and self.stop_cause == "session closed":
            raise _SessionGone  # out of train(): no one will see the scores, so the run does not compute them
        return self.stop_event.is_set()

    def _check_session(self, now: float) -> bool:
        """One look at the session (the watcher's); True once the run was stopped because it is gone."""
        if _session_connected(self.session_id):
            self._gone_since = None
        elif self._gone_since is None:
            self._gone_since = now
        elif now - self._gone_since >= SESSION_GRACE_SECONDS and not self.stop_event.is_set():
            last = self.last
            _LOG.info("stopping training run %r at step %d: its session %s is closed",
                      self.name, 0 if last is None else last.step, self.session_id)
            self.request_stop("session closed")
            return True
        return self.stop_event.is_set() and self.stop_cause == "session closed"

    def _watch(self) -> None:
        """Until the run ends: stop it once its session has been gone for SESSION_GRACE_SECONDS."""
        while not self.finished.wait(WATCH_SECONDS):
            if self._check_session(_clock()):
                return

    def _reset_curves(self) -> None:
        with self._lock:
            for series in (self.steps, self.loss, self.metric, self.val_steps, self.val_metric):
                series.clear()
            self.last, self.live, self.initial, self._next_live = None, None, None, 0.0

    def _start_model(self, net: MultiresNet) -> None:
        snapshot = live_filters(net, 0)
        with self._lock:
            self.live = self.initial = snapshot

    def _train_seeds(self) -> None:
        from multires.training import train

        task = self.task if self.task is not None else cached_task(self.task_name)
        for index in range(self.seeds):
            if self.stop_event.is_set():
                break
            self.seed_index = index
            self._reset_curves()
            config = dataclasses.replace(self.config, seed=self.config.seed + index)
            initial = _initial_model(task, config)
            if initial is not None:
                self._start_model(initial)
            self.results.append(train(task, config, callback=self._callback))

    def _work(self) -> None:
        from multires.training import TrainingError

        try:
            if self.ticket is None:
                self.ticket = _queue.join()
            if not _queue.wait_turn(self.ticket, self.stop_event):
                return  # cancelled (Stop, or the session closed) while waiting in line
            self.waiting = False
            self.started = time.monotonic()
            self._train_seeds()
        except _SessionGone:
            self.unscored = True  # stopped without scoring: its session closed
        except (TrainingError, ValueError) as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - the page must show it, not the thread die silently
            _LOG.error("training run %r failed:\n%s", self.name, traceback.format_exc())
            self.error = f"{type(err).__name__}: {err}"
        finally:
            _queue.leave(self.ticket)
            self.finished.set()
            _LOG.info("training run %r ended: %s", self.name, self.error or self._outcome())

    def _outcome(self) -> str:
        """For the server log: ``"300/300 steps"``, ``"12/300 steps, stopped (Stop button)"``, ...

        With several seeds the last one's steps, after ``"3 seeds, last "``.
        """
        result = self.result
        if self.unscored:
            return f"stopped at step {0 if self.last is None else self.last.step}, not scored: its session closed"
        if result is None:
            return f"not started (cancelled in line: {self.stop_cause})" if self.stop_cause else "not started"
        seeds = f"{len(self.results)} seeds, last " if self.seeds > 1 else ""
        stopped = f", stopped ({self.stop_cause or result.stop_reason})" if result.stopped else ""
        return f"{seeds}{result.steps}/{result.total_steps} steps{stopped}"


class _SessionGone(Exception):
    """Raised by a run's callback once its session has closed: train() ends without scoring."""


# --- script side (called by the page) ------------------------------------------------------------


def current_run() -> TrainingRun | None:
    """This session's latest run (active, finished or collected), if any."""
    return st.session_state.get(_SESSION_KEY)


def model_name(task_name: str, config: TrainConfig) -> str:
    """A full, readable name, e.g. ``"digits · fading · haar · 48×2 · seed 0"``.

    Models that differ only in the last part (the seed) are one configuration on the Compare page.
    """
    if config.wavelet is None:
        init = f"random k={config.kernel_size}"
    else:
        init = config.wavelet + (" frozen" if config.freeze_filters else "")
    budget = f" M={config.memory_size}" if config.memory_size else ""
    return f"{task_name} · {config.tree_select}{budget} · {init} · {config.d_model}×{config.n_layers} · seed {config.seed}"


def estimate(config: TrainConfig, task: TaskData) -> tuple[RunCost | None, str | None]:
    """The run's estimate, and why it is refused (None when within the budget of :mod:`multires.options`).

    ``(None, message)`` when the config cannot even be built on this task.
    """
    from multires.training.runcost import TaskShape, estimate_run, over_budget

    try:
        cost = estimate_run(config, TaskShape.from_task(task))
    except ValueError as err:
        return None, f"These settings cannot be trained on this dataset: {err}"
    reasons = over_budget(cost)
    return cost, ("This run " + "; it ".join(reasons) + ".") if reasons else None


def start(task_name: str, config: TrainConfig, *, task: TaskData | None = None,
          seeds: int = 1) -> tuple[TrainingRun | None, str | None]:
    """Start a run for this session in a background thread.

    Parameters
    ----------
    task_name : str
        A :func:`multires.data.tasks.load_task` name, or a label for ``task``.
    config : TrainConfig
        Needs ``max_seconds <= APP_MAX_SECONDS`` (the bound applies to each seed).
    task : TaskData, optional
        A task built by the page (an uploaded dataset); default: ``cached_task(task_name)``.
    seeds : int
        Train seeds ``config.seed .. config.seed + seeds - 1`` one after the other (1..MAX_SEEDS).

    Returns
    -------
    (run, None) when started (training, or waiting in line for a slot); ``(None, message)`` when
    refused: a run of this session is still going, or :func:`estimate` puts it over the budget.
    """
    run = current_run()
    if run is not None and run.active:
        return None, (f"Already training “{run.name}”: wait for it to finish or press Stop "
                      "before starting another run.")
    if config.max_seconds is None or config.max_seconds > APP_MAX_SECONDS:
        raise ValueError(f"an app run needs max_seconds <= {APP_MAX_SECONDS:g}, got {config.max_seconds}")
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds must be in 1..{MAX_SEEDS}, got {seeds}")
    cost, refusal = estimate(config, task if task is not None else cached_task(task_name))
    if refusal is not None:
        return None, refusal
    run = TrainingRun(model_name(task_name, config), task_name, config, _session_id(), task=task, seeds=seeds,
                      cost=cost)
    st.session_state[_SESSION_KEY] = run
    launch(run)
    return run, None


def launch(run: TrainingRun) -> None:
    """Put ``run`` in the server's line now (click order) and start its worker and watcher threads."""
    run.ticket = _queue.join()
    threading.Thread(target=run._work, name=f"train-{run.name}", daemon=True).start()
    threading.Thread(target=run._watch, name=f"watch-{run.name}", daemon=True).start()


def entry_from_result(name: str, result: TrainResult) -> state.ModelEntry:
    """A session model from a finished run: metrics as a checkpoint stores them, full curves in ``extra``."""
    return state.ModelEntry(
        name, result.net, result.metrics(), "trained",
        extra={"history": result.history, "selection_history": result.selection_history},
    )


def collect_finished() -> TrainingRun | None:
    """If this session's run has finished and not been collected yet, add its models to the session.

    Every finished seed becomes one model (the last one is selected). Returns the run that was just
    collected, else None.
    """
    run = current_run()
    if run is None or run.active or run.collected:
        return None
    run.collected = True
    for result in run.results:
        wanted = model_name(run.task_name, result.config)
        run.names.append(state.add_session_model(entry_from_result(wanted, result)))
    if run.names:
        run.name = run.names[-1]
    return run


def add_uploaded_checkpoint(data: bytes, filename: str) -> tuple[str | None, str | None]:
    """Load an uploaded checkpoint or seed-ensemble file (every member checked like a checkpoint) into the
    session's models.

    Returns
    -------
    (name, None) on success, ``(None, message)`` when the bytes are not a usable checkpoint; in that
    case nothing in the session changes.
    """
    from multires.checkpoint import CheckpointError
    from ui.upload_worker import UploadCheckError, read_checkpoint

    try:
        net = read_checkpoint(data)  # checked and built in a worker process: the server keeps serving meanwhile
    except CheckpointError as err:
        return None, f"“{short(filename)}” is not a usable checkpoint: {err}"
    except UploadCheckError as err:
        return None, f"“{short(filename)}” was not loaded. {err}"
    metrics = net.metrics
    net.eval()
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    stem = stem[:MAX_MODEL_NAME]  # a name is shown in pickers and messages: a file name can be very long
    entry = state.ModelEntry(stem or "uploaded", net, dict(metrics or {}), "uploaded")
    return state.add_session_model(entry), None
