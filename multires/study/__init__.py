"""Studies: sweeps of MultiresConv trials on Ray Tune, with a tidy results table.

``python -m multires.study --grid ucr --out runs/ucr`` runs a grid on a local Ray (or a cluster
with ``--address``), one CPU thread per trial, and writes ``results.csv`` / ``results.parquet``;
running it again with the same ``--out`` skips finished trials. The grid, the single trial and
the table need no Ray: only :func:`run_study` imports it (Ray is in ``requirements-study.txt``, not
in the app's requirements).

Modules: ``grid`` (what to run), ``trial`` (one run -> one row), ``results`` (the table),
``runner`` (Ray Tune), ``stats`` (paired differences over seeds with 95 % paired t-intervals, resolved or
not), ``questions`` (the four questions of the Study page, answered from a table).

Examples
--------
>>> from multires.study import all_trials, grid_preset
>>> [t.tree_select for t in all_trials(grid_preset("smoke"))]
['fading', 'uniform']
"""

from __future__ import annotations

from .._lazy import attach

#: Public name -> the module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["GRID_PRESETS", "StudyGrid", "TrialSpec", "all_trials", "grid_preset", "init_label"], "grid"),
    **dict.fromkeys(["BudgetAxis", "GridPreset"], ".options"),
    **dict.fromkeys(["BASELINE_COLUMNS", "BUDGET_COLUMNS", "REQUIRED_COLUMNS", "StudyResultsError",
                     "baseline_levels", "pareto_front", "read_baselines", "read_results", "summarise",
                     "write_results"], "results"),
    **dict.fromkeys(["QUESTIONS", "answer_all", "answers_markdown"], "questions"),
    **dict.fromkeys(["run_study"], "runner"),
    **dict.fromkeys(["MIN_SEEDS", "PairedDifference", "StudyStatsError", "compare_configs", "paired_difference",
                     "seeds_needed"], "stats"),
    **dict.fromkeys(["memory_budget", "run_trial"], "trial"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
