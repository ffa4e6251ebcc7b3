"""The app's server process: PyTorch's thread count, background preloading, and GC freezing.

Called from ``app.py``; one server process serves every session, so each of these happens once
per process (or a few times), never per click.

* **Threads.** The project's thread policy (:mod:`multires.training.threads`): one intra-op thread unless
  ``MULTIRES_THREADS`` (or the older ``WME_TORCH_THREADS``) says otherwise. Sessions train
  concurrently, and several OpenMP threads per op spin-wait on cores that other sessions hold, so
  on a small machine more threads make every run slower.
* **Preloading.** The Home page needs neither PyTorch, pandas nor the model code, so its chart is
  drawn without them (importing torch is the largest part of a cold start). At the end of the
  server's first script run, after Home's chart was sent, :func:`start_preloading` imports pandas on
  the script thread, and the rest in a background thread once the CPU is idle (at least
  :data:`PRELOAD_DELAY_S` later, at most :data:`PRELOAD_MAX_WAIT_S`), so the next page a user opens
  does not wait either; last, it starts a process that checks uploads (:mod:`ui.upload_worker`). The
  wait leaves the cores to the browser while it loads Plotly and draws the first chart; importing at
  once would compete with it and delay that chart.
  Never import pandas in the background thread: Plotly looks pandas up in ``sys.modules`` and,
  while another thread is still importing it, fails with "partially initialized module 'pandas'".
  The script thread's import leaves one such window, once per server: a second session drawing a
  chart while the first session's first run is finishing (:func:`await_module` narrows it).
* **GC freezing.** See :func:`freeze_long_lived_objects`.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.logger import get_logger

from multires.training.threads import apply_thread_policy, default_threads, set_env_threads

__all__ = [
    "IDLE_SHARE", "PRELOAD_DELAY_S", "PRELOAD_MAX_WAIT_S", "PRELOAD_MODULES", "cpu_idle_share",
    "await_module", "freeze_long_lived_objects", "limit_torch_threads", "start_preloading", "torch_threads", "wait_until_idle",
]

_LOG = get_logger(__name__)

#: Seconds between the first script run and the preloading, at least ...
PRELOAD_DELAY_S = 3.0
#: ... and then until the CPU is idle (:data:`IDLE_SHARE` of it for a second: the browser has drawn
#: the first page), at most this many seconds after the first run.
PRELOAD_MAX_WAIT_S = 30.0
IDLE_SHARE = 0.6

#: Imported by the preloading thread: everything the other pages and training need (not pandas).
PRELOAD_MODULES = (
    "torch", "multires.checkpoint.io", "multires.training.loop", "multires.training.ensemble", "multires.data.tasks",
    "multires.analysis.memory",
    "multires.analysis.filters", "multires.figures.filters", "multires.figures.training", "multires.figures.tree",
    "multires.figures.treeselect",
    "multires.figures.wavelets", "multires.analysis.playground", "ui.training_runner", "multires.figures.compare",
    "multires.study.results", "multires.analysis.explain", "multires.figures.explain", "multires.analysis.cascade",
    "multires.analysis.families", "multires.analysis.footprint", "multires.figures.uniform_test", "multires.study.stats",
    "sklearn.model_selection",  # the validation split of every real-data task (multires.data.tasks.splits)
)


def torch_threads() -> int:
    """PyTorch intra-op threads for this server: :func:`multires.training.threads.default_threads` (default 1)."""
    return default_threads()


def limit_torch_threads() -> None:
    """Before torch is imported, make its default thread count :func:`torch_threads`.

    OpenMP reads ``OMP_NUM_THREADS`` when torch loads, so a page that imports torch before the
    preloading thread has called ``torch.set_num_threads`` computes with the right count.
    """
    if "torch" not in sys.modules:
        set_env_threads()


def cpu_idle_share(interval: float = 1.0) -> float | None:
    """Share of the machine's CPU time that is idle over the next ``interval`` s (Linux ``/proc/stat``);
    None where that cannot be read."""

    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]  # user nice system idle iowait ...
        return ticks[3] + ticks[4], sum(ticks)

    try:
        idle0, total0 = idle_and_total()
        time.sleep(interval)
        idle1, total1 = idle_and_total()
    except (OSError, ValueError, IndexError):
        return None
    return (idle1 - idle0) / max(total1 - total0, 1)


def wait_until_idle(delay: float, max_wait: float, idle_share: Callable[[], float | None] = cpu_idle_share) -> float:
    """Sleep ``delay`` s, then until ``idle_share()`` reaches :data:`IDLE_SHARE` (or cannot be measured),
    at most ``max_wait`` s in all; returns the seconds waited.

    On a small machine the browser drawing the first page keeps a core or more busy, and preloading
    then (a few CPU-seconds for torch) would make the first chart appear later.
    """
    start = time.monotonic()
    time.sleep(delay)
    while time.monotonic() - start < max_wait:
        share = idle_share()
        if share is None or share >= IDLE_SHARE:
            break
    return time.monotonic() - start


def _preload(delay: float, max_wait: float) -> None:
    waited = wait_until_idle(delay, max_wait)
    _LOG.debug("preloading after %.1f s", waited)
    apply_thread_policy()  # the process default, whenever torch was first imported
    for name in PRELOAD_MODULES:
        importlib.import_module(name)
    try:
        _first_calls()
    except Exception:  # noqa: BLE001 - a missing model is reported by the pages; preloading is best effort
        _LOG.warning("preloading stopped early", exc_info=True)
    freeze_long_lived_objects()


def await_module(name: str = "pandas") -> None:
    """If another thread is importing module ``name`` (pandas) right now, wait until it has finished.

    Plotly reads pandas from ``sys.modules`` without importing it, so a script run that draws while
    the first run's script thread is still importing pandas would see a half-initialised module.
    ``import`` of a module being imported blocks on that module's import lock until it is complete,
    and is a dictionary lookup once it is; a run that began before the import began is not covered.
    """
    if name in sys.modules:
        importlib.import_module(name)


@st.cache_resource(show_spinner=False)
def start_preloading(delay: float = PRELOAD_DELAY_S, max_wait: float = PRELOAD_MAX_WAIT_S) -> threading.Thread:
    """Once per server, after the first page: import pandas on the calling (script) thread, then the
    heavy modules in a daemon thread once the CPU is idle (:func:`wait_until_idle`); returns the thread."""
    import pandas  # noqa: F401 - on this thread, never the preloading one (see the module docstring)

    thread = threading.Thread(target=_preload, args=(delay, max_wait), name="wme-preload", daemon=True)
    thread.start()
    return thread


def _first_calls() -> None:
    """First calls that cost more than their imports, made once so no page pays for them."""
    from ui import defaults, models, train_data, upload_worker

    # The default model, loaded into the cache its pages read from. Validating a checkpoint builds
    # the network on the meta device, whose first use imports sympy and torch._dynamo (about a second).
    shipped = models.shipped_models()
    shipped[defaults.default_model(shipped)].net  # noqa: B018 - the property loads and caches the weights
    train_data.cached_task("digits")  # the Train page's default task: imports sklearn, reads the digits
    upload_worker.shared_pool().warm()  # a process that checks uploads, started and its parsers imported


_freeze_lock = threading.Lock()
_modules_at_last_freeze = 0


def freeze_long_lived_objects() -> None:
    """Keep full garbage collections short by freezing what is alive after new imports.

    Streamlit runs ``gc.collect(2)`` after every script run (``runner.postScriptGC``). With torch,
    plotly, scipy and sympy loaded, that walks hundreds of thousands of long-lived objects while
    holding the GIL, and meanwhile every session, every training thread and ``/_stcore/health``
    stall, on each click of any user. ``gc.freeze()`` moves the objects alive now out of all later
    collections (reference counting still frees them).

    It runs only when modules were imported since the last freeze (a few times per server: the
    preloading, first uploads, first training run), right after a full collection so no
    garbage is frozen. Besides modules it freezes what the live sessions hold at that moment: a
    bounded amount that is only kept for good if it later becomes part of a reference cycle.
    """
    global _modules_at_last_freeze
    if len(sys.modules) <= _modules_at_last_freeze or not _freeze_lock.acquire(blocking=False):
        return
    try:
        gc.collect()
        gc.freeze()
        _modules_at_last_freeze = len(sys.modules)
    finally:
        _freeze_lock.release()
