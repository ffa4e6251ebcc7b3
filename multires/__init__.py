"""Wavelet memory: MultiresConv (Shi, Wang & Fox, ICML 2023) as a small, exact, tested library.

The core layer sits at the top, one concept per module: ``treeselect`` (which slots form the
memory), ``tree`` (the slow, exact coefficient tree, the reference), ``kernel`` (the layer as one long
FFT convolution), ``conv`` (``MultiresConv``), ``model`` (``MultiresNet``), ``config`` (``ModelConfig``),
``wavelets`` (PyWavelets filters), ``options`` (every string option and every limit). Around it, one
subpackage per area: ``analysis`` (filter diagnostics, playground taps, what the memory remembers),
``data`` (built-in signals, uploads, tasks, baselines), ``training`` (config and presets, the loop,
evaluation, history, DDP hooks, run-cost estimate, the CPU thread policy, the CLI ``python -m
multires.training``), ``checkpoint`` (save/load, the header format, bounded JSON), ``figures``
(Plotly figures) and ``study`` (Ray Tune studies). No Streamlit anywhere. The thread policy (one
torch thread per process unless ``MULTIRES_THREADS``) is applied by the CLI, studies and benchmarks,
*not* by importing ``multires`` nor by ``train()``: call ``multires.apply_thread_policy()`` yourself.

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

from ._lazy import attach

__version__ = "0.1.0"

#: Public name -> the submodule that defines it (imported when the name is first used).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["BANDS", "CONFIG_LIMITS", "TASK_NAMES", "TREE_SELECTS", "Band", "TreeSelect"], "options"),
    **dict.fromkeys(["MODEL_PRESETS", "ModelConfig"], "config"),
    "MultiresConv": "conv",
    **dict.fromkeys(["MultiresLayer", "MultiresNet", "build_model"], "model"),
    **dict.fromkeys(["band_filters", "causal_fft_conv", "composite_kernel", "slot_filters"], "kernel"),
    **dict.fromkeys(["CoefficientTree", "coefficient_tree", "tree_levels"], "tree"),
    **dict.fromkeys(["Slot", "candidate_slots", "default_depth", "kept_cells", "learned_lags_per_band",
                     "max_uniform_memory", "memory_slots", "receptive_field"], "treeselect"),
    **dict.fromkeys(["check_wavelet_name", "discrete_wavelet_names", "wavelet_filters"], "wavelets"),
    **dict.fromkeys(["filter_diagnostics", "frequency_response", "nearest_wavelet", "quadrature_mirror"],
                    "analysis.filters"),
    **dict.fromkeys(["cascade", "normalize_filters"], "analysis.cascade"),
    "footprint": "analysis.footprint",
    **dict.fromkeys(["memory_capacity", "memory_matrix", "reconstruct_past",
                     "reconstruction_error_by_lag"], "analysis.memory"),
    "load_signal": "data.signals",
    "parse_upload": "data.uploads",
    "SignalError": "data.uploads.checks",
    **dict.fromkeys(["DatasetError", "TaskData"], "data.tasks.base"),
    **dict.fromkeys(["from_arrays", "normalize_series"], "data.tasks.arrays"),
    "load_task": "data.tasks.registry",
    "task_from_files": "data.tasks.files",
    **dict.fromkeys(["predict", "predict_proba"], "training.inference"),
    **dict.fromkeys(["ThreadPolicyError", "apply_thread_policy", "default_threads"], "training.threads"),
    "CheckpointError": "checkpoint.format",
    **dict.fromkeys(["load_checkpoint", "save_checkpoint"], "checkpoint.io"),
    "TrainConfig": "training.config",
    **dict.fromkeys(["TrainingError", "TrainingWarning"], "training.history"),
    "evaluate": "training.evaluation",
    "train": "training.loop",
    **dict.fromkeys(["RecipeResult", "fit"], "training.recipe"),
    **dict.fromkeys(["MultiresEnsemble", "load_model", "save_model"], "training.ensemble"),
}
#: Submodules handed on whole: ``multires.tasks`` is :mod:`multires.data.tasks`, and so on.
_SUBMODULES: dict[str, str] = {
    "checkpoint": "checkpoint", "filters": "analysis.filters", "memory": "analysis.memory",
    "signals": "data.signals", "tasks": "data.tasks", "training": "training",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS, _SUBMODULES)
