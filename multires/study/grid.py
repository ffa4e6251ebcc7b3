"""What a study runs: one :class:`TrialSpec` per trial, expanded from a :class:`StudyGrid`.

A grid is the cross product task x TREESELECT rule x memory budget x filter init x frozen-or-learned
filters x width x seed. Two rules keep it free of pointless trials: ``fading`` has no budget of its
own (it keeps ``J + 1`` slots, so it runs once per remaining combination, with ``memory_size=None``),
and frozen *random* filters are skipped (a frozen random filter bank is nobody's baseline; "random
init" means learned from a random start).

Every spec has a stable :meth:`TrialSpec.key` (a hash of its fields) that the results table
stores, so a re-run of the same grid into the same directory skips finished trials.

Examples
--------
>>> grid = StudyGrid(tasks=("digits",), tree_selects=("fading", "uniform"), memory_sizes=(4, 8),
...                  inits=("haar",), seeds=(0, 1))
>>> [(t.tree_select, t.memory_size, t.seed) for t in grid.trials()]
[('fading', None, 0), ('fading', None, 1), ('uniform', 4, 0), ('uniform', 4, 1), ('uniform', 8, 0), ('uniform', 8, 1)]
>>> sorted(GRID_PRESETS)
['full', 'memory', 'paired', 'paired-psmnist', 'paired-ucr-long', 'smoke', 'ucr']
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Sequence, get_args

from ..options import GRID_PRESET_NAMES, TREE_SELECTS, GridPreset, TreeSelect
from ..plaintext import quote
from ..training.config import TrainConfig
from ..treeselect import default_depth
from ..wavelets import check_wavelet_name

__all__ = ["GRID_PRESETS", "all_trials", "StudyGrid", "TrialSpec", "grid_preset", "init_label"]

#: Name that stands for random filters in ``StudyGrid.inits`` and in the results table.
RANDOM_INIT = "random"


def init_label(wavelet: str | None, freeze_filters: bool) -> str:
    """How a trial's filters were made, as the Study page groups them.

    >>> init_label("haar", True), init_label("haar", False), init_label(None, False)
    ('frozen haar', 'learned from haar', 'learned from random')
    """
    start = wavelet if wavelet is not None else RANDOM_INIT
    return f"frozen {start}" if freeze_filters else f"learned from {start}"


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a task and a :class:`~multires.training.TrainConfig`, as flat, hashable fields.

    ``task_options`` and ``train_options`` are JSON objects (sorted keys) of extra keyword
    arguments for :func:`~multires.data.tasks.load_task` and :class:`~multires.training.TrainConfig`,
    so specs stay flat table rows while any new option of either can be swept.
    """

    task: str  # a load_task name: "digits", "memory", "ucr:GunPoint", "smnist", ...
    tree_select: TreeSelect  # TREESELECT rule
    memory_size: int | None  # slots per channel M (None for fading: J + 1)
    wavelet: str | None  # filter init (a PyWavelets name) or None for random filters
    freeze_filters: bool  # keep h0, h1 at their init
    d_model: int  # channels per layer
    n_layers: int  # residual blocks
    epochs: int  # training epochs
    max_seconds: float | None  # training time cap per trial (None: no cap)
    seed: int  # model init, shuffling, and the task's own split seed
    task_options: str = "{}"  # JSON: extra load_task keyword arguments
    train_options: str = "{}"  # JSON: extra TrainConfig keyword arguments

    def key(self) -> str:
        """Stable 16-hex-digit hash of every field: the trial's identity in a results table."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def init(self) -> str:
        """:func:`init_label` of this trial."""
        return init_label(self.wavelet, self.freeze_filters)

    def train_config(self) -> TrainConfig:
        """The validated :class:`~multires.training.TrainConfig`."""
        return TrainConfig(
            tree_select=self.tree_select, memory_size=self.memory_size, wavelet=self.wavelet,
            freeze_filters=self.freeze_filters, d_model=self.d_model, n_layers=self.n_layers,
            epochs=self.epochs, max_seconds=self.max_seconds, seed=self.seed,
            **json.loads(self.train_options),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrialSpec":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class StudyGrid:
    """A cross product of trial settings; :meth:`trials` expands it (see the module notes).

    ``inits`` holds PyWavelets names and/or ``"random"``; ``task_options`` maps a task name to
    its extra :func:`~multires.data.tasks.load_task` options; ``train_options`` holds extra
    :class:`~multires.training.TrainConfig` fields shared by every trial.
    """

    tasks: tuple[str, ...]  # load_task names
    tree_selects: tuple[TreeSelect, ...] = TREE_SELECTS  # type: ignore[assignment]
    memory_sizes: tuple[int, ...] = (8,)  # budgets M for uniform and learned
    inits: tuple[str, ...] = ("haar", RANDOM_INIT)  # filter inits
    freeze: tuple[bool, ...] = (False,)  # frozen filters (fixed-wavelet baseline) and/or learned
    d_models: tuple[int, ...] = (16,)  # widths; 1 gives the single-channel network
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # paired: every configuration on every seed
    n_layers: int = 2
    epochs: int = 10
    max_seconds: float | None = None
    task_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    train_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting and what is allowed."""
        for name in ("tasks", "tree_selects", "memory_sizes", "inits", "freeze", "d_models", "seeds"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{name} must be a non-empty tuple, got {quote(value)}")
            if len(set(value)) != len(value):
                raise ValueError(f"{name} has repeated values: {quote(value)}")
        bad = [r for r in self.tree_selects if r not in TREE_SELECTS]
        if bad:
            raise ValueError(f"unknown tree_select {quote(bad[0])}; allowed: {', '.join(TREE_SELECTS)}")
        for name in ("memory_sizes", "d_models", "seeds"):
            low = 0 if name == "seeds" else 1
            for v in getattr(self, name):
                if isinstance(v, bool) or not isinstance(v, int) or v < low:
                    raise ValueError(f"{name} must hold integers >= {low}, got {quote(v)}")
        if any(not isinstance(v, bool) for v in self.freeze):
            raise ValueError(f"freeze must hold True/False, got {quote(self.freeze)}")
        for init in self.inits:
            if init != RANDOM_INIT:
                check_wavelet_name(init)
        unknown = sorted(set(self.task_options) - set(self.tasks))
        if unknown:
            raise ValueError(f"task_options names tasks not in the grid: {unknown}; grid tasks: {list(self.tasks)}")

    def trials(self) -> list[TrialSpec]:
        """Every trial of the grid, in a stable order (task, rule, budget, init, freeze, width, seed)."""
        out: list[TrialSpec] = []
        axes = itertools.product(self.tasks, self.tree_selects, self.memory_sizes, self.inits,
                                 self.freeze, self.d_models, self.seeds)
        for task, rule, budget, init, frozen, width, seed in axes:
            if rule == "fading" and budget != self.memory_sizes[0]:
                continue  # fading has no budget: one trial per other combination
            if init == RANDOM_INIT and frozen:
                continue
            out.append(TrialSpec(
                task=task, tree_select=rule, memory_size=None if rule == "fading" else budget,
                wavelet=None if init == RANDOM_INIT else init, freeze_filters=frozen, d_model=width,
                n_layers=self.n_layers, epochs=self.epochs, max_seconds=self.max_seconds, seed=seed,
                task_options=json.dumps(self.task_options.get(task, {}), sort_keys=True),
                train_options=json.dumps(self.train_options, sort_keys=True),
            ))
        return out


#: The five UCR datasets of the full study: short and easy (ItalyPowerDemand) to long and hard (ACSF1).
UCR_STUDY_TASKS = ("ucr:ItalyPowerDemand", "ucr:GunPoint", "ucr:ArrowHead", "ucr:OSULeaf", "ucr:ACSF1")
#: Series length of each task of the studies (fixes the tree depth J and so fading's J + 1 slots).
STUDY_TASK_LENGTHS = {"ucr:ItalyPowerDemand": 24, "ucr:GunPoint": 150, "ucr:ArrowHead": 251, "ucr:OSULeaf": 427,
                      "ucr:ACSF1": 1460, "psmnist": 784, "memory": 256}
#: Seeds of the paired studies: every configuration runs on every one of them (README: why this many).
PAIRED_SEEDS = tuple(range(10))
#: Learned TREESELECT keeps different slots in different channels, so it holds more distinct coefficients
#: per layer than its M per channel; this M keeps about J + 1 distinct coefficients per layer (measured on
#: the shipped tables: M = 4 holds 9.5-12.8 distinct at J = 5 and 8), the budget of fading and of uniform
#: at M = J + 1. Q3 of the Study page compares at this matched budget.
LEARNED_MATCHED_M = 3

_MEMORY_SIZES = {"n_train": 1000, "n_val": 250, "n_test": 500}


def _fading_budget(task: str) -> int:
    """J + 1 for ``task`` with k = 2: fading's slots, the budget of the equal-memory comparisons."""
    return default_depth(STUDY_TASK_LENGTHS[task], 2) + 1


def paired_grids(tasks: Sequence[str], seeds: tuple[int, ...], *, d_model: int = 16, min_steps: int = 300,
                 max_seconds: float = 600.0, task_options: dict[str, dict[str, Any]] | None = None,
                 n_layers: int = 2, epochs: int = 10) -> tuple[StudyGrid, ...]:
    """The fewest configurations that answer the Study page's four questions on ``tasks``, on the same ``seeds``.

    Per task (``J`` its depth): fading with filters learned from Haar, frozen at Haar and learned from
    random (questions 1 and 2); uniform at ``M = J + 1`` (the same J + 1 distinct coefficients as fading,
    question 4) and learned TREESELECT at :data:`LEARNED_MATCHED_M` (about J + 1 distinct coefficients
    per layer, question 3), both with filters learned from Haar. Five configurations per task; the
    ``full`` preset crosses every rule, budget and init. A step budget (``min_steps``), not a time cap,
    so scores do not depend on how busy the machine was.
    """
    grids = []
    for task in tasks:
        m = _fading_budget(task)
        options = {task: (task_options or {}).get(task, {})} if (task_options or {}).get(task) else {}
        common = dict(tasks=(task,), d_models=(d_model,), seeds=seeds, n_layers=n_layers, epochs=epochs,
                      max_seconds=max_seconds, train_options={"min_steps": min_steps}, task_options=options)
        grids.append(StudyGrid(tree_selects=("fading",), memory_sizes=(m,), inits=("haar", RANDOM_INIT),
                               freeze=(False, True), **common))
        grids.append(StudyGrid(tree_selects=("uniform",), memory_sizes=(m,), inits=("haar",), freeze=(False,),
                               **common))
        grids.append(StudyGrid(tree_selects=("learned",), memory_sizes=(LEARNED_MATCHED_M,), inits=("haar",),
                               freeze=(False,), **common))
    return tuple(grids)


def _memory_grids(seeds: tuple[int, ...]) -> tuple[StudyGrid, ...]:
    """White-noise recall (length 256, J = 8), 8 channels on the shared input: R^2 per lag up to 128."""
    return (StudyGrid(tasks=("memory",), tree_selects=("fading", "uniform"), memory_sizes=(9,), inits=("haar",),
                      freeze=(True, False), d_models=(8,), seeds=seeds, n_layers=1, epochs=8, max_seconds=120.0,
                      task_options={"memory": _MEMORY_SIZES}),)


#: psMNIST's part of the paired study (length 784, J = 10): the same five configurations at width 16, three
#: epochs of the 3,500 training digits (657 steps of 16): a short, fixed step budget, so 10 seeds fit the
#: 2-core machine (about a minute per trial); the scores are those of briefly trained models.
PSMNIST_PAIRED = paired_grids(("psmnist",), PAIRED_SEEDS, epochs=3, min_steps=300, max_seconds=1800.0)
#: The two long UCR sets' part of the paired study (OSULeaf, length 427, J = 9; ACSF1, length 1,460, J = 11):
#: the same five configurations and step budget as the short sets (width 16, 300 steps), on the same seeds; the
#: time cap is only a guard (an hour: an ACSF1 trial takes minutes), so a busy machine does not cut a trial short.
UCR_LONG_PAIRED = paired_grids(UCR_STUDY_TASKS[3:], PAIRED_SEEDS, max_seconds=3600.0)

#: Preset studies; each is one or more grids whose trials run together.
GRID_PRESETS: dict[str, tuple[StudyGrid, ...]] = {
    # Seconds in all: CI and the tests' CLI run.
    "smoke": (StudyGrid(tasks=("memory",), tree_selects=("fading", "uniform"), memory_sizes=(4,), inits=("haar",),
                        d_models=(2,), seeds=(0,), n_layers=1, epochs=1,
                        task_options={"memory": {"length": 32, "lags": [1, 2, 4, 8], "n_train": 64,
                                                 "n_val": 32, "n_test": 64}}),),
    # The paired study shipped as assets/studies/paired.csv (what fit this 2-core machine in about an hour):
    # ItalyPowerDemand, GunPoint and ArrowHead with the four questions' configurations, and white-noise recall for
    # "when does uniform beat fading", every configuration on seeds 0-9 (run seed by seed: a study stopped
    # early holds whole seeds of every configuration).
    # and psMNIST (PSMNIST_PAIRED; ``paired-psmnist`` runs that part alone), and the two long UCR sets OSULeaf and
    # ACSF1 (UCR_LONG_PAIRED; ``paired-ucr-long`` runs that part alone): all five UCR sets.
    "paired": (*paired_grids(UCR_STUDY_TASKS[:3], PAIRED_SEEDS), *_memory_grids(PAIRED_SEEDS), *PSMNIST_PAIRED,
               *UCR_LONG_PAIRED),
    "paired-psmnist": PSMNIST_PAIRED,
    "paired-ucr-long": UCR_LONG_PAIRED,
    # The full grid (a Ray cluster: README "Studies"): the five UCR sets and psMNIST, rule x budget
    # (M = 4 and M = J + 1 per channel; fading keeps J + 1) x filter init (learned from Haar, frozen Haar,
    # learned from random), 10 paired seeds. psMNIST: 3,500 training digits of length 784.
    "full": tuple(StudyGrid(tasks=(task,), memory_sizes=(4, _fading_budget(task)), inits=("haar", RANDOM_INIT),
                            freeze=(False, True), d_models=(16,), seeds=PAIRED_SEEDS, epochs=10, max_seconds=3600.0,
                            train_options={"min_steps": 300})
                  for task in (*UCR_STUDY_TASKS, "psmnist")) + _memory_grids(PAIRED_SEEDS),
    # The earlier study (assets/studies/ucr.csv before the paired study): three sets, 3 seeds, 150 steps.
    "ucr": (StudyGrid(tasks=UCR_STUDY_TASKS[:3], memory_sizes=(4, 8), inits=("haar", RANDOM_INIT),
                      freeze=(False, True), d_models=(16,), seeds=(0, 1, 2), epochs=10, max_seconds=120.0,
                      train_options={"min_steps": 150}),),
    # Equal distinct coefficients per layer (length 256: J = 8, fading keeps 9 slots, so M = 9 is
    # fading's budget). The single-channel network (d_model=1) makes slots per channel and distinct
    # slots per layer the same number; d_model=8 on the shared input shows the channel-diversity
    # effect; "memory-independent" (8 inputs, 8 channels) makes every channel remember its own input.
    # Measured (assets/studies/memory.csv): at d_model=1 every rule stays at R^2 ~ 0 (one channel
    # through GELU and a GLU cannot carry 8 lags linearly), and memory-independent stays below 0.06
    # at this budget, so only the shared-input d_model=8 rows compare the rules.
    "memory": (
        StudyGrid(tasks=("memory",), memory_sizes=(4, 9, 16), inits=("haar",), freeze=(True, False),
                  d_models=(1, 8), seeds=(0, 1, 2), n_layers=1, epochs=8, max_seconds=30.0,
                  task_options={"memory": _MEMORY_SIZES}),
        StudyGrid(tasks=("memory-independent",), memory_sizes=(4, 9, 16), inits=("haar",), freeze=(True, False),
                  d_models=(8,), seeds=(0, 1, 2), n_layers=1, epochs=8, max_seconds=30.0,
                  task_options={"memory-independent": {**_MEMORY_SIZES, "channels": 8}}),
    ),
}


def grid_preset(name: str) -> tuple[StudyGrid, ...]:
    """The grids of preset ``name`` (one of :data:`GRID_PRESETS`).

    >>> len(all_trials(grid_preset("smoke")))
    2
    """
    if name not in GRID_PRESETS:
        raise ValueError(f"unknown grid preset {quote(name)}; allowed: {', '.join(GRID_PRESET_NAMES)}")
    return GRID_PRESETS[name]


def all_trials(grids: StudyGrid | Sequence[StudyGrid]) -> list[TrialSpec]:
    """Trials of one grid or of several, in order, each key once."""
    grids = (grids,) if isinstance(grids, StudyGrid) else tuple(grids)
    seen: dict[str, TrialSpec] = {}
    for grid in grids:
        for spec in grid.trials():
            seen.setdefault(spec.key(), spec)
    return list(seen.values())
