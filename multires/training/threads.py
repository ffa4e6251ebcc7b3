"""One thread policy for every entry point: how many CPU threads PyTorch may use per process.

The rule (:func:`resolve_threads`), in order of precedence:

1. an explicit count (``--threads N`` of the CLI and the benchmarks, ``run_trial(threads=N)``);
2. the environment: ``MULTIRES_THREADS``, else ``WME_TORCH_THREADS``;
3. :data:`DEFAULT_THREADS` = 1.

Under ``torchrun`` (``LOCAL_WORLD_SIZE`` > 1) the count from 2. or 3. is further capped at
``cpu_count // LOCAL_WORLD_SIZE`` (at least 1), so the ranks on one machine never ask for more
threads than it has cores; an explicit count is taken as given.

Why one thread by default: the layer's FFTs of a few thousand points per channel gain little from
a second OpenMP thread, and OpenMP's threads spin-wait on each other as soon as another process
holds a core, so on a shared machine two threads make every step several times slower than one
(``benchmarks/bench_conv.py --threads 1 2`` measures it; ``docs/benchmarks.md`` has the figures).
One thread survives load; a user who owns the whole machine can ask for more.

Who applies it: the CLI (``python -m multires.training``), :func:`multires.study.trial.run_trial`,
the app (``ui/runtime.py``) and every benchmark call :func:`apply_thread_policy` before they
compute. ``import multires`` does **not** (importing a library must not change a process-wide
setting behind its user's back), and neither does :func:`multires.training.train`: a program that
uses the library owns its thread pool, and calls ``apply_thread_policy()`` itself to get the
policy (``torch.set_num_threads`` otherwise).

Examples
--------
>>> resolve_threads(environ={})
1
>>> resolve_threads(environ={"MULTIRES_THREADS": "3"}, cpu_count=8)
3
>>> resolve_threads(environ={"MULTIRES_THREADS": "4", "LOCAL_WORLD_SIZE": "4"}, cpu_count=8)
2
>>> resolve_threads(2, environ={"MULTIRES_THREADS": "4"})
2
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from multires.plaintext import quote

__all__ = [
    "DEFAULT_THREADS", "ENV_VARS", "MAX_THREADS", "ThreadPolicyError", "apply_thread_policy", "default_threads",
    "parse_threads", "resolve_threads", "set_env_threads",
]

#: Threads per process when nothing else is said (see the module docstring for the measurement).
DEFAULT_THREADS = 1

#: Most threads a process may be given: far above any useful count on a CPU, far below what makes
#: OpenBLAS/OpenMP fail to start their pools (100000 ended in an OpenBLAS error and a traceback).
MAX_THREADS = 256

#: Environment variables read, first wins: the library's name, then the app's older one.
ENV_VARS = ("MULTIRES_THREADS", "WME_TORCH_THREADS")


class ThreadPolicyError(ValueError):
    """A thread count that is not a positive integer (from the environment or an argument)."""


def parse_threads(value: object, source: str = "threads") -> int:
    """``value`` as a positive thread count; ``source`` names it in the error message.

    >>> parse_threads(" 2 ", "MULTIRES_THREADS")
    2
    """
    if isinstance(value, bool):
        raise ThreadPolicyError(f"{source} must be a positive integer, got {quote(value)}")
    if isinstance(value, int):
        count = value
    elif isinstance(value, str) and value.strip().lstrip("+").isascii() and value.strip().lstrip("+").isdigit():
        count = int(value.strip())
    else:
        raise ThreadPolicyError(f"{source} must be a positive integer, got {quote(value)}")
    if count < 1:
        raise ThreadPolicyError(f"{source} must be a positive integer, got {quote(value)}")
    if count > MAX_THREADS:
        raise ThreadPolicyError(f"{source} asks for {count:,} threads; at most {MAX_THREADS} are allowed "
                                f"(this machine has {os.cpu_count() or 1} CPU(s))")
    return count


def _local_world_size(environ: Mapping[str, str]) -> int:
    value = environ.get("LOCAL_WORLD_SIZE")
    return 1 if value is None else parse_threads(value, "LOCAL_WORLD_SIZE")


def default_threads(environ: Mapping[str, str] | None = None, cpu_count: int | None = None) -> int:
    """The policy's count when no explicit one is given: environment or 1, capped under torchrun.

    Raises
    ------
    ThreadPolicyError
        When ``MULTIRES_THREADS`` / ``WME_TORCH_THREADS`` / ``LOCAL_WORLD_SIZE`` is set to something
        other than a positive integer (an empty value counts as unset).
    """
    environ = os.environ if environ is None else environ
    count = DEFAULT_THREADS
    for name in ENV_VARS:
        value = environ.get(name, "")
        if value.strip():
            count = parse_threads(value, name)
            break
    ranks = _local_world_size(environ)
    if ranks > 1:
        cores = os.cpu_count() if cpu_count is None else cpu_count
        count = min(count, max(1, (cores or 1) // ranks))
    return count


def resolve_threads(
    requested: int | None = None,
    environ: Mapping[str, str] | None = None,
    cpu_count: int | None = None,
) -> int:
    """The thread count to use: ``requested`` if given, else :func:`default_threads`."""
    if requested is not None:
        return parse_threads(requested, "threads")
    return default_threads(environ, cpu_count)


def set_env_threads(environ: dict[str, str] | None = None) -> int:
    """Before torch is imported: ``OMP_NUM_THREADS`` := the policy's count; returns it.

    OpenMP reads ``OMP_NUM_THREADS`` when torch loads, so code that imports torch before
    :func:`apply_thread_policy` runs already computes with the right count. Also what a process
    passes to the subprocesses it starts (Ray workers, ``torchrun`` ranks) to carry the policy over.
    """
    environ = os.environ if environ is None else environ
    count = default_threads(environ)
    environ["OMP_NUM_THREADS"] = str(count)
    return count


def apply_thread_policy(n: int | None = None) -> int:
    """Set PyTorch's intra-op threads to :func:`resolve_threads(n) <resolve_threads>`; returns the count.

    Idempotent: calling it again with the same count leaves the same state. The inter-op pool (used by
    TorchScript's ``fork``, not by this project's eager code) is sized to the same count when torch
    still allows it, i.e. before the process's first parallel work; later calls leave it as it is.
    """
    import torch  # on first use: importing this module (the app does at start) must not load torch

    count = resolve_threads(n)
    torch.set_num_threads(count)  # also for an unchanged count: a thread started later inherits it
    if torch.get_num_interop_threads() != count:
        try:
            torch.set_num_interop_threads(count)
        except RuntimeError:  # only settable once, before any inter-op work: keep what is there
            pass
    return count
