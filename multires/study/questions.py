"""The four questions of a study, answered from its results table with paired intervals.

1. **filters** -- does learning the filters beat keeping them frozen at Haar?
   ``learned from haar`` vs ``frozen haar``, per task and per TREESELECT setting.
2. **init** -- does a wavelet (Haar) start beat a random start (both learned)?
   ``learned from haar`` vs ``learned from random``.
3. **select** -- does learned TREESELECT beat fading and uniform at equal distinct coefficients?
   Learned (filters learned from Haar) against fading and against uniform, each at the learned
   budget whose mean number of distinct coefficients per layer is closest to the other rule's
   (within :data:`BUDGET_TOLERANCE`); both counts are reported.
4. **uniform** -- when does uniform beat fading? Uniform at ``M = J + 1`` against fading (the same
   ``J + 1`` coefficients), per task and filter init; on recall tasks also per lag (``r2_lag_<tau>``),
   where the theory says uniform should win: exact values far back.

Each comparison is a :class:`~multires.study.stats.PairedDifference` of seed-by-seed differences
(paired t-interval, 95 %). :func:`answer` returns one row per comparison; :func:`summary` turns the
rows of one question into plain sentences that name a winner only where the interval excludes zero.

Examples
--------
>>> import pandas as pd
>>> rows = [{"task": "t", "tree_select": "fading", "memory_size": None, "init": init, "d_model": 4,
...          "seed": s, "status": "ok", "test_score": base + 0.01 * s, "distinct_slots_mean": 7.0}
...         for init, base in (("learned from haar", 0.9), ("frozen haar", 0.8)) for s in range(5)]
>>> found = answer(pd.DataFrame(rows), "filters")
>>> found[["task", "setting", "mean", "resolved"]].round(3).to_dict("records")
[{'task': 't', 'setting': 'fading', 'mean': 0.1, 'resolved': True}]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import pandas as pd

from .stats import CONFIDENCE, Method, StudyStatsError, compare_configs, verdict

__all__ = ["BUDGET_TOLERANCE", "QUESTIONS", "Question", "answer", "answer_all", "answers_markdown", "summary"]

#: Largest relative gap of distinct coefficients per layer that still counts as "equal memory" (Q3).
BUDGET_TOLERANCE = 0.25


@dataclass(frozen=True)
class Question:
    key: str
    title: str  # the question, in plain words
    a: str  # what A is, in plain words (the difference is A - B)
    b: str
    theory: str = ""  # what to expect, if anything


QUESTIONS: dict[str, Question] = {q.key: q for q in (
    Question("filters", "Does learning the filters beat keeping them fixed at Haar?",
             "learned filters", "fixed Haar filters"),
    Question("init", "Does starting the filters from a wavelet (Haar) beat a random start?",
             "Haar start", "random start"),
    Question("select", "Does a learned choice of kept coefficients beat fading and uniform with the same "
             "number of distinct coefficients?", "learned choice", "fixed rule"),
    Question("uniform", "When does uniform beat resolution fading?", "uniform", "fading",
             "Theory: uniform keeps exact values far back on an even grid, fading keeps only coarse "
             "summaries of the distant past, so uniform should win where the task needs exact values far back."),
)}

_RULE_WORDS = {"fading": "fading", "uniform": "uniform", "learned": "learned choice"}


def _setting(rule: str, m: Any) -> str:
    return _RULE_WORDS.get(rule, rule) + ("" if _missing(m) else f" M={int(m)}")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _configs(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct configurations (rule, M, init, width) of one task, with their mean distinct budget."""
    cols = ["tree_select", "memory_size", "init", "d_model"]
    return rows.groupby(cols, dropna=False).agg(budget=("distinct_slots_mean", "mean"),
                                                seeds=("seed", "nunique")).reset_index()


def _config(row: pd.Series, task: str) -> dict[str, Any]:
    return {"task": task, "tree_select": row["tree_select"],
            "memory_size": None if _missing(row["memory_size"]) else row["memory_size"],
            "init": row["init"], "d_model": row["d_model"]}


def _pairs(question: str, rows: pd.DataFrame, task: str) -> Iterator[tuple[str, pd.Series, pd.Series]]:
    """(setting label, config A, config B) of ``question`` on one task's rows."""
    configs = _configs(rows)
    by = {(r.tree_select, None if _missing(r.memory_size) else int(r.memory_size), r.init, int(r.d_model)): r
          for r in configs.itertuples(index=False)}
    rows_of = {k: configs.iloc[i] for i, k in enumerate(by)}
    if question in ("filters", "init"):
        other = "frozen haar" if question == "filters" else "learned from random"
        for (rule, m, init, width), row in rows_of.items():
            if init == "learned from haar" and (rule, m, other, width) in rows_of:
                yield _setting(rule, m) + (f", width {width}" if _several(configs, "d_model") else ""), \
                    row, rows_of[(rule, m, other, width)]
    elif question == "uniform":
        for (rule, m, init, width), row in rows_of.items():
            if rule != "fading":
                continue
            same = [r for (r2, m2, i2, w2), r in rows_of.items()
                    if r2 == "uniform" and i2 == init and w2 == width and abs(r["budget"] - row["budget"]) < 0.5]
            for uni in same:
                yield f"{init}, M={int(uni['memory_size'])}" + (f", width {width}" if _several(configs, "d_model") else ""), \
                    uni, row
    elif question == "select":
        for (rule, m, init, width), row in rows_of.items():
            if rule not in ("fading", "uniform") or init != "learned from haar":
                continue
            learned = [r for (r2, m2, i2, w2), r in rows_of.items()
                       if r2 == "learned" and i2 == init and w2 == width]
            if not learned:
                continue
            best = min(learned, key=lambda r: abs(r["budget"] - row["budget"]))
            if abs(best["budget"] - row["budget"]) <= BUDGET_TOLERANCE * row["budget"]:
                yield f"learned M={int(best['memory_size'])} vs {_setting(rule, m)}", best, row
    else:
        raise StudyStatsError(f"unknown question {question!r}; allowed: {', '.join(QUESTIONS)}")


def _several(configs: pd.DataFrame, column: str) -> bool:
    return configs[column].nunique() > 1


def answer(table: pd.DataFrame, question: str, method: Method = "t", confidence: float = CONFIDENCE,
           per_lag: bool = True) -> pd.DataFrame:
    """One row per comparison of ``question`` on every task of ``table`` (finished trials only).

    Columns: ``question``, ``task``, ``setting``, ``score`` (which column: ``test_score`` or
    ``r2_lag_<tau>``), ``lag`` (None for the overall score), ``a``, ``b`` (the two configurations
    in words), ``n`` (paired seeds), ``mean``, ``low``, ``high``, ``sd``, ``method``, ``resolved``,
    ``better`` (``"A"``, ``"B"`` or None), ``a_budget``, ``b_budget`` (mean distinct coefficients
    per layer) and ``verdict`` (a plain sentence from :func:`~multires.study.stats.verdict`).
    Comparisons with fewer than 2 common seeds are left out.
    """
    if question not in QUESTIONS:
        raise StudyStatsError(f"unknown question {question!r}; allowed: {', '.join(QUESTIONS)}")
    q = QUESTIONS[question]
    done = table[table["status"] == "ok"] if "status" in table.columns else table
    out: list[dict[str, Any]] = []
    for task in sorted(done["task"].unique()):
        rows = done[done["task"] == task]
        lag_columns = sorted((c for c in rows.columns if c.startswith("r2_lag_") and rows[c].notna().any()),
                             key=lambda c: int(c.rsplit("_", 1)[1]))
        scores = [("test_score", None)]
        if per_lag and question == "uniform":
            scores += [(c, int(c.rsplit("_", 1)[1])) for c in lag_columns]
        for setting, a, b in _pairs(question, rows, task):
            for score, lag in scores:
                try:
                    diff = compare_configs(rows, _config(a, task), _config(b, task), method=method, score=score,
                                           confidence=confidence)
                except StudyStatsError:
                    continue
                a_words = _RULE_WORDS.get(a["tree_select"], a["tree_select"]) if question in ("select", "uniform") else q.a
                b_words = _RULE_WORDS.get(b["tree_select"], b["tree_select"]) if question in ("select", "uniform") else q.b
                out.append({"question": question, "task": task, "setting": setting, "score": score, "lag": lag,
                            "a": a_words, "b": b_words, **diff.to_dict(),
                            "a_budget": float(a["budget"]), "b_budget": float(b["budget"]),
                            "verdict": verdict(diff, a_words, b_words)})
    columns = ["question", "task", "setting", "score", "lag", "a", "b", "n", "mean", "low", "high", "sd", "method",
               "confidence", "resolved", "better", "a_budget", "b_budget", "verdict"]
    return pd.DataFrame(out, columns=columns)


def answer_all(table: pd.DataFrame, method: Method = "t") -> pd.DataFrame:
    """:func:`answer` for every question, concatenated."""
    parts = [answer(table, key, method=method) for key in QUESTIONS]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else answer(table.iloc[:0], "filters")


def summary(rows: pd.DataFrame, question: str) -> list[str]:
    """Plain sentences for one question's rows (overall scores; per-lag rows summarised apart).

    One sentence per outcome: where A is resolved better (tasks and settings), where B is, and
    where no difference is resolved. Never names a winner for an interval that contains zero.
    """
    q = QUESTIONS[question]
    mine = rows[rows["question"] == question]
    if mine.empty:
        return ["Not answered: the table has no pair of configurations for this question."]
    overall = mine[mine["lag"].isna()]
    lines: list[str] = []
    for better, words in (("A", f"{q.a} resolved better"), ("B", f"{q.b} resolved better")):
        hit = overall[overall["better"] == better]
        if not hit.empty:
            lines.append(f"{words} on " + "; ".join(
                f"{_task_words(r.task)} ({r.setting}: {100 * r.mean:+.1f} points, interval {100 * r.low:+.1f} to "
                f"{100 * r.high:+.1f})" for r in hit.itertuples()) + ".")
    none = overall[~overall["resolved"].astype(bool)]
    if not none.empty:
        lines.append("No difference resolved on " + "; ".join(
            f"{_task_words(r.task)} ({r.setting}: {100 * r.mean:+.1f} points, interval {100 * r.low:+.1f} to "
            f"{100 * r.high:+.1f})" for r in none.itertuples()) + ".")
    lags = mine[mine["lag"].notna()]
    if not lags.empty:
        for (task, setting), group in lags.groupby(["task", "setting"], sort=False):
            a_lags = [int(v) for v in group.loc[group["better"] == "A", "lag"]]
            b_lags = [int(v) for v in group.loc[group["better"] == "B", "lag"]]
            undecided = [int(v) for v in group.loc[~group["resolved"].astype(bool), "lag"]]
            parts = []
            if a_lags:
                parts.append(f"{q.a} recalls better at lags {_lags(a_lags)}")
            if b_lags:
                parts.append(f"{q.b} recalls better at lags {_lags(b_lags)}")
            if undecided:
                parts.append(f"no difference resolved at lags {_lags(undecided)}")
            lines.append(f"Per lag on {_task_words(task)} ({setting}): " + "; ".join(parts) + ".")
    return [line[:1].upper() + line[1:] for line in lines]  # each line is a sentence


def _lags(values: list[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))


def _task_words(task: str) -> str:
    if task.startswith("ucr:"):
        return task[4:]
    return {"memory": "white-noise recall", "psmnist": "permuted sequential MNIST",
            "smnist": "sequential MNIST"}.get(task, task)


def answers_markdown(table: pd.DataFrame, tables: bool = True) -> str:
    """The four answers as markdown: sentences, then (``tables``) one table per question.

    docs/studies.md quotes the whole text and the README the sentences alone (``tables=False``);
    ``scripts/ship_study.py`` writes both from the shipped table and a test checks they still match.
    """
    answers = answer_all(table)
    lines: list[str] = []
    for key, question in QUESTIONS.items():
        lines += [f"**{question.title}**", ""]
        lines += [f"* {line}" for line in summary(answers, key)]
        mine = answers[(answers["question"] == key) & answers["lag"].isna()]
        if tables and not mine.empty:
            lines += ["", "| dataset | setting | seeds | difference (points) | 95 % interval | outcome |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {_task_words(r.task)} | {r.setting} | {r.n} | {100 * r.mean:+.1f} | "
                      f"{100 * r.low:+.1f} to {100 * r.high:+.1f} | "
                      f"{'resolved' if r.resolved else 'no difference resolved'} |" for r in mine.itertuples()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m multires.study.questions results.csv
    import sys

    from .results import read_results

    if len(sys.argv) != 2:
        print("usage: python -m multires.study.questions RESULTS.csv", file=sys.stderr)
        sys.exit(2)
    print(answers_markdown(read_results(sys.argv[1])))
