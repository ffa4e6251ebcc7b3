"""Studies: sweeps of MultiresConv trials on Ray Tune, with a tidy results table.

``python -m multires.study --grid ucr --out runs/ucr`` runs a grid on a local Ray (or a cluster
with ``--address``), one CPU thread per trial, and writes ``results.csv`` / ``results.parquet``;
running it again with the same ``--out`` skips finished trials. The grid, the single trial and
the table need no Ray: only :func:`run_study` imports it (Ray is in ``requirements-study.txt``, not
in the app's requirements).

Modules: ``grid`` (what to run), ``trial`` (one run -> one row), ``results`` (the table),
``runner`` (Ray Tune).

Examples
--------
>>> from multires.study import all_trials, grid_preset
>>> [t.tree_select for t in all_trials(grid_preset("smoke"))]
['fading', 'uniform']
"""

from __future__ import annotations

from .grid import GRID_PRESETS, all_trials, StudyGrid, TrialSpec, grid_preset, init_label
from ..options import GridPreset
from .results import (
    BASELINE_COLUMNS, BUDGET_COLUMNS, REQUIRED_COLUMNS, StudyResultsError, baseline_levels, pareto_front,
    read_baselines, read_results, summarise, write_results,
)
from ..options import BudgetAxis
from .runner import run_study
from .trial import memory_budget, run_trial

__all__ = [
    "BASELINE_COLUMNS",
    "BUDGET_COLUMNS",
    "BudgetAxis",
    "GRID_PRESETS",
    "GridPreset",
    "REQUIRED_COLUMNS",
    "StudyGrid",
    "StudyResultsError",
    "TrialSpec",
    "all_trials",
    "baseline_levels",
    "grid_preset",
    "init_label",
    "memory_budget",
    "pareto_front",
    "read_baselines",
    "read_results",
    "run_study",
    "run_trial",
    "summarise",
    "write_results",
]
