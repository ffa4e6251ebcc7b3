"""Size limits shared by the built-in signals, the upload parsers and the datasets.

One place for every bound on untrusted or user-chosen sizes, so the signal uploads
(:mod:`multires.data.uploads`) and the dataset files (:mod:`multires.data.tasks.files`) refuse the same
things with the same numbers; and for what a model config may cost
(:mod:`multires.config_cost`, applied by ``ModelConfig``, ``MultiresConv`` and so by every
checkpoint load) and what a checkpoint's JSON may hold (:mod:`multires.checkpoint.safejson`,
:mod:`multires.checkpoint.schema`).

Examples
--------
>>> from multires.limits import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
>>> MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
(16384, 5000000)
"""

from __future__ import annotations

__all__ = [
    "MAX_ANALYSED_WINDOW",
    "MAX_ANALYSIS_WORK",
    "MAX_CANDIDATE_SLOTS",
    "MAX_CURVE_POINTS",
    "MAX_DATASET_SERIES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_LIST",
    "MAX_JSON_TEXT",
    "MAX_KERNEL_VALUES",
    "MAX_PARAMETERS",
    "MAX_RECEPTIVE_FIELD",
    "MAX_RUN_BYTES",
    "MAX_SCORING_SECONDS",
    "MAX_STEP_SECONDS",
    "MAX_ABS_SAMPLE",
    "MAX_SIGNAL_LENGTH",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "MAX_WAV_SAMPLE_RATE",
    "MIN_SIGNAL_LENGTH",
]

MIN_SIGNAL_LENGTH = 8
"""Shortest signal accepted anywhere (a depth-3 Haar tree needs 8 samples to be non-trivial)."""

MAX_SIGNAL_LENGTH = 16384
"""Longest signal (and dataset series) accepted: keeps trees and plots responsive on a CPU."""

# --- uploads: one size limit in one unit, and the largest sample value (multires.data.uploads) ---------

MAX_UPLOAD_MB = 5
"""Largest upload in MB (10**6 bytes): ``server.maxUploadSize`` in ``.streamlit/config.toml``. The
browser refuses a larger file itself ("must be 5.0MB or smaller", 10**6 bytes per MB except on
Windows, where it counts 2**20); the parsers refuse anything above :data:`MAX_UPLOAD_BYTES`."""

MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1_000_000
"""Largest upload parsed (5 MB = 5,000,000 bytes); larger files are refused before any parsing."""

MAX_ABS_SAMPLE = 1e100
"""Largest magnitude of an uploaded sample. Squares, energies and depth-14 tree coefficients of a
16384-sample signal stay far inside float64 (a 1.7e308 sample would overflow them to inf/NaN)."""

MAX_WAV_SAMPLE_RATE = 384_000
"""Highest WAV sample rate accepted (Hz); the lowest is 1 Hz."""

MAX_DATASET_SERIES = 20_000
"""Most series accepted in one dataset file (train or test)."""

# --- what a model config may cost (checked by multires.config_cost at validation) -------------------

MAX_RECEPTIVE_FIELD = 2**17
"""Most samples one layer's tree may reach back, ``(k-1)(2**J-1)+1`` (131072). Twice the longest
``seq_len`` a config accepts (65536): the default depth's tree never needs more, and every page
and kernel allocates arrays this long per channel. ``dmey`` (62 taps) at depth 16 would reach
about 4 million samples: a 2.4 KB checkpoint that took a page 141 s and 5 GB."""

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
"""Most work of one memory analysis (reconstruction of the past, capacity per lag): it grows as
slots² x window (a least-squares solve over the slots' impulse responses), so a page analyses at most
``isqrt(MAX_ANALYSIS_WORK // window)`` slots (128 over a 4096-sample window), the nearest the present.
A legal learned layer of 1,100 slots inside the window took 85 s to reconstruct (issue 23)."""

# --- what a checkpoint's JSON metadata may hold (multires.checkpoint.safejson, multires.checkpoint.schema) ---------

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

# --- what one training run in the app may cost (estimated by multires.training.runcost before it starts) --------

MAX_RUN_BYTES = 3 * 2**29
"""Most memory one training run may add to the server (1.5 GiB). The server idles at about 0.85 GB,
two runs train at once (``ui.training_runner.MAX_CONCURRENT_RUNS``): 0.85 + 2 x 1.5 = 3.85 GB stays
well inside a small machine's RAM, where one unbounded run (width 256 x 8 layers, evaluated 512
series at a time) took the server to 4.6-7.3 GB."""

MAX_STEP_SECONDS = 2.0
"""Longest estimated optimizer step. Stop, a closed tab and the time bound end a run after its
current step, so this is how late they may act; at 30-100 s per step a 300 s bound ended runs at
318-387 s."""

MAX_SCORING_SECONDS = 60.0
"""Longest estimated final scoring (train, validation and test splits, after the time bound): one
seed's result comes at most time bound + one step + this after it starts."""
