"""Predict, then reveal: "which class is this series?", answered by a real-data model, with what it used.

The student sees a test series of the model's task (one the model never trained on), guesses its
class, and on Reveal gets the true class, the model's answer with its confidence, and what the model
used: each time step's share of the decision and the input windows the first layer's memory kept at
the step that weighed most (:mod:`multires.analysis.explain`). Shown for classifiers of tasks whose test
series the app can load (the shipped GunPoint models); other models skip the question.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from multires.analysis.explain import explain_prediction, kept_windows
from multires.figures.explain import decision_figure
from ui import defaults
from ui.charts import show
from ui.reveal import predict_then_reveal, reset, verdict  # the shared predict-then-reveal component
from ui.safe_text import plain

__all__ = ["class_question"]


def _next(key: str, n: int) -> None:
    st.session_state[f"{key}_index"] = (st.session_state.get(f"{key}_index", 0) + 7) % n
    reset(key)


def _answer_line(entry: Any, series: np.ndarray, why: Any, truth: int, words: list[str]) -> str:
    """The model's answer in one line; a seed ensemble answers with all its models (the library's predict path:
    probabilities averaged), and the line says which member the chart below explains."""
    if entry.n_members == 1:
        return (f"The model says {words[why.predicted]} ({100 * why.probabilities[why.predicted]:.0f} % sure): "
                f"{'right' if why.predicted == truth else 'wrong'}.")
    from multires.training.inference import predict_proba

    probabilities = predict_proba(entry.model, series[None], normalize="none")[0]  # already normalised as in training
    said = int(probabilities.argmax())
    return (f"The {entry.n_members} models of the ensemble together say {words[said]} "
            f"({100 * probabilities[said]:.0f} % sure): {'right' if said == truth else 'wrong'}. Below, what the member "
            f"shown used; on its own it says {words[why.predicted]}.")


def class_question(entry: Any, key: str) -> None:
    """Draw the question for ``entry`` (a ``ui.models.ModelEntry``); nothing for models it does not fit."""
    task = str((entry.metrics or {}).get("task") or "")
    if entry.config.head != "pool" or entry.config.d_output < 2 or not task.startswith("ucr:"):
        return
    found = defaults.task_series(task, int((entry.metrics or {}).get("data_seed", defaults.DATA_SEED)))
    if found is None or found[0].shape[1] != entry.config.seq_len:
        return
    x, y, names = found
    index = st.session_state.get(f"{key}_index", 0) % len(x)
    series = x[index]
    words = [defaults.class_words(task, n) for n in names]
    st.subheader("Which class is this series?")
    st.caption(plain(f"Test series {index} of {defaults.TASK_WORDS.get(task, task)}: the model never saw it in "
                     "training."))
    st.line_chart(series, height=180, x_label="time step", y_label="value (normalised)")
    answer = predict_then_reveal(key, list(range(len(names))), prompt="Your guess, before the model's:",
                                 format_func=lambda i: words[i], context=(entry.name, index))
    st.button("Another series", key=f"{key}_next", on_click=_next, args=(key, len(x)))
    if not answer.shown:
        return
    why = explain_prediction(entry.net, series)
    truth = int(y[index])
    if answer.guess is None:
        st.info(plain(f"It is {words[truth]}."), icon=":material/info:")
    else:
        verdict(answer.guess == truth, plain(f"It is {words[truth]}; you said {words[answer.guess]}."))
    st.markdown(plain(_answer_line(entry, series, why, truth, words)))
    n = why.decisive_step
    windows = kept_windows(entry.net, 0, 0, n)
    show(decision_figure(series, why.steps, windows, n, words[why.predicted]), key=f"{key}_figure")
    st.caption(plain(f"Bottom: how much each time step pushed the decision towards {words[why.predicted]} (blue) or "
                     f"away from it (grey); the steps add up to the model's margin. Top: at the step that pushed "
                     f"hardest (n = {n}, dashed), the first layer's memory keeps {len(windows)} numbers per channel; "
                     "each bar is the stretch of the series one of them summarises (channel 0 shown): fine levels "
                     "a few recent samples, coarse levels long stretches of the past."))
