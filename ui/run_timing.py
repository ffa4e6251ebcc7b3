"""Opt-in timing of every script run, for the capacity benchmark (``benchmarks/bench_capacity.py``).

Off unless the server was started with ``WME_RUN_TIMES=<file>``; then each completed script run
appends one line ``<wall time> <session id> <page url path> <seconds>`` to that file (one ``write``
of a short line in append mode, so concurrent sessions' lines do not interleave). A run that is
interrupted by a rerun never reaches :func:`finish` and is not logged. Off, both calls cost one
attribute lookup.
"""

from __future__ import annotations

import os
import time

__all__ = ["LOG_PATH", "finish", "start"]

#: Where the runs are logged, or None (the default: nothing is timed).
LOG_PATH: str | None = os.environ.get("WME_RUN_TIMES") or None


def start() -> float | None:
    """Call first thing in the script run; returns the start time to pass to :func:`finish`."""
    return time.perf_counter() if LOG_PATH else None


def finish(started: float | None, page: str) -> None:
    """Call last thing in the script run: logs its duration if timing is on."""
    if started is None or LOG_PATH is None:
        return
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else "-"
    line = f"{time.time():.3f} {session} {page or 'home'} {time.perf_counter() - started:.4f}\n"
    with open(LOG_PATH, "a", encoding="utf-8") as log:
        log.write(line)
