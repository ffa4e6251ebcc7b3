"""Run a :class:`~multires.study.grid.StudyGrid` on Ray Tune (or a local process pool); resumable, one row per trial.

Each trial is a Ray Tune *function trainable* that calls :func:`~multires.study.trial.run_trial`
and reports its row once, with ``{"cpu": 1}`` of resources and one torch thread, so a machine with
``n`` CPUs runs ``n`` trials at a time. Rows are appended to ``results.csv`` / ``results.parquet``
in the output directory as trials finish (a driver-side Tune callback), so an interrupted study
keeps what it finished; trials run seed by seed (one Tune run per seed), so a study stopped early
holds whole seeds of every configuration, which is what the paired comparisons
(:mod:`multires.study.stats`) need, and running the same grid into the same directory again skips every trial
whose key already has a ``status == "ok"`` row (failed trials are retried).

``backend="local"`` (``multires-study --backend local``) runs the same trials with the same
:func:`~multires.study.trial.run_trial` in a pool of ``num_cpus`` spawned processes instead: no
Ray start-up and no Ray daemons, for a laptop where Ray cannot start or keep its node (e.g. under
memory pressure). The rows, the order (seed-major: the pool takes trials first in, first out) and
the resume are the same.

Ray is imported here only, inside :func:`run_study` with the Ray backend.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from multires.plaintext import quote

from .grid import StudyGrid, TrialSpec, all_trials
from .results import read_results, write_results
from .trial import run_trial

__all__ = ["BACKENDS", "RAY_CONNECT_TIMEOUT_S", "check_ray_address", "run_study"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where :func:`run_study` runs trials: Ray Tune (local or a cluster), or a local process pool.
BACKENDS = ("ray", "local")
#: How long :func:`check_ray_address` waits for a cluster's head to accept a connection.
RAY_CONNECT_TIMEOUT_S = 10.0


def check_ray_address(address: str, timeout: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """Refuse a Ray address whose head cannot be reached, within ``timeout`` seconds.

    ``ray.init(address=...)`` retries an unreachable head for minutes, printing only Ray's own logs;
    this opens one TCP connection to ``host:port`` first (``"auto"`` is left to Ray) and says what
    failed. Raises ``ValueError``.

    >>> check_ray_address("no-port-here")
    Traceback (most recent call last):
    ...
    ValueError: --address 'no-port-here' is not HOST:PORT (e.g. 10.0.0.5:6379)
    """

    if address == "auto":
        return
    bare = address.split("://", 1)[1] if "://" in address else address
    host, sep, port_text = bare.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--address {quote(address)} is not HOST:PORT (e.g. 10.0.0.5:6379)")
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout):
            pass
    except socket.gaierror as err:
        raise ValueError(f"cannot reach the Ray cluster at {quote(address)}: the host name does not resolve "
                         f"({err.strerror or err})") from None
    except TimeoutError:
        raise ValueError(f"cannot reach the Ray cluster at {quote(address)}: no answer within {timeout:g} s") from None
    except OSError as err:
        raise ValueError(f"cannot reach the Ray cluster at {quote(address)}: {err.strerror or err}") from None


def _trainable(config: dict[str, Any]) -> None:
    from ray import tune  # Ray is optional (the study extra): imported where a study runs

    tune.report(run_trial(TrialSpec.from_dict(config["spec"]), threads=1))


def _existing(out: Path) -> pd.DataFrame:
    path = out / "results.csv"
    return read_results(path) if path.exists() else pd.DataFrame()


def _merge(existing: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    new = pd.DataFrame(rows)
    if existing.empty:
        return new
    keep = existing[~existing["key"].isin(set(new["key"]))] if not new.empty else existing
    return pd.concat([keep, new], ignore_index=True)


def _row_only(result: dict[str, Any], spec_fields: set[str]) -> dict[str, Any]:
    """Drop Ray Tune's own bookkeeping (``trial_id``, ``time_this_iter_s``, ...) from a report."""
    ours = spec_fields | {"key", "init", "status", "error", "traceback", "metric_name", "test_score", "val_score",
                          "slots_per_channel", "distinct_slots_mean", "distinct_slots_max", "depth",
                          "n_parameters", "seq_len", "steps", "train_time_s", "wall_time_s"}
    return {k: v for k, v in result.items() if k in ours or k.startswith("r2_lag_")}


def run_study(
    grid: StudyGrid | Sequence[StudyGrid],
    out_dir: str | Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    verbose: int = 1,
    log: Callable[[str], Any] | None = None,
    backend: str = "ray",
) -> pd.DataFrame:
    """Run every unfinished trial of ``grid`` on Ray Tune (or a local pool) and return the whole results table.

    Parameters
    ----------
    grid : StudyGrid or sequence of StudyGrid
        What to run (a preset is a tuple of grids; see :func:`~multires.study.grid.grid_preset`).
    out_dir : path
        Where ``results.csv``, ``results.parquet`` and Ray Tune's own logs (``tune/``) go. Rows
        already there with ``status == "ok"`` are kept and their trials skipped.
    address : str, optional
        A running Ray cluster (``"ray://host:10001"`` or ``"auto"``); its workers must have this
        package installed. Default: start a local Ray for this call and stop it afterwards.
    num_cpus : int, optional
        CPUs of the local Ray or the local pool (trials run at once); default all of them. Ignored
        with ``address``.
    verbose : {0, 1, 2}
        Progress display: 0 silent, 1 one line per finished trial (with the time left), 2 also
        Ray Tune's own status tables and the workers' logs.
    log : callable, optional
        Called with one line per finished trial (default: print to stderr; ``verbose=0`` silences it).
    backend : {"ray", "local"}
        Ray Tune (the default), or a pool of ``num_cpus`` local processes (no ``address``).

    Returns
    -------
    pandas.DataFrame
        Old and new rows, one per trial key.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {quote(backend)}")
    if backend == "local" and address is not None:
        raise ValueError("a Ray cluster address needs backend='ray' (the local backend runs on this machine)")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    specs = all_trials(grid)
    for spec in specs:  # a bad config fails here, in the driver, before any Ray start-up
        spec.train_config()
    existing = _existing(out)
    done = set(existing.loc[existing["status"] == "ok", "key"]) if not existing.empty else set()
    # Seed-major order: a study stopped half-way has whole seeds of every setting, not whole tasks.
    todo = sorted((s for s in specs if s.key() not in done), key=lambda s: s.seed)
    if log is None:
        log = (lambda line: print(line, file=sys.stderr, flush=True)) if verbose else (lambda line: None)
    log(f"study: {len(specs)} trials, {len(specs) - len(todo)} already done, {len(todo)} to run -> {out}")
    if not todo:
        return existing
    recorder = _Recorder(todo, out, existing, log)
    if backend == "local":
        _run_locally(todo, recorder, num_cpus=num_cpus)
    else:
        _run_on_ray(todo, out, recorder, address=address, num_cpus=num_cpus, verbose=verbose)
    table = _merge(existing, recorder.rows)
    write_results(table, out)
    return table


class _Recorder:
    """Appends each finished trial's row to the results files at once (resumable) and logs a line."""

    def __init__(self, todo: list[TrialSpec], out: Path, existing: pd.DataFrame, log: Callable[[str], Any]) -> None:
        self.todo, self.out, self.existing, self.log = todo, out, existing, log
        self.fields = set(todo[0].to_dict())
        self.rows: list[dict[str, Any]] = []
        self.start = time.perf_counter()

    def add(self, result: dict[str, Any]) -> None:
        row = _row_only(result, self.fields)
        self.rows.append(row)
        write_results(_merge(self.existing, self.rows), self.out)
        score = row.get("test_score")
        shown = f"{score:.3f}" if isinstance(score, float) else row.get("error", "")
        elapsed = time.perf_counter() - self.start
        left = elapsed / len(self.rows) * (len(self.todo) - len(self.rows))
        self.log(f"[{len(self.rows)}/{len(self.todo)}, {elapsed:.0f} s, ~{left:.0f} s left] {row['task']} "
                 f"{row['tree_select']} M={row['memory_size']} {row['init']} d={row['d_model']} seed={row['seed']}: "
                 f"{row['status']} {shown} ({row.get('wall_time_s', 0):.1f} s)")


def _run_locally(todo: list[TrialSpec], recorder: _Recorder, *, num_cpus: int | None) -> None:
    """The trials in a pool of spawned processes, one torch thread each; first in, first out (seed-major)."""
    import concurrent.futures
    import multiprocessing

    workers = max(1, min(num_cpus or os.cpu_count() or 1, len(todo)))
    context = multiprocessing.get_context("spawn")  # no forked copies of the caller's threads and locks
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(run_trial, spec, 1) for spec in todo]
        for future in concurrent.futures.as_completed(futures):
            recorder.add(future.result())


def _run_on_ray(todo: list[TrialSpec], out: Path, recorder: _Recorder, *, address: str | None,
                num_cpus: int | None, verbose: int) -> None:
    import ray  # optional, as in _trainable
    from ray import tune

    class _SaveRows(tune.Callback):
        """Hands each finished trial's report to the recorder."""

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            recorder.add(result)

    started_here = not ray.is_initialized()
    if started_here:
        env = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
        if address is None:
            # Ray starts its workers at nice 15; on a shared or busy machine they then barely run.
            # A study is the job the user asked for: normal priority unless they set it themselves.
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=verbose > 1,
                     runtime_env={"env_vars": env})
        else:
            ray.init(address=address, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}}, log_to_driver=verbose > 1)
    try:
        # One Tune run per seed, in seed order: Tune does not keep a grid's order across trials, and a study
        # stopped early must hold whole seeds of every configuration (the paired comparisons need them).
        for seed in sorted({s.seed for s in todo}):
            batch = [s.to_dict() for s in todo if s.seed == seed]
            tuner = tune.Tuner(
                tune.with_resources(_trainable, {"cpu": 1}),
                param_space={"spec": tune.grid_search(batch)},
                tune_config=tune.TuneConfig(reuse_actors=True),  # one torch import per worker, not per trial
                run_config=tune.RunConfig(storage_path=str(out / "tune"),
                                          name=f"run-{time.strftime('%Y%m%d-%H%M%S')}-seed{seed}",
                                          verbose=max(verbose - 1, 0), callbacks=[_SaveRows()]),
            )
            tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
