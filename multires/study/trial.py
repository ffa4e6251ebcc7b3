"""Run one trial and summarise it as one row of the results table (no Ray here).

:func:`run_trial` is what every Ray Tune trial calls, and it works as well on its own (a notebook,
a debugger). :func:`memory_budget` counts a trained network's memory both ways the study
compares: slots per channel (``M``) and distinct ``(band, level, lag)`` coefficients per layer
(a layer whose channels read different slots holds more distinct coefficients than ``M``).

Examples
--------
>>> from multires.study.grid import all_trials, grid_preset
>>> row = run_trial(all_trials(grid_preset("smoke"))[0])
>>> row["status"], row["slots_per_channel"], row["distinct_slots_mean"]
('ok', 6, 6.0)
"""

from __future__ import annotations

import json
import time
import traceback
from typing import Any

from .grid import TrialSpec

__all__ = ["memory_budget", "run_trial"]


def _distinct_slots(conv: Any) -> int:
    """Distinct slots kept by any channel of ``conv`` (MODEL's ``distinct_slots`` if it has one)."""
    if hasattr(conv, "distinct_slots"):
        value = conv.distinct_slots()
        return value if isinstance(value, int) else len(value)
    return len({slot for c in range(conv.channels) for slot in conv.kept_slots(c)})


def _per_channel(conv: Any) -> int:
    """Slots per channel of ``conv`` (MODEL's ``slots_per_channel`` if it has one)."""
    return int(conv.slots_per_channel()) if hasattr(conv, "slots_per_channel") else int(conv.n_slots)


def memory_budget(net: Any) -> dict[str, float]:
    """Memory of a trained ``MultiresNet``: slots per channel and distinct slots per layer.

    Returns
    -------
    dict
        ``slots_per_channel`` (``M``, the largest over layers and channels),
        ``distinct_slots_mean`` and ``distinct_slots_max`` (over layers), ``depth`` (``J``).

    Examples
    --------
    >>> from multires import ModelConfig, MultiresNet
    >>> net = MultiresNet(ModelConfig(d_input=1, d_output=2, d_model=4, n_layers=2, seq_len=64))
    >>> memory_budget(net)  # fading keeps J + 1 = 7 slots, the same in every channel
    {'slots_per_channel': 7, 'distinct_slots_mean': 7.0, 'distinct_slots_max': 7, 'depth': 6}
    """
    convs = list(net.convs)
    distinct = [_distinct_slots(conv) for conv in convs]
    return {
        "slots_per_channel": int(max(_per_channel(conv) for conv in convs)),
        "distinct_slots_mean": float(sum(distinct) / len(distinct)),
        "distinct_slots_max": int(max(distinct)),
        "depth": int(convs[0].depth),
    }


def _load(spec: TrialSpec) -> Any:
    from ..data.tasks.registry import load_task  # torch, in the trial's process only

    options = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(spec.task_options).items()}
    return load_task(spec.task, seed=spec.seed, **options)


def _r2_by_lag(lags: tuple[int, ...], r2: list[float]) -> dict[str, float]:
    """``r2_lag_<tau>`` per distinct lag, averaged over input channels (``memory-independent``).

    >>> _r2_by_lag((1, 2, 1, 2), [1.0, 0.5, 0.0, 0.25])
    {'r2_lag_1': 0.5, 'r2_lag_2': 0.375}
    """
    out: dict[str, list[float]] = {}
    for lag, value in zip(lags, r2):
        out.setdefault(f"r2_lag_{lag}", []).append(float(value))
    return {k: sum(v) / len(v) for k, v in out.items()}


def run_trial(spec: TrialSpec, threads: int | None = None, *, set_threads: bool = True) -> dict[str, Any]:
    """Train ``spec`` and return its results row (never raises for a failed run).

    Parameters
    ----------
    spec : TrialSpec
        The trial.
    threads : int, optional
        Torch threads for this process; default: the thread policy (:mod:`multires.training.threads`, 1
        unless ``MULTIRES_THREADS``: a Ray worker runs one trial per CPU).
    set_threads : bool, default True
        False leaves the process's thread pool alone (``threads`` is then ignored).

    Returns
    -------
    dict
        The spec's fields, ``key``, ``init``, ``status`` (``"ok"`` or ``"error"``), ``error``,
        ``metric_name``, ``test_score``, ``val_score``, ``r2_lag_<tau>`` per lag (recall tasks; averaged over input channels),
        :func:`memory_budget`'s counts, ``n_parameters``, ``seq_len``, ``steps``,
        ``train_time_s`` and ``wall_time_s``.
    """
    if set_threads:
        from ..training.threads import apply_thread_policy  # the trial's process loads torch after its policy

        apply_thread_policy(threads)
    row: dict[str, Any] = {**spec.to_dict(), "key": spec.key(), "init": spec.init, "status": "ok", "error": ""}
    start = time.perf_counter()
    try:
        from ..training.loop import train  # torch, in the trial's process only (not the planning driver)

        task = _load(spec)
        result = train(task, spec.train_config())
    except Exception as err:  # one failed trial must not end a study: it becomes an "error" row
        row.update(status="error", error=f"{type(err).__name__}: {err}", wall_time_s=time.perf_counter() - start)
        row["traceback"] = traceback.format_exc(limit=3)
        return row
    row.update(metric_name=result.test["metric_name"], test_score=float(result.test["metric"]),
               val_score=float(result.val["metric"]))
    if task.kind == "recall":
        row.update(_r2_by_lag(task.lags, result.test["r2"]))
    row.update(memory_budget(result.net))
    row.update(n_parameters=int(result.net.n_parameters()), seq_len=int(task.length), steps=int(result.steps),
               train_time_s=float(result.train_time), wall_time_s=float(result.wall_time))
    return row
