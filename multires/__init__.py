"""Wavelet memory: MultiresConv (Shi, Wang & Fox, ICML 2023) as a small, exact, tested library."""

from .constants import BANDS, TREE_SELECTS, Band, TreeSelect
from .conv import MultiresConv
from .model import CONFIG_LIMITS, ModelConfig, MultiresLayer, MultiresNet
from .kernel import band_filters, causal_fft_conv, composite_kernel, slot_filters
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
]
