"""Every option a user can choose by name, and every bound on a size or a cost, each with its reason.

String options are ``Literal`` types (what a type checker and the docs read) with the tuple of
allowed values next to them (what error messages list). Limits bound untrusted or user-chosen
sizes so that an upload, a dataset file, a checkpoint or a training run in the app is refused
before it allocates, with the same numbers everywhere. Pure Python, no imports beyond ``typing``.

Examples
--------
>>> from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES, TREE_SELECTS
>>> MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES, TREE_SELECTS
(16384, 5000000, ('fading', 'uniform', 'learned'))
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "AUGMENTS", "BANDS", "BUDGET_AXES", "Band", "BudgetAxis", "CONFIG_LIMITS", "DECAYS", "DEVICES", "DROPOUT_MODES", "Decay", "Device", "DropoutMode",
    "GRID_PRESET_NAMES", "GridPreset", "HEADS", "Head", "INIT_KINDS", "INIT_SCHEMES", "InitKind", "InitScheme",
    "MAX_ABS_SAMPLE", "MAX_ANALYSED_WINDOW", "MAX_ANALYSIS_WORK", "MAX_CANDIDATE_SLOTS", "MAX_CURVE_POINTS", "MAX_DATASET_SERIES", "MAX_ENSEMBLE_MEMBERS",
    "MAX_JSON_DEPTH", "MAX_JSON_LIST", "MAX_JSON_TEXT", "MAX_KERNEL_VALUES", "MAX_PARAMETERS", "MAX_RECEPTIVE_FIELD",
    "MAX_RUN_BYTES", "MAX_SCORING_SECONDS", "MAX_SIGNAL_LENGTH", "MAX_STEP_SECONDS", "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB", "MAX_WAV_SAMPLE_RATE", "MEMORY_INPUTS", "MIN_SIGNAL_LENGTH", "MemoryInputs", "NORMALIZATIONS",
    "NORMS", "Norm", "Normalization", "PREDICT_NORMALIZATIONS", "PROTOCOLS", "PredictNormalization", "Protocol", "READOUTS", "Readout", "SIGNAL_NAMES", "SPLITS",
    "STOP_REASONS", "SignalName", "Split", "StopReason", "TAP_PRESETS", "TASK_KINDS", "TASK_NAMES", "TRAIN_LIMITS",
    "TRAIN_PRESET_NAMES", "TREE_SELECTS", "TapPreset", "TaskKind", "TaskName", "TrainPreset", "TreeSelect",
    "UPLOAD_CHECK_SECONDS", "UPLOAD_CHECK_WORKERS",
]

# ================================================================================================
# String options
# ================================================================================================

# --- the layer -----------------------------------------------------------------------------------

#: TREESELECT rule: which coefficients of the tree become the memory (docs/design.md, section 3).
TreeSelect = Literal["fading", "uniform", "learned"]
TREE_SELECTS: tuple[str, ...] = get_args(TreeSelect)
#: Which branch of the tree a memory slot reads: the coarsest approximation or a detail level.
Band = Literal["approx", "detail"]
BANDS: tuple[str, ...] = get_args(Band)

# --- the network (ModelConfig) ---------------------------------------------------------------------

#: What the network outputs: ``pool`` a mean over time (classification), ``last`` the last step
#: (recall of the past), ``sequence`` every step.
Head = Literal["pool", "last", "sequence"]
HEADS: tuple[str, ...] = get_args(Head)
#: Normalisation after each residual block.
Norm = Literal["batch", "layer"]
NORMS: tuple[str, ...] = get_args(Norm)
#: ``element``: ``nn.Dropout`` (independent entries); ``channel``: ``nn.Dropout1d`` (whole channels
#: of a ``(B, H, N)`` tensor, as the official layer).
DropoutMode = Literal["element", "channel"]
DROPOUT_MODES: tuple[str, ...] = get_args(DropoutMode)
#: Initialisation of ``h0, h1, w`` (see :class:`multires.MultiresConv`): ``default`` (this
#: project's) or ``paper`` (the official code's scales).
InitScheme = Literal["default", "paper"]
INIT_SCHEMES: tuple[str, ...] = get_args(InitScheme)

# --- training (TrainConfig) --------------------------------------------------------------------------

#: Named training recipe: the project's ``default`` or the official ``paper`` one
#: (:data:`multires.training.config.TRAIN_PRESETS` holds their values).
TrainPreset = Literal["default", "paper", "paper-cpu", "long-cpu"]
TRAIN_PRESET_NAMES: tuple[str, ...] = get_args(TrainPreset)
#: How the recipe (:func:`multires.training.recipe.fit`) chooses the budget: ``holdout`` (best epoch on the
#: task's validation split), ``cv`` (stratified k-fold on the training split choosing the tree depth and
#: the epochs, then a refit on all of it) or ``auto`` (``cv`` up to :data:`multires.training.crossval.CV_MAX_SERIES` training series, else holdout).
Protocol = Literal["auto", "holdout", "cv", "fixed"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)
#: Where a run computes: ``auto`` picks CUDA, then Apple's MPS, when present, else the CPU.
Device = Literal["auto", "cpu", "cuda", "mps"]
DEVICES: tuple[str, ...] = get_args(Device)
#: Series augmentations :mod:`multires.training.augment` offers; ``TrainConfig.augment`` joins any of them with ``+``.
AUGMENTS: tuple[str, ...] = ("crop", "jitter", "scale", "shift")
#: Which parameters AdamW decays: ``dense`` (encoder, 1x1 mixers, decoder weights) or ``all``.
Decay = Literal["dense", "all"]
DECAYS: tuple[str, ...] = get_args(Decay)
#: Why a run ended before its budget: the caller's callback, the time bound, or early stopping.
StopReason = Literal["callback", "max_seconds", "early_stopping"]
STOP_REASONS: tuple[str, ...] = get_args(StopReason)
#: A task's split that a model is scored on.
Split = Literal["train", "val", "test"]
SPLITS: tuple[str, ...] = get_args(Split)

# --- data ----------------------------------------------------------------------------------------------

#: What a task asks of the model: a class per series, or the recall of past inputs (R^2 per lag).
TaskKind = Literal["classify", "recall"]
TASK_KINDS: tuple[str, ...] = get_args(TaskKind)
#: Where a model reads a task's answer: the mean over time, or the last step only.
Readout = Literal["pool", "last"]
READOUTS: tuple[str, ...] = get_args(Readout)
#: Fixed task names :func:`multires.load_task` accepts; it also takes ``"ucr:<Name>"`` and
#: ``"TRAIN,TEST"`` file pairs.
TaskName = Literal["digits", "signals", "memory", "memory-independent", "distant-windows", "smnist", "psmnist"]
TASK_NAMES: tuple[str, ...] = get_args(TaskName)
#: Input variants of the memory task: one input shared by every channel, or one per channel.
MemoryInputs = Literal["shared", "independent"]
MEMORY_INPUTS: tuple[str, ...] = get_args(MemoryInputs)
#: How arrays are scaled into a task: z-normalise each series (the UCR convention), the whole
#: training set at once, or not at all.
Normalization = Literal["series", "global", "none"]
NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)
#: How :func:`multires.predict` scales raw series: as training did (per series), or not at all.
PredictNormalization = Literal["series", "none"]
PREDICT_NORMALIZATIONS: tuple[str, ...] = get_args(PredictNormalization)
#: Built-in signals of :func:`multires.load_signal`, in display order (the Donoho-Johnstone
#: test signals are ``SIGNAL_NAMES[2:12]``).
SignalName = Literal["ECG", "Nino SST", "Blocks", "Bumps", "HeaviSine", "Doppler", "Ramp", "Cusp", "LinChirp",
                     "TwoChirp", "QuadChirp", "MishMash", "Digit", "White noise", "Impulse", "Step"]
SIGNAL_NAMES: tuple[str, ...] = get_args(SignalName)

# --- the filter playground, studies and their figures ------------------------------------------------

#: Starting taps of the filter playground: four PyWavelets wavelets or a seeded random pair.
TapPreset = Literal["Haar", "db2", "db3", "sym4", "random pair"]
TAP_PRESETS: tuple[str, ...] = get_args(TapPreset)
#: Named study grids of ``python -m multires.study --grid``.
GridPreset = Literal["smoke", "paired", "paired-psmnist", "paired-ucr-long", "full", "ucr", "memory"]
GRID_PRESET_NAMES: tuple[str, ...] = get_args(GridPreset)
#: Which column a memory budget reads: distinct coefficients per layer, or slots per channel.
BudgetAxis = Literal["distinct", "per_channel"]
BUDGET_AXES: tuple[str, ...] = get_args(BudgetAxis)
#: How a compared model's filters were initialised and trained (one marker shape each).
InitKind = Literal["random, learned", "wavelet init, learned", "wavelet, frozen"]
INIT_KINDS: tuple[str, ...] = get_args(InitKind)

# ================================================================================================
# Limits
# ================================================================================================

# --- signals, uploads and dataset files: refused with the same numbers everywhere -------------------

MIN_SIGNAL_LENGTH = 8
"""Shortest signal accepted anywhere (a depth-3 Haar tree needs 8 samples to be non-trivial)."""

MAX_SIGNAL_LENGTH = 16384
"""Longest signal (and dataset series) accepted: keeps trees and plots responsive on a CPU."""

MAX_UPLOAD_MB = 5
"""Largest upload in MB (10**6 bytes): ``server.maxUploadSize`` in ``.streamlit/config.toml``. The
browser refuses a larger file itself (10**6 bytes per MB except on Windows, where it counts 2**20);
the parsers refuse anything above :data:`MAX_UPLOAD_BYTES`."""

MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1_000_000
"""Largest upload parsed (5 MB = 5,000,000 bytes); larger files are refused before any parsing."""

MAX_ABS_SAMPLE = 1e100
"""Largest magnitude of an uploaded sample. Squares, energies and depth-14 tree coefficients of a
16384-sample signal stay far inside float64 (a 1.7e308 sample would overflow them to inf/NaN)."""

MAX_WAV_SAMPLE_RATE = 384_000
"""Highest WAV sample rate accepted (Hz); the lowest is 1 Hz."""

MAX_DATASET_SERIES = 20_000
"""Most series accepted in one dataset file (train or test)."""

UPLOAD_CHECK_WORKERS = 2
"""Worker processes that read and check uploaded files for all the sessions of one app server together
(``ui/upload_worker.py``): a check never runs in the process that serves the pages, and at most this many
run at once (each holds one core while it works)."""

UPLOAD_CHECK_SECONDS = 180.0
"""Longest the check of one upload may take in its worker process; past it the worker is stopped and the
file refused with a message. Checks are linear in the file size: the slowest legal 5 MB file took 53 s
on the project's 2-core machine at load 13."""

# --- what a model config may cost (checked by multires.cost when a config is validated) --------------

#: Upper bound of each integer field of a :class:`~multires.ModelConfig` (the lower bounds are 1,
#: 2 for ``kernel_size`` and 0 for ``max_lag``), so that a config from an uploaded checkpoint cannot
#: ask for absurd sizes; what the fields cost together is bounded by the four limits below.
CONFIG_LIMITS: dict[str, int] = {"d_input": 64, "d_output": 1024, "d_model": 512, "n_layers": 16, "seq_len": 65536,
                                 "kernel_size": 16, "depth": 16, "memory_size": 4096, "max_lag": 65536}

MAX_RECEPTIVE_FIELD = 2**17
"""Most samples one layer's tree may reach back, ``(k-1)(2**J-1)+1`` (131072): twice the longest
``seq_len`` a config accepts, so the default depth's tree always fits, while every page and kernel
allocates arrays this long per channel (``dmey``, 62 taps, at depth 16 would reach about 4 million)."""

MAX_KERNEL_VALUES = 2**22
"""Most values of one layer's composite kernel, channels x (receptive field + largest lag) (about
4 million floats = 16 MiB). The layer's forward pass and the app's kernel charts build it."""

MAX_CANDIDATE_SLOTS = 8192
"""Most memory slots one layer may hold (kept, or candidates of the learned rule): twice the
largest memory size (4096), so the learned rule's menu of at least 2 M always fits. Each slot is a
weight per channel and a row of the app's slot charts."""

MAX_PARAMETERS = 2**24
"""Most trainable parameters of a network (about 16.8 million = 64 MiB of float32): far above any
CPU demo, far below what hurts the server."""

MAX_ANALYSED_WINDOW = 4096
"""Most past samples a page analyses per view (reconstruction, memory capacity per lag, kernel
charts); a longer memory is shown up to this lag and the caption says so."""

MAX_ANALYSIS_WORK = 128 * 128 * 4096
"""Most work of one view's memory analyses (reconstruction of the past, capacity per lag, the kernel's
slot rows, the learned selection's rows): it grows as slots² x window (a least-squares solve over the
slots' impulse responses), so a view analyses at most ``isqrt(MAX_ANALYSIS_WORK // window)`` slots
(128 over a 4096-sample window), the nearest the present; memories shown side by side share it
(:func:`multires.analysis.span.shared_analysed_slots`). A legal learned checkpoint therefore cannot
cost a page much more than the largest shipped model."""


# --- what a checkpoint's JSON metadata may hold (multires.checkpoint) ---------------------------------

MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON arrays/objects parsed (the app's own metadata nests 4 deep); deeper text
is refused by a bracket scan before parsing (Python's parser would raise RecursionError)."""

MAX_JSON_TEXT = 4096
"""Longest string a checkpoint's metrics may hold where one is expected (names, notes, warnings)."""

MAX_JSON_LIST = 100_000
"""Longest list in a checkpoint's metrics (curves, per-lag scores, selection snapshots)."""

MAX_CURVE_POINTS = 10_000
"""Most points of one training curve in a checkpoint's ``history`` (the trainer writes at most 200
per-step points and one per epoch)."""

MAX_ENSEMBLE_MEMBERS = 20
"""Most models one seed ensemble may hold (``--ensemble K``, one ensemble file): every member is read and
checked like a single checkpoint, so an ensemble file costs at most this many checkpoints' work."""

# --- one training run: what TrainConfig accepts, and what a run in the app may cost -------------------

#: Inclusive bounds ``(low, high)`` that :meth:`TrainConfig.validate` enforces; the app shows them
#: as widget ranges. ``d_model``/``n_layers`` stay well inside :data:`CONFIG_LIMITS` so a trained
#: model always fits a checkpoint; ``max_seconds`` is the time bound of one run.
TRAIN_LIMITS: dict[str, tuple[float, float]] = {
    "epochs": (1, 500),
    "min_steps": (0, 100_000),
    "patience": (1, 500),
    "d_model": (1, 256),
    "n_layers": (1, 10),
    "kernel_size": (2, 16),
    "depth": (1, 16),
    "memory_size": (1, 4096),
    "batch_size": (1, 4096),
    "lr": (1e-6, 1.0),
    "weight_decay": (0.0, 1.0),
    "warmup_epochs": (0.0, 100.0),
    "seed": (0, 2**31 - 1),
    "max_seconds": (0.1, 24 * 3600.0),
    "folds": (2, 20),
    "ensemble": (1, MAX_ENSEMBLE_MEMBERS),
    "label_smoothing": (0.0, 0.5),
    "mixup": (0.0, 10.0),
}

MAX_RUN_BYTES = 3 * 2**29
"""Most memory one training run may add to the server (1.5 GiB). The server idles at about 0.85 GB
and two runs train at once (``ui.training_run.MAX_CONCURRENT_RUNS``): 0.85 + 2 x 1.5 = 3.85 GB
stays inside a small machine's RAM."""

MAX_STEP_SECONDS = 2.0
"""Longest estimated optimizer step. Stop, a closed tab and the time bound end a run after its
current step, so this is how late they may act."""

MAX_SCORING_SECONDS = 60.0
"""Longest estimated final scoring (train, validation and test splits, after the time bound): one
seed's result comes at most time bound + one step + this after it starts."""
