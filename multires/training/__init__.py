"""Training: one ``train()`` for the app, the CLI, ``torchrun`` and Ray.

``config`` (``TrainConfig`` and presets, no torch), ``loop`` (``train``), ``runstate`` (what a run
tracks: curves, best epoch, learned selection, when it stops), ``recipe`` (``fit``: cross-validation,
refit, seed ensembles; what the CLI runs), ``crossval`` (the recipe's protocol and its folds),
``plan`` (the recipe's sub-runs and their time, before it starts), ``batchnorm`` (when running
statistics can have converged; recomputing them), ``ensemble`` (one model of several seeds, one
file), ``augment`` (series augmentation), ``device``, ``diagnostics`` (under-training, misleading
scores), ``optimization`` (AdamW groups, warm-up + cosine schedule), ``evaluation`` (scores), ``history``
(what a run reports), ``distributed`` (DDP hooks), ``inference`` (``predict``), ``runcost`` (a run's
memory and time, estimated before it starts), ``calibrate`` (a few real steps timed for that
estimate), ``threads`` (the CPU thread policy) and ``cli``
(``python -m multires.training``). Names are imported on first use, so importing this package (or
its light modules) does not import PyTorch.
"""

from __future__ import annotations

from .._lazy import attach

_EXPORTS: dict[str, str] = {
    "train": "loop",
    "SELECTION_SNAPSHOTS": "runstate",
    **dict.fromkeys(["BN_FORGET", "recalibrate_batchnorm"], "batchnorm"),
    "EVAL_GAP": "diagnostics",
    **dict.fromkeys(["TRAIN_PRESETS", "TrainConfig", "preset_values"], "config"),
    **dict.fromkeys(["Progress", "SelectionSnapshot", "TrainHistory", "TrainResult", "TrainingError", "TrainingWarning"],
                    "history"),
    "DistributedHooks": "distributed",
    "evaluate": "evaluation",
    **dict.fromkeys(["RecipeResult", "fit"], "recipe"),
    "CV_MAX_SERIES": "crossval",
    **dict.fromkeys(["RecipePlan", "RunRefused", "check_plan", "plan_run"], "plan"),
    **dict.fromkeys(["MultiresEnsemble", "load_model", "save_model"], "ensemble"),
    **dict.fromkeys(["DeviceError", "resolve_device"], "device"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
