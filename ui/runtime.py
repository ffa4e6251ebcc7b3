"""The app's server process: PyTorch's thread count, background preloading, and GC freezing.

Called from ``app.py``; one server process serves every session, so each of these happens once
per process (or a few times), never per click.

* **Threads.** The project's thread policy (:mod:`multires.threads`): one intra-op thread unless
  ``MULTIRES_THREADS`` (or the older ``WME_TORCH_THREADS``) says otherwise. Sessions train
  concurrently, and on a busy 2-core machine two OpenMP threads per op measured up to 17x slower
  than one (spin-waiting on a contended core).
* **Preloading.** The Home page needs neither PyTorch, pandas nor the model code, so its chart is
  drawn without them (importing torch alone takes about a second, pandas a few tenths). At the end
  of the server's first script run, after Home's chart was sent, :func:`start_preloading` imports
  pandas on the script thread, and a few seconds later the rest in a background thread, so the
  next page a user opens does not wait either. The delay leaves both cores to the browser while it
  loads Plotly and draws the first chart (starting at once drew it 0.5 s later on a 2-core machine).
  Never import pandas in the background thread: Plotly looks pandas up in ``sys.modules`` and,
  while another thread is still importing it, fails with "partially initialized module 'pandas'"
  (seen in the browser tests). The script thread's import leaves one such window, once per server:
  a second session drawing a chart during the first session's first run's last few tenths of a
  second.
* **GC freezing.** See :func:`freeze_long_lived_objects`.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import time

import streamlit as st
from streamlit.logger import get_logger

from multires.threads import apply_thread_policy, default_threads, set_env_threads

__all__ = [
    "PRELOAD_DELAY_S", "PRELOAD_MODULES", "freeze_long_lived_objects", "limit_torch_threads", "start_preloading",
    "torch_threads",
]

_LOG = get_logger(__name__)

#: Seconds between the first script run and the preloading.
PRELOAD_DELAY_S = 3.0

#: Imported by the preloading thread: everything the other pages and training need (not pandas).
PRELOAD_MODULES = (
    "torch", "multires.checkpoint", "multires.training", "multires.tasks", "multires.memory",
    "multires.filters", "multires.figures.filters", "multires.figures.training", "multires.figures.treeselect",
    "multires.figures.wavelets", "multires.playground", "ui.training_runner", "multires.figures.compare",
    "multires.study.results",
)


def torch_threads() -> int:
    """PyTorch intra-op threads for this server: :func:`multires.threads.default_threads` (default 1)."""
    return default_threads()


def limit_torch_threads() -> None:
    """Before torch is imported, make its default thread count :func:`torch_threads`.

    OpenMP reads ``OMP_NUM_THREADS`` when torch loads, so a page that imports torch before the
    preloading thread has called ``torch.set_num_threads`` computes with the right count.
    """
    if "torch" not in sys.modules:
        set_env_threads()


def _preload(delay: float) -> None:
    time.sleep(delay)
    apply_thread_policy()  # the process default, whenever torch was first imported
    for name in PRELOAD_MODULES:
        importlib.import_module(name)
    try:
        _first_calls()
    except Exception:  # noqa: BLE001 - a missing model is reported by the pages; preloading is best effort
        _LOG.warning("preloading stopped early", exc_info=True)
    freeze_long_lived_objects()


@st.cache_resource(show_spinner=False)
def start_preloading(delay: float = PRELOAD_DELAY_S) -> threading.Thread:
    """Once per server, after the first page: import pandas on the calling (script) thread, then the
    heavy modules in a daemon thread after ``delay`` s; returns the thread."""
    import pandas  # noqa: F401 - on this thread, never the preloading one (see the module docstring)

    thread = threading.Thread(target=_preload, args=(delay,), name="wme-preload", daemon=True)
    thread.start()
    return thread


def _first_calls() -> None:
    """First calls that cost more than their imports, made once so no page pays for them."""
    from ui import state, training_runner

    # The default model, loaded into the cache its pages read from. Validating a checkpoint builds
    # the network on the meta device, whose first use imports sympy and torch._dynamo (about a second).
    state.shipped_models()[state.DEFAULT_MODEL].net  # noqa: B018 - the property loads and caches the weights
    training_runner.cached_task("digits")  # the Train page's default task: imports sklearn, reads the digits


_freeze_lock = threading.Lock()
_modules_at_last_freeze = 0


def freeze_long_lived_objects() -> None:
    """Keep full garbage collections short by freezing what is alive after new imports.

    Streamlit runs ``gc.collect(2)`` after every script run (``runner.postScriptGC``). With torch,
    plotly, scipy and sympy loaded, that walks about half a million long-lived objects while holding
    the GIL: measured 0.2-0.4 s per run on a 2-core machine, during which every session, every
    training thread and ``/_stcore/health`` stall, on each click of any user. ``gc.freeze()`` moves
    the objects alive now out of all later collections (reference counting still frees them).

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
