"""The Train page's data side: which tasks it offers, their recommended recipes, and uploaded datasets.

Nothing here draws; the page calls these and shows the results. Tasks are loaded through
:func:`cached_task` (once per server, read-only); an uploaded pair of files
becomes a task of this session only (kept in ``st.session_state``, never shared).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from ui.upload_worker import UploadCheckError, read_dataset

if TYPE_CHECKING:
    from multires.data.tasks import TaskData

__all__ = [
    "TASK_SEED",
    "UPLOAD",
    "Recipe",
    "cached_task",
    "dataset_summary",
    "examples",
    "measured_baselines",
    "recipe_for",
    "task_choices",
    "task_label",
    "uploaded_task",
]

#: Baseline accuracies measured by the shipped study (MiniRocket, 1-NN DTW per dataset), if shipped.
BASELINES_CSV = Path(__file__).resolve().parent.parent / "assets" / "studies" / "baselines.csv"
#: The task picker's entry for the user's own files.
UPLOAD = "your own dataset"
_UPLOAD_KEY = "train_uploaded_task"  # session_state: (digest, TaskData | None, error | None, attempt | None)
#: Every task is split with this seed, so models trained here share the shipped models' test split.
TASK_SEED = 0


@functools.lru_cache(maxsize=4)
def cached_task(name: str) -> TaskData:
    """The named task's tensors, loaded once per server (read-only, shared by every session and run).

    Large tasks (sequential MNIST, the longer UCR sets) take seconds to build; nothing here or in
    :func:`multires.training.train` writes into a task's tensors.
    """
    from multires.data.tasks import load_task

    return load_task(name, seed=TASK_SEED)


@dataclass(frozen=True)
class Recipe:
    """The widgets' starting values for a task: a run that ends in about a minute on one core."""

    d_model: int
    n_layers: int
    epochs: int
    seconds: int  # the time bound (TrainConfig.max_seconds)
    expect: str  # what accuracy to expect, measured, for the page


_DEFAULT = Recipe(48, 2, 15, 60, "")
_RECIPES: dict[str, Recipe] = {  # ``expect``: measured on this project's 2-core machine while it was busy
    "digits": Recipe(48, 2, 15, 60, "The shipped digits-fading-haar (48×2, the trainer's defaults) scores 0.992 "
                                   "test accuracy."),
    "smnist": Recipe(16, 2, 3, 60, "Default recipe (16×2, fading, Haar, 60 s) on a busy 2-core machine: 0.67 test "
                                   "accuracy (101 steps), about 90 s in all with scoring; width 32 reached 0.74 in "
                                   "the same bound but took 3 minutes."),
    "psmnist": Recipe(16, 2, 3, 60, "Default recipe (16×2, fading, Haar, 60 s): 0.41 test accuracy (515 steps on a "
                                    "quieter machine): permuting the pixels removes the local structure."),
    "ucr:GunPoint": Recipe(48, 2, 15, 60, "Default recipe (48×2, fading, Haar, 60 s) on a busy 2-core machine: 0.933 "
                                          "test accuracy (seed 0; the time bound stopped it after 125 of its 300 "
                                          "planned steps)."),
}


def recipe_for(task_name: str) -> Recipe:
    """Starting values for ``task_name`` (other UCR datasets and uploads: the trainer's defaults, 60 s).

    >>> recipe_for("smnist").d_model, recipe_for("ucr:OSULeaf").seconds
    (16, 60)
    """
    return _RECIPES.get(task_name, _DEFAULT)


def task_choices() -> list[str]:
    """Task names the picker offers: bundled UCR datasets (GunPoint first), sequential MNIST, the built-ins.

    Names are what :func:`multires.data.tasks.load_task` accepts; :data:`UPLOAD` comes last.
    """
    from multires.data.tasks import UCR_DATASETS, UCR_PREFIX
    from multires.options import TASK_NAMES

    ucr = sorted((UCR_PREFIX + name for name in UCR_DATASETS), key=lambda n: n != UCR_PREFIX + "GunPoint")
    mnist = [n for n in ("smnist", "psmnist") if n in TASK_NAMES]
    rest = [n for n in TASK_NAMES if n not in mnist]
    return ucr[:1] + mnist + ucr[1:] + rest + [UPLOAD]


def task_label(name: str) -> str:
    """How the picker shows a task name."""
    labels = {"smnist": "sequential MNIST (784 pixels)", "psmnist": "permuted sequential MNIST",
              "digits": "digits (8×8, 64 pixels)", "signals": "signals (Donoho–Johnstone)",
              "memory": "memory (recall white noise)",
              "memory-independent": "memory, one independent input per channel",
              "distant-windows": "distant windows (which far stretch of noise is higher?)", UPLOAD: "your own dataset (upload two files)…"}
    if name.startswith("ucr:"):
        return f"{name[4:]} (UCR)"
    return labels.get(name, name)


def uploaded_task(train: tuple[bytes, str], test: tuple[bytes, str],
                  attempt: object = None) -> tuple[TaskData | None, str | None]:
    """Build (once per pair of files) a task from an uploaded train and test file; never raises.

    Parameters
    ----------
    train, test : (bytes, filename)
        UCR-format files: ``.tsv``/``.csv`` with the label in the first column, or aeon ``.ts``
        (parsed by :func:`multires.data.tasks.task_from_files` in a worker process, :mod:`ui.upload_worker`).
    attempt : hashable, optional
        Which upload of these files this is (the uploads' file ids): a check that could not finish
        (too slow, its worker stopped) is tried again for a new upload of the same files, not on a rerun.

    Returns
    -------
    (task, None), or (None, message) when the files cannot make a task (ragged, non-numeric,
    single-class, oversized, ...) or could not be checked; the session's models and choices are
    untouched either way.
    """
    from multires.data.tasks import DatasetError

    digest = hashlib.sha256(b"\0".join([train[0], test[0], train[1].encode(), test[1].encode()])).hexdigest()
    cached = st.session_state.get(_UPLOAD_KEY)
    if cached is not None and cached[0] == digest and cached[3] in (None, attempt):
        return cached[1], cached[2]
    unfinished = None
    try:
        outcome: tuple[TaskData | None, str | None] = (read_dataset(train, test, seed=0), None)
    except DatasetError as err:
        outcome = (None, str(err))
    except UploadCheckError as err:
        outcome, unfinished = (None, str(err)), attempt
    st.session_state[_UPLOAD_KEY] = (digest, *outcome, unfinished)
    return outcome


def dataset_summary(task: TaskData) -> dict[str, Any]:
    """Sizes the page shows: series per split, length, classes (or recall lags)."""
    return {
        "train": int(task.x_train.shape[0]), "validation": int(task.x_val.shape[0]),
        "test": int(task.x_test.shape[0]), "length": task.length, "channels": task.channels_in,
        "classes": task.n_classes if task.kind == "classify" else 0, "kind": task.kind,
    }


def examples(task: TaskData, per_class: int = 3, max_classes: int = 5) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A few training series of each of the first classes: ``(x (n, length), y (n,), class names)``."""
    x = task.x_train[:, 0, :].numpy()  # read-only view of the cached tensor, not modified
    if task.kind != "classify":
        return x[:per_class].copy(), np.zeros(min(per_class, len(x)), dtype=int), ["(recall task)"]
    y = task.y_train.numpy()
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(min(task.n_classes, max_classes))])
    return x[keep].copy(), y[keep].copy(), list(task.class_names)


@st.cache_data(show_spinner=False, max_entries=4)
def _baselines_table(path: str, modified: float) -> Any:
    """The shipped baselines table, validated (re-read when the file changes)."""
    from multires.study.results import read_baselines

    return read_baselines(path)


def measured_baselines(task_name: str) -> dict[str, float]:
    """Mean baseline accuracies on ``task_name`` from :data:`BASELINES_CSV`, or {} (never invented numbers).

    Read with :func:`multires.study.results.read_baselines` and averaged over seeds with
    :func:`multires.study.results.baseline_levels`.
    """
    if not BASELINES_CSV.is_file():
        return {}
    try:
        return dict(_levels(str(BASELINES_CSV), BASELINES_CSV.stat().st_mtime, task_name))
    except OSError:
        return {}


@st.cache_data(show_spinner=False, max_entries=64)
def _levels(path: str, modified: float, task_name: str) -> dict[str, float]:
    """:func:`measured_baselines` of one version of the file, kept: pages ask on every rerun."""
    from multires.study.results import StudyResultsError, baseline_levels

    try:
        return baseline_levels(_baselines_table(path, modified), task_name)
    except StudyResultsError:
        return {}
