"""Training: one ``train()`` for the app, the CLI, ``torchrun`` and Ray.

``config`` (``TrainConfig`` and presets, no torch), ``loop`` (``train``, ``build_model``), ``recipe``
(``fit``: cross-validation, refit, seed ensembles; what the CLI runs), ``ensemble`` (one model of
several seeds, one file), ``augment`` (series augmentation), ``device``, ``diagnostics`` (under-training),
``optimization`` (AdamW groups, warm-up + cosine schedule), ``evaluation`` (scores), ``history``
(what a run reports), ``distributed`` (DDP hooks), ``inference`` (``predict``), ``runcost`` (a run's
memory and time, estimated before it starts), ``threads`` (the CPU thread policy) and ``cli``
(``python -m multires.training``). Names are imported on first use, so importing this package (or
its light modules) does not import PyTorch.
"""

from __future__ import annotations

from .._lazy import attach

_EXPORTS: dict[str, str] = dict.fromkeys(
    ["BN_FORGET", "EVAL_GAP", "PRESETS", "SELECTION_SNAPSHOTS", "TRAIN_LIMITS", "TRAIN_PRESETS", "DistributedHooks",
     "Progress", "SelectionSnapshot", "TrainConfig", "TrainHistory", "TrainResult", "TrainingError", "TrainingWarning",
     "build_model", "evaluate", "train", "versions"], "loop")
_EXPORTS.update(dict.fromkeys(["CV_MAX_SERIES", "RecipePlan", "RecipeResult", "RunRefused", "check_plan", "fit",
                               "plan_run", "recalibrate_batchnorm"], "recipe"))
_EXPORTS.update(dict.fromkeys(["MultiresEnsemble", "load_model", "save_model"], "ensemble"))
_EXPORTS.update(dict.fromkeys(["DeviceError", "resolve_device"], "device"))

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
