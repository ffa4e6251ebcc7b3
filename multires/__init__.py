"""Wavelet memory: MultiresConv (Shi, Wang & Fox, ICML 2023) as a small, exact, tested library.

Modules, one concept each: ``treeselect`` (which slots form the memory), ``tree`` (the slow,
exact coefficient tree), ``kernel`` (the layer as one long FFT convolution), ``conv``
(``MultiresConv``), ``model`` (``MultiresNet``), ``wavelets`` (PyWavelets filters), ``filters``
(filter-bank diagnostics), ``memory`` (what the memory remembers), ``signals`` and ``tasks`` (data),
``training`` and ``checkpoint``; ``figures`` builds Plotly figures. No Streamlit anywhere.

Examples
--------
>>> import torch
>>> from multires import MultiresConv
>>> conv = MultiresConv(8, seq_len=256, tree_select="uniform", memory_size=10, wavelet="db2")
>>> conv(torch.randn(4, 8, 256)).shape, conv.kernel_size, conv.depth
(torch.Size([4, 8, 256]), 4, 7)
"""

from . import checkpoint, filters, memory, signals, tasks, training
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .constants import BANDS, TREE_SELECTS, Band, TreeSelect
from .conv import MultiresConv
from .filters import (
    cascade,
    filter_diagnostics,
    frequency_response,
    nearest_wavelet,
    normalize_filters,
)
from .kernel import band_filters, causal_fft_conv, composite_kernel, slot_filters
from .memory import footprint, memory_capacity, memory_matrix, reconstruct_past, reconstruction_error_by_lag
from .model import CONFIG_LIMITS, ModelConfig, MultiresLayer, MultiresNet
from .signals import SignalError, load_signal, parse_upload
from .tasks import TASK_NAMES, load_task
from .training import TrainConfig, TrainingError, evaluate, train
from .tree import CoefficientTree, coefficient_tree, tree_levels
from .treeselect import (
    Slot,
    candidate_slots,
    default_depth,
    kept_cells,
    max_uniform_memory,
    memory_slots,
    receptive_field,
)
from .wavelets import check_wavelet_name, discrete_wavelet_names, wavelet_filters

__version__ = "0.1.0"

__all__ = [
    "BANDS", "TREE_SELECTS", "Band", "TreeSelect",
    "MultiresConv", "ModelConfig", "MultiresLayer", "MultiresNet", "CONFIG_LIMITS",
    "band_filters", "causal_fft_conv", "composite_kernel", "slot_filters",
    "CoefficientTree", "coefficient_tree", "tree_levels",
    "Slot", "candidate_slots", "default_depth", "kept_cells", "max_uniform_memory", "memory_slots",
    "receptive_field",
    "check_wavelet_name", "discrete_wavelet_names", "wavelet_filters",
    "cascade", "filter_diagnostics", "frequency_response", "nearest_wavelet", "normalize_filters",
    "footprint", "memory_capacity", "memory_matrix", "reconstruct_past", "reconstruction_error_by_lag",
    "SignalError", "load_signal", "parse_upload", "TASK_NAMES", "load_task",
    "CheckpointError", "load_checkpoint", "save_checkpoint",
    "TrainConfig", "TrainingError", "evaluate", "train",
    "checkpoint", "filters", "memory", "signals", "tasks", "training",
]
