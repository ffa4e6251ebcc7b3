"""Run a :class:`~multires.study.grid.StudyGrid` on Ray Tune; resumable, one row per trial.

Each trial is a Ray Tune *function trainable* that calls :func:`~multires.study.trial.run_trial`
and reports its row once, with ``{"cpu": 1}`` of resources and one torch thread, so a machine with
``n`` CPUs runs ``n`` trials at a time. Rows are appended to ``results.csv`` / ``results.parquet``
in the output directory as trials finish (a driver-side Tune callback), so an interrupted study
keeps what it finished; trials run seed by seed (one Tune run per seed), so a study stopped early
holds whole seeds of every configuration, which is what the paired comparisons
(:mod:`multires.study.stats`) need, and running the same grid into the same directory again skips every trial
whose key already has a ``status == "ok"`` row (failed trials are retried).

Ray is imported here only, inside :func:`run_study`.
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

__all__ = ["RAY_CONNECT_TIMEOUT_S", "check_ray_address", "run_study"]

REPO_ROOT = Path(__file__).resolve().parents[2]
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
) -> pd.DataFrame:
    """Run every unfinished trial of ``grid`` on Ray Tune and return the whole results table.

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
        CPUs of the local Ray (trials run at once); default all of them. Ignored with ``address``.
    verbose : {0, 1, 2}
        Progress display: 0 silent, 1 one line per finished trial (with the time left), 2 also
        Ray Tune's own status tables and the workers' logs.
    log : callable, optional
        Called with one line per finished trial (default: print to stderr; ``verbose=0`` silences it).

    Returns
    -------
    pandas.DataFrame
        Old and new rows, one per trial key.
    """
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
    rows = _run_on_ray(todo, out, existing, address=address, num_cpus=num_cpus, verbose=verbose, log=log)
    table = _merge(existing, rows)
    write_results(table, out)
    return table


def _run_on_ray(todo: list[TrialSpec], out: Path, existing: pd.DataFrame, *, address: str | None,
                num_cpus: int | None, verbose: int, log: Callable[[str], Any]) -> list[dict[str, Any]]:
    import ray  # optional, as in _trainable
    from ray import tune

    spec_fields = set(todo[0].to_dict())
    rows: list[dict[str, Any]] = []

    class _SaveRows(tune.Callback):
        """Append each finished trial's row to the results files at once (resumable studies)."""

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            row = _row_only(result, spec_fields)
            rows.append(row)
            write_results(_merge(existing, rows), out)
            score = row.get("test_score")
            shown = f"{score:.3f}" if isinstance(score, float) else row.get("error", "")
            elapsed = time.perf_counter() - start
            left = elapsed / len(rows) * (len(todo) - len(rows))
            log(f"[{len(rows)}/{len(todo)}, {elapsed:.0f} s, ~{left:.0f} s left] {row['task']} {row['tree_select']} M={row['memory_size']} "
                f"{row['init']} d={row['d_model']} seed={row['seed']}: {row['status']} {shown} "
                f"({row.get('wall_time_s', 0):.1f} s)")

    start = time.perf_counter()
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
    return rows
