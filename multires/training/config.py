"""``TrainConfig``: one training run's options (model + optimisation), validated, JSON round-trip.

Torch-free (like :mod:`multires.config`), so the app can build and validate a config before it
imports PyTorch. The architecture fields and their checks are :class:`multires.config.Architecture`'s. Two recipes are named here:

* ``preset="default"`` -- the project's recipe, chosen once on validation splits carved from the
  *training* sets of digits and three UCR datasets (never on test data) and used unchanged on every
  dataset: fading, Haar init, d_model 48, 2 blocks, BatchNorm, batch 16, AdamW lr 0.01 (decay 0.01
  on the dense weights), 5 % warm-up then cosine, at least 15 epochs *and* at least 300 optimizer
  steps, the best validation epoch's weights. The budget is ``epochs`` raised until the run has
  ``min_steps`` steps, so a 50-series dataset trains as long (in steps) as a 3,500-series one.
  :func:`multires.training.fit`'s cross-validation (``protocol`` ``cv``, small data) also chooses
  the tree depth among ``cv_depths`` (3, 5 and the full tree; docs/recipe.md has the numbers);
  ``train()`` itself uses ``depth`` (None: the tree covers the series).
* ``preset="paper"`` -- the official classification recipe of Shi, Wang & Fox (ICML 2023), from
  ``classification.py`` of github.com/thjashin/multires-conv: ``AdamW(model.parameters(), lr=0.01,
  weight_decay=0.01)`` (decay on *all* parameters), 100 epochs of batch 64, a linear warm-up of whole
  epochs (``--warmup``, 1 in ``scripts/listops.sh``) then cosine to 0 (HF's
  ``get_cosine_schedule_with_warmup``), d_model 128, 4 layers, dropout 0.1, LayerNorm, random filter
  init (``--hinit None``), k = 2, and the test score taken at the best validation epoch
  (``val_acc >= best_val_acc``). Its architecture fields (LayerNorm, channel dropout, the official
  init scales) come from ``multires.config.MODEL_PRESETS["paper"]``. Sizes are the official CLI
  defaults (``--d_model 128 --n_layers 4``), not the sCIFAR run's 256 x 10.

Examples
--------
>>> cfg = TrainConfig(tree_select="uniform", memory_size=8, freeze_filters=True)
>>> TrainConfig.from_json(cfg.to_json()) == cfg
True
>>> paper = TrainConfig(preset="paper")
>>> paper.decay, paper.norm, paper.dropout_mode, paper.init, paper.warmup_epochs, paper.min_steps
('all', 'layer', 'channel', 'paper', 1.0, 0)
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from multires.plaintext import quote

from ..checkpoint.jsonconfig import JsonConfig
from ..config import MODEL_PRESETS, Architecture, ModelConfig, check_choice
from ..options import (
    AUGMENTS,
    DECAYS,
    DEVICES,
    PROTOCOLS,
    TRAIN_LIMITS,
    TRAIN_PRESET_NAMES,
    Decay,
    Device,
    DropoutMode,
    InitScheme,
    Norm,
    Protocol,
    TrainPreset,
)
from ..wavelets import check_wavelet_name

__all__ = ["TRAIN_PRESETS", "TrainConfig", "preset_values"]

#: Optimisation side of the named recipes (the architecture side of ``paper`` is merged in from
#: ``multires.config.MODEL_PRESETS`` by :func:`preset_values`). See the module docstring for sources.
TRAIN_PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {
        "wavelet": None, "kernel_size": 2, "d_model": 128, "n_layers": 4, "dropout": 0.1, "norm": "layer",
        "epochs": 100, "min_steps": 0, "batch_size": 64, "lr": 0.01, "weight_decay": 0.01, "decay": "all",
        "warmup_epochs": 1.0, "protocol": "holdout",
    },
    # The paper's model (LayerNorm, channel dropout, random filters, k = 2, AdamW on all parameters)
    # and its protocol (best validation epoch) sized to a 2-core laptop: width 64 instead of 128, batch 32,
    # at least 10 epochs and 300 steps instead of 100 epochs of batch 64.
    "paper-cpu": {
        "wavelet": None, "kernel_size": 2, "d_model": 64, "n_layers": 4, "dropout": 0.1, "norm": "layer",
        "epochs": 10, "min_steps": 300, "batch_size": 32, "lr": 0.01, "weight_decay": 0.01, "decay": "all",
        "warmup_epochs": 1.0, "protocol": "holdout",
    },
    # Long sequences (sMNIST / psMNIST, length 784, J = 10) within 30 minutes on a 2-core laptop, one
    # run on both cores: 3 blocks of width 64, dropout 0.1, batch 32, no selection (protocol "fixed"): all
    # 4,000 training digits for 30 epochs, the last weights, the clock capped at 29 minutes (the learning-rate
    # schedule follows the clock when it is shorter than the planned steps). Chosen on the 500 validation
    # digits of holdout runs (docs/recipe.md): at 34 epochs of 3,500 digits (3,740 steps) validation levelled
    # off from epoch ~25 (best 28); dropout 0.2, with or without weight decay 0.05, scored lower; 30 epochs
    # of 4,000 digits are the same 3,750 steps. benchmarks/bench_long.py measures it.
    "long-cpu": {
        "d_model": 64, "n_layers": 3, "dropout": 0.1, "batch_size": 32, "epochs": 30, "min_steps": 0,
        "max_seconds": 1750.0, "protocol": "fixed",
    },
}

@dataclass
class TrainConfig(Architecture):
    """A training run: the shared architecture fields plus the optimisation; round-trips through JSON.

    The task fills in the rest of the :class:`~multires.ModelConfig` (input channels, outputs,
    sequence length, and the head: ``task.head``, i.e. ``pool`` for classification and ``last`` for
    recall unless the task names its readout); see
    :meth:`model_config`. ``preset`` fills every field left at its default value with the preset's
    value (so ``TrainConfig(preset="paper", lr=3e-3)`` is the paper recipe with another lr). A field
    passed to the constructor *at* its default value cannot be told from one left alone and takes
    the preset's value: :meth:`from_preset` (and :meth:`from_dict`, which fills only the fields a
    dict leaves out) keep every value given, e.g. ``TrainConfig.from_preset("paper", min_steps=300)``.

    The budget: ``steps = max(epochs, ceil(min_steps / steps_per_epoch)) * steps_per_epoch``, i.e.
    whole epochs, at least ``epochs`` of them and at least ``min_steps`` optimizer steps; a
    ``max_seconds`` bound ends the run earlier and the learning-rate schedule follows whichever of
    steps or time runs out first.
    """

    _what: ClassVar[str] = "training config"
    _bounds: ClassVar[dict[str, tuple[int, int]]] = {
        "max_lag": (0, 65536),
        **{name: (low, high) for name, (low, high) in TRAIN_LIMITS.items() if isinstance(low, int) and isinstance(high, int)}}

    d_model: int = 48  # channels of every MultiresConv (the model's own default is 32)
    preset: TrainPreset = "default"  # named recipe filling the fields left at their defaults
    freeze_filters: bool = False  # keep h0, h1 fixed at their init: the fixed-wavelet baseline
    epochs: int = 15  # at least this many passes over the training split
    min_steps: int = 300  # ...and at least this many optimizer steps (more epochs on small data)
    batch_size: int = 16  # samples per optimizer step, summed over all ranks
    lr: float = 0.01  # peak AdamW learning rate (warm-up, then cosine decay to 0)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    decay: Decay = "dense"  # decayed parameters: dense weights only, or all (the paper's)
    warmup_epochs: float | None = None  # linear warm-up length in epochs; None: 5 % of the run
    patience: int | None = None  # early stopping: epochs without a better validation score
    select_best: bool = True  # return the weights of the best validation epoch (else the last)
    seed: int = 0  # initialisation, shuffling and dropout
    max_seconds: float | None = None  # stop (cleanly) after this much training time
    device: Device = "auto"  # cpu, cuda, mps, or auto (an accelerator when present)
    augment: str = "none"  # series augmentation while training: none, or crop/jitter/scale joined by "+"
    label_smoothing: float = 0.0  # cross-entropy label smoothing (classification)
    mixup: float = 0.0  # mixup: batches mixed with lam ~ Beta(mixup, mixup); 0 is off
    protocol: Protocol = "auto"  # fit(): how the budget is chosen (holdout, cv, auto by dataset size)
    folds: int = 5  # fit(): k of the stratified k-fold cross-validation
    cv_depths: str = "3,5,full"  # fit(), protocol cv, depth unset: the tree depths compared ("full": covers the series)
    refit: bool | None = None  # fit(): retrain on the whole training split (None: yes for cv, no for holdout)
    ensemble: int = 1  # fit(): seeds averaged (probabilities) into one model

    def __post_init__(self) -> None:
        if self.preset not in TRAIN_PRESET_NAMES:
            raise ValueError(f"preset must be one of {TRAIN_PRESET_NAMES}, got {quote(self.preset)}")
        if _FILL_PRESET.get():
            for name, value in preset_values(self.preset).items():
                if getattr(self, name) == _FIELD_DEFAULTS[name]:
                    setattr(self, name, value)
        self.validate()

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """A config from a (JSON) dict: its ``preset`` fills only the fields the dict leaves out.

        >>> TrainConfig.from_dict({"preset": "paper", "min_steps": 300}).min_steps
        300
        """
        if not isinstance(data, dict):
            raise ValueError(f"a {cls._what} must be a JSON object, got {type(data).__name__}")
        preset = data.get("preset", "default")
        if preset not in TRAIN_PRESET_NAMES:
            raise ValueError(f"preset must be one of {TRAIN_PRESET_NAMES}, got {quote(preset)}")
        token = _FILL_PRESET.set(False)
        try:
            return super().from_dict({**preset_values(preset), **data})
        finally:
            _FILL_PRESET.reset(token)

    @classmethod
    def from_preset(cls, preset: TrainPreset, **overrides: Any) -> TrainConfig:
        """The named recipe with ``overrides`` on top; every override is kept as given.

        >>> TrainConfig.from_preset("paper", min_steps=300, batch_size=16).min_steps
        300
        """
        return cls.from_dict({**overrides, "preset": preset})

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed."""
        self._check_integers(("epochs", "min_steps", "batch_size", "seed", "patience", "folds", "ensemble"),
                             optional=("patience",))
        self.validate_architecture()
        for name in ("lr", "weight_decay", "max_seconds", "warmup_epochs", "label_smoothing", "mixup"):
            value = getattr(self, name)
            if value is None and name in ("max_seconds", "warmup_epochs"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {quote(value)}")
            low, high = TRAIN_LIMITS[name]
            if not low <= value <= high:
                raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {quote(value)}")
        if self.tree_select == "fading" and self.memory_size is not None:
            raise ValueError("fading keeps depth + 1 slots by itself: leave memory_size as None")
        for name in ("freeze_filters", "select_best"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {quote(getattr(self, name))}")
        if self.refit is not None and not isinstance(self.refit, bool):
            raise ValueError(f"refit must be True, False or None, got {quote(self.refit)}")
        _check_depth_list(self.cv_depths)
        check_choice("decay", self.decay, DECAYS)
        check_choice("device", self.device, DEVICES)
        check_choice("protocol", self.protocol, PROTOCOLS)
        parts = self.augment.split("+") if isinstance(self.augment, str) else [None]
        if self.augment != "none" and (not all(p in AUGMENTS for p in parts) or len(set(parts)) != len(parts)):
            raise ValueError(f"augment must be 'none' or some of {AUGMENTS} joined by '+', got {quote(self.augment)}")

    @property
    def transforms_inputs(self) -> bool:
        """True when training batches are not the clean series (augmentation or mixup), so BatchNorm
        statistics gathered while training describe other inputs than the ones the model is scored on.

        >>> TrainConfig().transforms_inputs, TrainConfig(mixup=0.4).transforms_inputs
        (False, True)
        """
        return self.augment != "none" or self.mixup > 0

    def total_epochs(self, steps_per_epoch: int) -> int:
        """Epochs of the full run: ``epochs``, raised so it has at least ``min_steps`` steps.

        >>> TrainConfig().total_epochs(steps_per_epoch=1), TrainConfig().total_epochs(steps_per_epoch=40)
        (300, 15)
        """
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be at least 1, got {steps_per_epoch}")
        return max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))

    def with_values(self, **changes: Any) -> TrainConfig:
        """This config with ``changes``, every value kept as given (``dataclasses.replace`` would let
        the preset refill a field set to its default value).

        >>> import dataclasses
        >>> paper = TrainConfig.from_preset("paper")  # min_steps 0; the default is 300
        >>> paper.with_values(min_steps=300).min_steps, dataclasses.replace(paper, min_steps=300).min_steps
        (300, 0)
        """
        return type(self).from_dict({**self.to_dict(), **changes})

    def for_epochs(self, epochs: int, n_train: int, **changes: Any) -> TrainConfig:
        """This config set to exactly ``epochs`` epochs over ``n_train`` series, as a step count
        (``epochs`` is capped by ``TRAIN_LIMITS``, ``min_steps`` much higher); plus ``changes``.

        >>> config = TrainConfig(batch_size=16).for_epochs(500, n_train=40)
        >>> config.epochs, config.min_steps, config.total_epochs(steps_per_epoch=3)
        (1, 1500, 500)
        """
        return self.with_values(epochs=1, min_steps=epochs * math.ceil(n_train / self.batch_size), **changes)

    def model_config(self, task: Any) -> ModelConfig:
        """The :class:`~multires.ModelConfig` of this run on ``task`` (a ``TaskData``; validated)."""
        return ModelConfig(**{**self.architecture(), "dropout": float(self.dropout)}, d_input=task.channels_in,
                           d_output=task.n_outputs, seq_len=task.length,
                           # a TaskData names its head; a bare shape (the run-cost estimate's) goes by its kind
                           head=getattr(task, "head", None) or ("pool" if task.kind == "classify" else "last"))


def _check_depth_list(text: Any) -> None:
    """``cv_depths``: comma-separated tree depths (integers in ``TRAIN_LIMITS["depth"]``) or ``full``."""
    low, high = TRAIN_LIMITS["depth"]
    parts = text.split(",") if isinstance(text, str) else []
    if not parts or len(set(parts)) != len(parts) \
            or not all(p == "full" or (p.isdigit() and low <= int(p) <= high) for p in parts):
        raise ValueError(f"cv_depths must be distinct tree depths ({low:g}..{high:g}) or 'full' joined by ',', "
                         f"e.g. '4,full'; got {quote(text)}")


_FIELD_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(TrainConfig)}
# False while from_dict builds a config: the dict's own values are kept even when they equal a default.
_FILL_PRESET: ContextVar[bool] = ContextVar("_FILL_PRESET", default=True)


def preset_values(preset: str) -> dict[str, Any]:
    """Field values of a named recipe: :data:`TRAIN_PRESETS` plus ``MODEL_PRESETS`` (architecture).

    >>> preset_values("default")
    {}
    >>> preset_values("paper")["decay"]
    'all'
    """
    if preset not in TRAIN_PRESET_NAMES:
        raise ValueError(f"preset must be one of {TRAIN_PRESET_NAMES}, got {quote(preset)}")
    values = dict(TRAIN_PRESETS[preset])
    architecture = "paper" if preset == "paper-cpu" else preset  # paper-cpu: the paper's model, resized
    for name, value in MODEL_PRESETS.get(architecture, {}).items():
        if name in _FIELD_DEFAULTS and name != "preset":  # "head" is set by the task's kind
            values[name] = value
    return values
