"""The study's charts as one self-contained HTML file: what ``python -m multires.study`` writes last.

One section per task: test score vs distinct coefficients per layer for each TREESELECT rule with its
Pareto front, and learned vs frozen-wavelet vs random filters with ranges over seeds; measured
baselines (MiniRocket, 1-NN DTW) as reference lines where a baselines table has the task.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..figures.study import budget_figure, init_figure
from .results import baseline_levels, read_baselines

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
             "<h1>MultiresConv study</h1><p>Per task: score vs distinct coefficients per layer (Pareto front "
             "dotted), then filter init. Points are means over seeds, bars the min-max range.</p>"]
    include_js = True  # Plotly.js once, embedded: the file opens offline
    for task in sorted(finished["task"].unique()):
        levels = baseline_levels(measured, task)
        parts.append(f"<h2>{task}</h2>")
        for fig in (budget_figure(finished, task, "distinct", baselines=levels),
                    init_figure(finished, task, baselines=levels)):
            parts.append(fig.to_html(full_html=False, include_plotlyjs=include_js))
            include_js = False
    parts.append("</body></html>")
    path = Path(out_dir) / "charts.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
