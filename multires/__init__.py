"""Wavelet memory: MultiresConv (Shi, Wang & Fox, ICML 2023) as a small, exact, tested library.

Modules, one concept each: ``treeselect`` (which slots form the memory), ``tree`` (the slow,
exact coefficient tree), ``kernel`` (the layer as one long FFT convolution), ``conv``
(``MultiresConv``), ``model`` (``MultiresNet``), ``wavelets`` (PyWavelets filters), ``filters``
(filter-bank diagnostics), ``memory`` (what the memory remembers), ``signals`` and ``tasks`` (data),
``training`` and ``checkpoint``, ``threads`` (the CPU thread policy: one torch thread per process
unless ``MULTIRES_THREADS``; applied by the CLI, studies and benchmarks, *not* by importing
``multires`` nor by ``train()``: call ``multires.apply_thread_policy()`` yourself); ``figures``
builds Plotly figures. No Streamlit anywhere.

Names are imported on first use (PEP 562), so ``from multires import kept_cells`` loads only
``treeselect`` and never PyTorch: the app draws its first page without waiting for torch.

Examples
--------
>>> import torch
>>> from multires import MultiresConv
>>> conv = MultiresConv(8, seq_len=256, tree_select="uniform", memory_size=10, wavelet="db2")
>>> conv(torch.randn(4, 8, 256)).shape, conv.kernel_size, conv.depth
(torch.Size([4, 8, 256]), 4, 7)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the submodule that defines it (imported when the name is first used).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["BANDS", "TREE_SELECTS", "Band", "TreeSelect"], "constants"),
    **dict.fromkeys(["CONFIG_LIMITS", "MODEL_PRESETS", "ModelConfig"], "config"),
    "MultiresConv": "conv",
    **dict.fromkeys(["MultiresLayer", "MultiresNet"], "model"),
    **dict.fromkeys(["band_filters", "causal_fft_conv", "composite_kernel", "slot_filters"], "kernel"),
    **dict.fromkeys(["CoefficientTree", "coefficient_tree", "tree_levels"], "tree"),
    **dict.fromkeys(["Slot", "candidate_slots", "default_depth", "kept_cells", "learned_lags_per_band",
                     "max_uniform_memory", "memory_slots", "receptive_field"], "treeselect"),
    **dict.fromkeys(["check_wavelet_name", "discrete_wavelet_names", "wavelet_filters"], "wavelets"),
    **dict.fromkeys(["cascade", "filter_diagnostics", "frequency_response", "nearest_wavelet",
                     "normalize_filters", "quadrature_mirror"], "filters"),
    **dict.fromkeys(["footprint", "memory_capacity", "memory_matrix", "reconstruct_past",
                     "reconstruction_error_by_lag"], "memory"),
    **dict.fromkeys(["SignalError", "load_signal", "parse_upload"], "signals"),
    **dict.fromkeys(["DatasetError", "TASK_NAMES", "TaskData", "from_arrays", "load_task", "normalize_series",
                     "task_from_files"], "tasks"),
    "predict": "inference",
    **dict.fromkeys(["ThreadPolicyError", "apply_thread_policy", "default_threads"], "threads"),
    "CheckpointError": "checkpoint_format",
    **dict.fromkeys(["load_checkpoint", "save_checkpoint"], "checkpoint"),
    **dict.fromkeys(["TrainConfig", "TrainingError", "TrainingWarning", "evaluate", "train"], "training"),
}
_SUBMODULES = ("checkpoint", "filters", "memory", "signals", "tasks", "training")

__all__ = [*_EXPORTS, *_SUBMODULES]  # noqa: PLE0604 - built from the lazy map, checked by tests


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

