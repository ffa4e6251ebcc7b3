"""Benchmark helpers: a CPU-burning neighbour for the "loaded" columns, and the machine's load.

Every benchmark that compares quiet and loaded runs does both in the same run: "quiet" is the
machine as it is (other users included, so the load average is printed with every figure) and
"loaded" adds :class:`Burner`, ``n`` Python processes that spin on one core each
(``while True: pass``) for the duration of a ``with`` block, like another job on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import TracebackType

__all__ = ["Burner", "load_average"]

_SPIN = "while True:\n    pass\n"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as text (``n/a`` where the OS has none)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


class Burner:
    """``n`` busy-looping subprocesses while the ``with`` block runs (none for ``n=0``)."""

    def __init__(self, n: int = 1, settle_s: float = 0.5) -> None:
        if n < 0:
            raise ValueError(f"burner count must be >= 0, got {n}")
        self.n, self.settle_s = n, settle_s
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> Burner:
        self._procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(self.n)]
        if self._procs:
            time.sleep(self.settle_s)  # let the scheduler see them busy before timing starts
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        for proc in self._procs:
            proc.kill()
        for proc in self._procs:
            proc.wait(timeout=30)
        self._procs = []
