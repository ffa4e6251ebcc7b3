"""A training run in the background: one worker thread per run, a watcher that ends it when its session
closes, and the server's line of runs waiting for a training slot.

Why a thread: Streamlit reruns the page script on every click, so a training loop running inside
the script would be cut off by the Stop button's own rerun (and would freeze every other widget).
Instead :func:`launch` runs :func:`multires.training.train` in a daemon thread; the page polls the
:class:`TrainingRun` (``st.fragment(run_every=...)``) to draw progress, and the worker never touches
Streamlit. The session's side (checking and starting a run, collecting its models) is :mod:`ui.training_runner`.

A run trains one config for one or more seeds, one after the other (seed, seed + 1, ...); every
seed becomes its own model, and the Compare page groups models that differ only by seed.

While it trains, the worker copies the model's filters ``h0, h1`` (and, for learned TREESELECT,
the kept-slot masks) at most every :data:`LIVE_SECONDS` into :attr:`TrainingRun.live`, so the page
can draw them changing (a :class:`LiveFilters`). It reads them from ``progress.net``, the
callback's read-only view of the training model; the start (:attr:`TrainingRun.initial`) comes from
the same deterministic ``build_model(config.model_config(task), seed)`` that ``train`` calls.

How a run ends — every path ends the thread within one optimizer step:

* it finishes its epochs (for every seed);
* **Stop**: the button sets ``run.stop_event``; the ``train`` callback returns ``True`` after the
  next step, ``train`` returns a valid (stopped) model and the remaining seeds are skipped;
* **time bound**: ``TrainConfig.max_seconds`` (at most ``ui.training_runner.APP_MAX_SECONDS``, per seed) is
  enforced by ``train`` itself;
* **session closed**: a watcher thread asks the Streamlit runtime every :data:`WATCH_SECONDS`
  whether the session that started the run is still connected
  (``streamlit.runtime.get_instance().is_active_session``), independently of the training steps;
  once it has been gone for :data:`SESSION_GRACE_SECONDS` (a reload or a network blip reconnects
  within that) it sets the stop, so the run ends within the grace period, one watch period and the
  step in progress, and its result is dropped with the session;
* a ``TrainingError``/``ValueError`` ends it with ``run.error`` set.

Across sessions at most :data:`MAX_CONCURRENT_RUNS` train at once (a shared 2-core CPU stays
responsive); a run that cannot start waits in a first-come, first-served line (:mod:`ui.run_queue`),
shows its place (:meth:`TrainingRun.waiting_text`), starts by itself when a slot frees, and may be
cancelled (Stop).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from streamlit.logger import get_logger

from . import train_data
from .run_queue import RunQueue, waiting_message

if TYPE_CHECKING:  # imported where used: app.py imports this module on every page, torch-free
    from multires import MultiresNet
    from multires.data.tasks import TaskData
    from multires.training import Progress, TrainConfig, TrainResult
    from multires.training.runcost import RunCost

__all__ = [
    "LIVE_SECONDS",
    "MAX_CONCURRENT_RUNS",
    "SESSION_GRACE_SECONDS",
    "WATCH_SECONDS",
    "LiveFilters",
    "TrainingRun",
    "launch",
    "live_filters",
]

_LOG = get_logger(__name__)  # Streamlit's handler and level, so it shows in the server log

#: A run whose session has been disconnected this long is stopped.
SESSION_GRACE_SECONDS = 5.0
#: Runs training at the same time on this server (all sessions together).
MAX_CONCURRENT_RUNS = 2
#: The live filters are copied from the training model at most this often (seconds).
LIVE_SECONDS = 0.5
#: How often a run's watcher asks whether its session is still connected (seconds).
WATCH_SECONDS = 0.5

_queue = RunQueue(MAX_CONCURRENT_RUNS)  # the server's training slots and the line waiting for them
_clock = time.monotonic  # the watcher's clock (tests drive it)


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
    task: TaskData | None = None  # an uploaded task; None: train_data.cached_task(task_name)
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

        task = self.task if self.task is not None else train_data.cached_task(self.task_name)
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


def launch(run: TrainingRun) -> None:
    """Put ``run`` in the server's line now (click order) and start its worker and watcher threads."""
    run.ticket = _queue.join()
    threading.Thread(target=run._work, name=f"train-{run.name}", daemon=True).start()
    threading.Thread(target=run._watch, name=f"watch-{run.name}", daemon=True).start()
