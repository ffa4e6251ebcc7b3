"""What the explorer pages open on: a model trained on real data, and real input series of its task.

The Filters, Coefficient tree, TREESELECT and Compare pages start on a GunPoint model (UCR archive:
150-sample recordings of a hand drawing a gun or pointing a finger) and on GunPoint test series,
with a one-line note of what the model learned from and how it scored. The toy models (digits,
memory, signals) and the built-in signals stay one pick away. A copy of the app without the GunPoint
models (or without aeon's bundled data) falls back to the digits model and the ECG signal.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import streamlit as st

__all__ = [
    "CLASS_WORDS",
    "DEFAULT_TASK",
    "FALLBACK_MODEL",
    "FALLBACK_SIGNAL",
    "REAL_LEARNED_MODEL",
    "REAL_MODEL",
    "TASK_WORDS",
    "default_learned_model",
    "default_model",
    "default_signal",
    "model_note",
    "real_series",
    "real_signal_names",
    "task_series",
]

#: The model a new session starts on: GunPoint, the paper's default layer (fading, Haar init, learned filters).
REAL_MODEL = "gunpoint-fading-haar"
#: The learned-selection model TREESELECT opens on when the sidebar's model has none.
REAL_LEARNED_MODEL = "gunpoint-learned9-haar"
#: The task of the default model and series; Compare opens on it.
DEFAULT_TASK = "ucr:GunPoint"
FALLBACK_MODEL = "digits-fading-haar"
FALLBACK_LEARNED_MODEL = "digits-learned8-haar"
FALLBACK_SIGNAL = "ECG"
#: Split seed of the shipped models' data (scripts/make_pretrained.py TASK_SEED).
DATA_SEED = 0

#: What each task is, in plain words (the model note's first half).
TASK_WORDS: dict[str, str] = {
    "ucr:GunPoint": "GunPoint: recordings of a hand's position while an actor draws a gun from a holster or points "
                    "a finger (150 samples each)",
    "ucr:ItalyPowerDemand": "ItalyPowerDemand: a day of Italian electricity demand (24 hourly values), winter or summer",
    "ucr:ArrowHead": "ArrowHead: outlines of arrowheads read as a series, three types",
    "digits": "8x8 pictures of handwritten digits read pixel by pixel (64 samples)",
    "memory": "white noise, asked to recall the value 1 to 128 steps back",
    "signals": "eight kinds of synthetic test signals (1024 samples)",
    "psmnist": "handwritten digits read pixel by pixel in a fixed shuffled order (784 samples)",
    "smnist": "handwritten digits read pixel by pixel (784 samples)",
}
#: Class names of the UCR archive's GunPoint ("1" = Gun-Draw, "2" = Point, the archive's description).
CLASS_WORDS: dict[str, dict[str, str]] = {"ucr:GunPoint": {"1": "gun drawn", "2": "finger pointed"}}


def default_model(models: Mapping[str, Any]) -> str | None:
    """The real-data model if shipped, else the digits model, else the first model."""
    for name in (REAL_MODEL, FALLBACK_MODEL):
        if name in models:
            return name
    return next(iter(models), None)


def default_learned_model(options: list[str]) -> int:
    """Index in ``options`` of the model TREESELECT opens on (a learned selection on real data first)."""
    for name in (REAL_LEARNED_MODEL, FALLBACK_LEARNED_MODEL):
        if name in options:
            return options.index(name)
    return 0


def model_note(entry: Any) -> str:
    """One plain line: what the model was trained on and its test score, e.g. for a page's caption."""
    metrics = entry.metrics or {}
    task = str(metrics.get("task") or "")
    what = TASK_WORDS.get(task, task or "an unrecorded task")
    score = metrics.get("test_metric")
    if score is None:
        scored = "no test score recorded"
    elif metrics.get("metric_name") == "accuracy":
        scored = f"{100 * float(score):.1f} % of its test series classified right"
    else:
        scored = f"test R² {float(score):.2f}"
    source = {"shipped": "Shipped model", "trained": "Your model", "uploaded": "Uploaded model"}.get(entry.source, "Model")
    members = int(getattr(entry, "n_members", 1))
    if members > 1:
        source += f" (an ensemble of {members} models, scored together)"
    return f"{source} trained on {what}; {scored}."


@st.cache_resource(show_spinner=False, max_entries=4)
def task_series(task: str, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None:
    """Test series ``(n, length)``, labels and class names of a shipped model's task (None if unavailable)."""
    from multires.data.tasks import load_task

    try:
        data = load_task(task, seed=seed)
    except Exception:  # aeon (and its bundled data) missing: the app keeps working on built-in signals
        return None
    if data.kind != "classify" or data.x_test.shape[1] != 1:
        return None
    return data.x_test[:, 0].double().numpy(), data.y_test.numpy(), tuple(data.class_names)


def class_words(task: str, name: str) -> str:
    """A class in plain words (GunPoint's "1" is "gun drawn"), else its own name."""
    return CLASS_WORDS.get(task, {}).get(str(name), str(name))


def real_signal_names() -> list[str]:
    """Signal-picker entries for real series: the first GunPoint test series of each class."""
    found = task_series(DEFAULT_TASK)
    if found is None:
        return []
    _x, y, names = found
    out = []
    for label, name in enumerate(names):
        index = np.flatnonzero(y == label)
        if index.size:
            out.append(f"GunPoint: {class_words(DEFAULT_TASK, name)} (test series {int(index[0])})")
    return out


def real_series(signal_name: str) -> np.ndarray | None:
    """The values of a :func:`real_signal_names` entry (None for any other name)."""
    if signal_name not in real_signal_names():
        return None
    found = task_series(DEFAULT_TASK)
    index = int(signal_name.rsplit("test series ", 1)[1].rstrip(")"))
    return found[0][index].copy()


def default_signal() -> str:
    """The signal a new session starts on: a real GunPoint gesture when available, else ECG."""
    names = real_signal_names()
    return names[0] if names else FALLBACK_SIGNAL
