"""The Study page's four questions: paired differences computed from the shown results table.

Nothing here is a stored result: every sentence, figure and number is computed from the table the
page shows (a shipped study or an upload) by :mod:`multires.study.questions`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from multires.figures.study import difference_figure, lag_difference_figure
from multires.study.questions import QUESTIONS, answer_all, summary
from multires.study.stats import MIN_SEEDS, paired_spread
from ui.charts import show
from ui.figure_cache import HASH_NAMED, Named, cached_figure
from ui.safe_text import plain

__all__ = ["render_answers"]

INTERVAL_WORDS = ("Each answer compares two settings seed by seed: every setting ran on the same seeds, so on the "
                  "same data splits. Shown is the mean difference over seeds with its 95 % interval (a paired "
                  "t-interval over seeds). A difference counts as **resolved** when its interval excludes zero; "
                  "otherwise the answer is **no difference resolved** and no winner is named. Differences are in "
                  "points: hundredths of the test accuracy (or of R² for the recall task).")


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=HASH_NAMED)
def _answers(table: Named) -> pd.DataFrame:
    return answer_all(table.value)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=HASH_NAMED)
def _spread(table: Named) -> pd.DataFrame:
    return paired_spread(table.value)


def render_answers(table: pd.DataFrame, name: tuple) -> None:
    """Draw the four questions' answers for ``table`` (``name`` changes whenever the table does)."""
    named = Named(("answers", *name), table)
    answers = _answers(named)
    st.subheader("Four questions, answered with intervals")
    st.markdown(INTERVAL_WORDS)
    if answers.empty:
        st.info("This table has no pairs of settings run on the same seeds, so none of the questions can be answered "
                "from it.", icon=":material/info:")
        return
    few = int((answers["n"] < MIN_SEEDS).sum())
    if few:
        st.warning(f"{few} of these comparisons rest on fewer than {MIN_SEEDS} seeds: their intervals are wide.",
                   icon=":material/warning:")
    for key, question in QUESTIONS.items():
        mine = answers[answers["question"] == key]
        st.markdown(f"**{question.title}**")
        if question.theory:
            st.caption(question.theory)
        for line in summary(answers, key):
            st.markdown(f"- {plain(line)}")
        if mine.empty:
            continue
        show(cached_figure(difference_figure, Named((*named.name, key), mine), question.title, question.a,
                           question.b), key=f"study_answer_{key}")
        for i, ((task, setting), _) in enumerate(mine[mine["lag"].notna()].groupby(["task", "setting"], sort=False)):
            show(cached_figure(lag_difference_figure, Named((*named.name, key, "lags"), mine), task, setting,
                               question.a, question.b), key=f"study_answer_{key}_lags_{i}")
    with st.expander("Every comparison, and how many seeds the spread calls for"):
        shown = answers.assign(difference=100 * answers["mean"], interval_low=100 * answers["low"],
                               interval_high=100 * answers["high"],
                               outcome=answers["resolved"].map({True: "resolved", False: "no difference resolved"}))
        st.dataframe(shown[["question", "task", "setting", "lag", "n", "difference", "interval_low", "interval_high",
                            "outcome", "a_budget", "b_budget"]]
                     .rename(columns={"n": "seeds", "a_budget": "distinct coefficients (first)",
                                      "b_budget": "distinct coefficients (second)"}),
                     hide_index=True, key="study_answers_table")
        spread = _spread(named)
        if not spread.empty:
            st.caption("Spread of the per-seed differences in this table, and the seeds an interval of ±3 or ±5 points "
                       "would need at that spread: " + "; ".join(
                           f"{plain(r.task)}: {100 * r.paired_sd_median:.1f} points over {r.seeds} seeds, "
                           f"{r.seeds_for_3_points} seeds for ±3, {r.seeds_for_5_points} for ±5"
                           for r in spread.itertuples()) + ".")
