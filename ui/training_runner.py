"""Training in the app, the session's side: check and start a run, find it again, collect its models.

:func:`start` refuses a run over the app's bounds: a run of this session still going (at most one
per session), a time bound over :data:`APP_MAX_SECONDS` per seed, or an estimate
(:func:`multires.training.runcost.check_budget`: peak memory, one step's time, the final scoring)
over the budget of :mod:`multires.options`, saying what to reduce; so one step takes at most about
:data:`~multires.options.MAX_STEP_SECONDS` and every way of ending a run acts within seconds. It keeps the
:class:`~ui.training_run.TrainingRun` in ``st.session_state`` and hands it to
:func:`ui.training_run.launch` (the background thread, its watcher and the server's line).
:func:`collect_finished` turns a finished run into session models on the script thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from multires.plaintext import short

from . import train_data
from .models import ModelEntry, add_session_model
from .training_run import TrainingRun, launch

if TYPE_CHECKING:  # imported where used: app.py imports this module on every page, torch-free
    from multires.data.tasks import TaskData
    from multires.training import TrainConfig, TrainResult
    from multires.training.runcost import RunCost

__all__ = [
    "APP_MAX_SECONDS",
    "MAX_SEEDS",
    "RESULTS_MODEL_KEY",
    "add_uploaded_checkpoint",
    "collect_finished",
    "current_run",
    "entry_from_result",
    "estimate",
    "model_name",
    "start",
]

#: Upper bound of one seed's training time in the app (seconds).
APP_MAX_SECONDS = 300.0
#: Seeds one run may train (one after the other).
MAX_SEEDS = 5
#: Longest model name taken from an uploaded file's name (names fill pickers and messages).
MAX_MODEL_NAME = 80
#: The Train page's Results tab's model picker: a collected run's last model is shown there.
RESULTS_MODEL_KEY = "train_result_model"

_SESSION_KEY = "training_run"


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.session_id


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
        A task built by the page (an uploaded dataset); default: :func:`ui.train_data.cached_task`.
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
    cost, refusal = estimate(config, task if task is not None else train_data.cached_task(task_name))
    if refusal is not None:
        return None, refusal
    run = TrainingRun(model_name(task_name, config), task_name, config, _session_id(), task=task, seeds=seeds,
                      cost=cost)
    st.session_state[_SESSION_KEY] = run
    launch(run)
    return run, None


def entry_from_result(name: str, result: TrainResult) -> ModelEntry:
    """A session model from a finished run: metrics as a checkpoint stores them, full curves in ``extra``."""
    return ModelEntry(
        name, result.net, result.metrics(), "trained",
        extra={"history": result.history, "selection_history": result.selection_history},
    )


def collect_finished() -> TrainingRun | None:
    """If this session's run has finished and not been collected yet, add its models to the session.

    Every finished seed becomes one model (the last one is selected, in the sidebar and in the Train page's
    Results tab). Returns the run that was just collected, else None.
    """
    run = current_run()
    if run is None or run.active or run.collected:
        return None
    run.collected = True
    for result in run.results:
        wanted = model_name(run.task_name, result.config)
        run.names.append(add_session_model(entry_from_result(wanted, result)))
    if run.names:
        run.name = run.names[-1]
    if run.result is not None:
        st.session_state[RESULTS_MODEL_KEY] = run.name
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
    entry = ModelEntry(stem or "uploaded", net, dict(metrics or {}), "uploaded")
    return add_session_model(entry), None
