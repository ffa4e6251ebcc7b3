"""The study's charts as one self-contained HTML file: what ``python -m multires.study`` writes last.

First the four questions (:mod:`multires.study.questions`): each comparison's paired difference with
its 95 % interval (paired t over seeds), marked resolved or "no difference resolved", and the plain
sentences that name a winner only where the interval excludes zero. Then one section per task: test score vs distinct coefficients per layer for each TREESELECT rule with its
Pareto front, and learned vs frozen-wavelet vs random filters with ranges over seeds; measured
baselines (MiniRocket, 1-NN DTW) as reference lines where a baselines table has the task.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..figures.study import budget_figure, difference_figure, init_figure, lag_difference_figure
from ..plaintext import plain_figure, short
from .questions import QUESTIONS, answer_all, summary
from .results import baseline_levels, read_baselines
from .stats import MIN_SEEDS

__all__ = ["SHIPPED_BASELINES", "write_charts"]

#: The baselines measured for the shipped studies (``benchmarks/bench_real.py`` writes it).
SHIPPED_BASELINES = Path(__file__).resolve().parents[2] / "assets" / "studies" / "baselines.csv"


def write_charts(table: pd.DataFrame, out_dir: str | Path, baselines: str | Path | None = SHIPPED_BASELINES) -> Path:
    """Write ``out_dir/charts.html`` with the Pareto and init charts of every task in ``table``.

    Parameters
    ----------
    table : DataFrame
        A study results table (:func:`~multires.study.results.read_results`); failed trials are skipped.
    out_dir : str or Path
        Where ``charts.html`` goes (created if missing).
    baselines : str or Path or None
        A baselines CSV; a missing file or None draws no reference lines (never invented ones).

    Returns
    -------
    Path
        The HTML file (Plotly.js embedded once, so it opens offline).
    """
    finished = table[table["status"] == "ok"] if "status" in table.columns else table
    measured = read_baselines(baselines) if baselines is not None and Path(baselines).is_file() else None
    parts = ["<html><head><meta charset='utf-8'><title>MultiresConv study</title></head><body>",
             "<h1>MultiresConv study</h1><p>Per task: score vs distinct coefficients per layer (ringed: the Pareto "
             "front, settings no setting with as little memory beats by a resolved paired difference), then filter "
             "init. Points are means over seeds, bars the min-max range.</p>"]
    include_js = True  # Plotly.js once, embedded: the file opens offline
    answers = answer_all(finished)
    parts.append("<h2>Four questions, answered with paired 95 % intervals</h2><p>Every configuration ran on the "
                 "same seeds (same splits and folds); each difference is the mean over seeds of the per-seed "
                 "difference, with its paired t-interval (95 %). A difference is <b>resolved</b> when its interval "
                 "excludes zero; otherwise the answer is <b>no difference resolved</b> and no winner is named. "
                 "Points are hundredths of the score (accuracy, or R&sup2; for recall).</p>")
    few = answers[answers["n"] < MIN_SEEDS]
    if not few.empty:
        parts.append(f"<p><b>Note:</b> {len(few)} comparison(s) rest on fewer than {MIN_SEEDS} paired seeds.</p>")
    for key, question in QUESTIONS.items():
        mine = answers[answers["question"] == key]
        parts.append(f"<h3>{html.escape(question.title)}</h3>")
        if question.theory:
            parts.append(f"<p><i>{html.escape(question.theory)}</i></p>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in summary(answers, key)) + "</ul>")
        if mine.empty:
            continue
        figs = [difference_figure(mine, question.title, question.a, question.b)]
        for (task, setting), _ in mine[mine["lag"].notna()].groupby(["task", "setting"], sort=False):
            figs.append(lag_difference_figure(mine, task, setting, question.a, question.b))
        for fig in figs:
            parts.append(fig.to_html(full_html=False, include_plotlyjs=include_js))
            include_js = False
        parts.append(_table_html(mine))
    for task in sorted(finished["task"].unique()):
        levels = baseline_levels(measured, task)
        parts.append(f"<h2>{html.escape(short(task))}</h2>")
        for fig in (budget_figure(finished, task, "distinct", baselines=levels),
                    init_figure(finished, task, baselines=levels)):
            parts.append(plain_figure(fig).to_html(full_html=False, include_plotlyjs=include_js))
            include_js = False
    parts.append("</body></html>")
    path = Path(out_dir) / "charts.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _table_html(rows: pd.DataFrame) -> str:
    """The comparisons as an HTML table: task, setting, score, seeds, difference, interval, outcome."""
    head = ("<table border='1' cellpadding='3' style='border-collapse:collapse'><tr><th>task</th><th>setting</th>"
            "<th>score</th><th>seeds</th><th>difference (points)</th><th>95 % interval</th><th>outcome</th></tr>")
    body = []
    for r in rows.itertuples():
        outcome = "resolved" if r.resolved else "no difference resolved"
        body.append(f"<tr><td>{html.escape(str(r.task))}</td><td>{html.escape(str(r.setting))}</td>"
                    f"<td>{html.escape(str(r.score))}</td><td>{r.n}</td><td>{100 * r.mean:+.1f}</td>"
                    f"<td>{100 * r.low:+.1f} to {100 * r.high:+.1f}</td><td>{outcome}</td></tr>")
    return head + "".join(body) + "</table>"
