"""``ModelConfig``: everything needed to rebuild a ``MultiresNet``, validated, JSON round-trip.

Kept apart from the network (and from PyTorch) so that a checkpoint's config can be read and
checked without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .constants import TREE_SELECTS, TreeSelect
from .jsonconfig import JsonConfig
from .treeselect import default_depth
from .wavelets import check_wavelet_name, wavelet_filters

__all__ = ["CONFIG_LIMITS", "Head", "ModelConfig", "Norm"]

Head = Literal["pool", "last", "sequence"]
Norm = Literal["batch", "layer"]

#: Upper bounds that keep a config (for example from an uploaded checkpoint) from allocating absurd sizes.
CONFIG_LIMITS = {"d_input": 64, "d_output": 1024, "d_model": 512, "n_layers": 16, "seq_len": 65536,
                 "kernel_size": 16, "depth": 16, "memory_size": 4096, "max_lag": 65536}


@dataclass
class ModelConfig(JsonConfig):
    """Everything needed to rebuild a ``MultiresNet``; round-trips through JSON."""

    _what: ClassVar[str] = "model config"

    d_input: int = 1  # input features per time step (1 for a scalar signal)
    d_output: int = 10  # classes, or regression targets
    d_model: int = 32  # channels H of every MultiresConv
    n_layers: int = 2  # stacked residual blocks
    seq_len: int = 64  # sequence length, sets the default depth
    kernel_size: int = 2  # filter length k (overridden by wavelet's length)
    depth: int | None = None  # tree depth J; None: covers seq_len
    tree_select: TreeSelect = "fading"  # TREESELECT rule
    memory_size: int | None = None  # M, for uniform and learned
    max_lag: int | None = None  # learned only: largest candidate lag
    wavelet: str | None = "haar"  # filter init from PyWavelets; None: random
    dropout: float = 0.0  # after each MultiresConv's GELU
    norm: Norm = "batch"  # normalisation after each residual block
    head: Head = "pool"  # pool: mean over time; last: last step; sequence: every step

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed."""
        for name, limit in CONFIG_LIMITS.items():
            value = getattr(self, name)
            if value is None and name in ("depth", "memory_size", "max_lag"):
                continue
            lowest = 0 if name == "max_lag" else (2 if name == "kernel_size" else 1)
            if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= limit:
                raise ValueError(f"config field {name} must be an integer in {lowest}..{limit}, got {value!r}")
        if self.tree_select not in TREE_SELECTS:
            raise ValueError(f"tree_select must be one of {TREE_SELECTS}, got {self.tree_select!r}")
        if self.tree_select in ("uniform", "learned") and self.memory_size is None:
            raise ValueError(f"tree_select={self.tree_select!r} needs memory_size")
        if self.wavelet is not None:
            check_wavelet_name(self.wavelet)
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.norm not in ("batch", "layer"):
            raise ValueError(f"norm must be 'batch' or 'layer', got {self.norm!r}")
        if self.head not in ("pool", "last", "sequence"):
            raise ValueError(f"head must be 'pool', 'last' or 'sequence', got {self.head!r}")

    @property
    def resolved_depth(self) -> int:
        """The tree depth actually used."""
        if self.depth is not None:
            return self.depth
        return default_depth(self.seq_len, self.resolved_kernel_size)

    @property
    def resolved_kernel_size(self) -> int:
        """The filter length actually used (the wavelet's, when one is given)."""
        return self.kernel_size if self.wavelet is None else len(wavelet_filters(self.wavelet)[0])
