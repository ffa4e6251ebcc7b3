"""``ModelConfig``: everything needed to rebuild a ``MultiresNet``, validated, JSON round-trip.

Kept apart from the network (and from PyTorch) so that a checkpoint's config can be read and
checked without importing torch. ``MODEL_PRESETS`` holds named sets of field values; ``"paper"``
is the official classification network of Shi, Wang & Fox (github.com/thjashin/multires-conv,
``classification.py`` and ``layers/multireslayer.py``): post-norm LayerNorm residual blocks with
1x1-conv GLU mixing, channel dropout (``nn.Dropout1d``) after the layer's GELU and after the GLU,
mean pooling, random filters with the official initialisation scales.

Examples
--------
>>> cfg = ModelConfig.from_preset("paper", d_model=16, seq_len=128)
>>> cfg.norm, cfg.dropout_mode, cfg.init, cfg.wavelet
('layer', 'channel', 'paper', None)
>>> ModelConfig.from_json(cfg.to_json()) == cfg
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .cost import check_network_cost
from .options import (CONFIG_LIMITS, DROPOUT_MODES, HEADS, INIT_SCHEMES, NORMS, TREE_SELECTS, DropoutMode, Head,
                      InitScheme, Norm, TreeSelect)
from .checkpoint.jsonconfig import JsonConfig
from .treeselect import default_depth
from .wavelets import check_wavelet_name, wavelet_filters

__all__ = ["MODEL_PRESETS", "ModelConfig"]

#: Named sets of ``ModelConfig`` field values; ``ModelConfig.from_preset(name, **overrides)``.
#: ``paper``: the official classification network's architecture and its command-line defaults
#: (``--hinit`` None, ``--kernel_size`` 2, ``--dropout`` 0.1, LayerNorm unless ``--batchnorm``).
#: Sizes (``d_model``, ``n_layers``) are left to the caller: the paper's (256 x 10 for sCIFAR)
#: are far beyond a CPU demo. The optimizer side of the paper preset lives in ``TrainConfig``.
MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "norm": "layer",
        "dropout_mode": "channel",
        "dropout": 0.1,
        "init": "paper",
        "indep_res_init": False,
        "wavelet": None,
        "kernel_size": 2,
        "head": "pool",
    },
}

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
    dropout_mode: DropoutMode = "element"  # element: nn.Dropout; channel: nn.Dropout1d (official)
    init: InitScheme = "default"  # scales of random h0/h1 and of w; "paper": the official ones
    indep_res_init: bool = False  # skip weight ~ U(-1, 1), independent of M (official option)

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> ModelConfig:
        """A config from ``MODEL_PRESETS[preset]``, with ``overrides`` (any field) applied on top."""
        if preset not in MODEL_PRESETS:
            raise ValueError(f"unknown model preset {preset!r}; known presets: {sorted(MODEL_PRESETS)}")
        return cls.from_dict({**MODEL_PRESETS[preset], **overrides})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed.

        Then :func:`multires.cost.check_network_cost`: ``ConfigCostError`` (a ``ValueError``)
        when the fields are each in range but the network would cost more than
        :mod:`multires.options` allows (receptive field, kernel values, slots, parameters).
        """
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
        if (not isinstance(self.dropout, (int, float)) or isinstance(self.dropout, bool)
                or not 0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.dropout_mode not in DROPOUT_MODES:
            raise ValueError(f"dropout_mode must be one of {DROPOUT_MODES}, got {self.dropout_mode!r}")
        if self.init not in INIT_SCHEMES:
            raise ValueError(f"init must be one of {INIT_SCHEMES}, got {self.init!r}")
        if not isinstance(self.indep_res_init, bool):
            raise ValueError(f"indep_res_init must be true or false, got {self.indep_res_init!r}")
        check_network_cost(  # ConfigCostError: fields in range, but the whole too costly
            d_input=self.d_input, d_output=self.d_output, d_model=self.d_model, n_layers=self.n_layers,
            depth=self.resolved_depth, kernel_size=self.resolved_kernel_size, tree_select=self.tree_select,
            memory_size=self.memory_size, max_lag=self.max_lag)

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
