"""Configs: ``Architecture`` (the options a model and a training run share), ``ModelConfig``.

``Architecture`` holds the layer and network fields that both ``ModelConfig`` (everything needed
to rebuild a ``MultiresNet``) and ``multires.training.TrainConfig`` (a training run) carry; they
are defined and checked once, here, and the checks (:func:`check_integer`, :func:`check_choice`)
serve ``MultiresConv`` too. Kept apart from the network (and from PyTorch) so that a checkpoint's
config can be read and checked without importing torch. ``MODEL_PRESETS`` holds named sets of field values; ``"paper"``
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

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from multires.plaintext import quote

from .checkpoint.jsonconfig import JsonConfig
from .cost import check_network_cost
from .options import (
    CONFIG_LIMITS,
    DROPOUT_MODES,
    HEADS,
    INIT_SCHEMES,
    NORMS,
    TREE_SELECTS,
    DropoutMode,
    Head,
    InitScheme,
    Norm,
    TreeSelect,
)
from .treeselect import default_depth
from .wavelets import check_wavelet_name, wavelet_filters

__all__ = ["MODEL_PRESETS", "Architecture", "ModelConfig", "check_at_least", "check_choice", "check_integer"]

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


def check_integer(name: str, value: Any, low: int, high: int, what: str = "") -> int:
    """``value`` if it is an integer (not a bool) in ``low..high``, else a ``ValueError`` naming ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what}{name} must be an integer in {low}..{high}, got {quote(value)}")
    return value


def check_at_least(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int`` if it is an integer (NumPy's too, not a bool) ``>= minimum``, else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {quote(value)}")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` that lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {quote(value)}")
    return value


@dataclass
class Architecture(JsonConfig):
    """The layer and network options that a model and a training run share, checked once.

    Subclasses set ``_bounds`` (field -> inclusive integer range): a checkpoint's model may be as
    large as :data:`~multires.options.CONFIG_LIMITS` allows, a training run in the app only as large
    as :data:`~multires.options.TRAIN_LIMITS` allows.
    """

    _bounds: ClassVar[dict[str, tuple[int, int]]] = {}

    tree_select: TreeSelect = "fading"  # TREESELECT rule: fading, uniform or learned
    memory_size: int | None = None  # M slots per channel; needed by uniform and learned
    max_lag: int | None = None  # learned only: largest candidate lag (None: the receptive field)
    wavelet: str | None = "haar"  # filter init from PyWavelets; None: random filters
    kernel_size: int = 2  # filter length k when wavelet is None (a wavelet sets its own)
    depth: int | None = None  # tree depth J (how far back the coarsest coefficient reaches); None: covers seq_len
    d_model: int = 32  # channels H of every MultiresConv
    n_layers: int = 2  # stacked residual blocks
    dropout: float = 0.0  # after each MultiresConv's GELU
    norm: Norm = "batch"  # normalisation after each residual block: batch or layer
    dropout_mode: DropoutMode = "element"  # element: nn.Dropout; channel: nn.Dropout1d (the paper's)
    init: InitScheme = "default"  # scales of random h0/h1 and of w: default, or paper (the official ones)
    indep_res_init: bool = False  # skip weight ~ U(-1, 1), independent of M (official option)

    def architecture(self) -> dict[str, Any]:
        """The shared fields and their values (what a ``TrainConfig`` hands its ``ModelConfig``)."""
        return {f.name: getattr(self, f.name) for f in fields(Architecture)}

    def _check_integers(self, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        for name in names:
            value = getattr(self, name)
            if value is None and name in optional:
                continue
            low, high = self._bounds[name]
            check_integer(name, value, low, high, what=f"{self._what} field ")

    def validate_architecture(self) -> None:
        """Raise ``ValueError`` naming the first bad shared field and what is allowed."""
        self._check_integers(("d_model", "n_layers", "kernel_size", "depth", "memory_size", "max_lag"),
                             optional=("depth", "memory_size", "max_lag"))
        check_choice("tree_select", self.tree_select, TREE_SELECTS)
        if self.tree_select in ("uniform", "learned") and self.memory_size is None:
            raise ValueError(f"tree_select={quote(self.tree_select)} needs memory_size (the slots M per channel)")
        if self.wavelet is not None:
            check_wavelet_name(self.wavelet)
        if (not isinstance(self.dropout, (int, float)) or isinstance(self.dropout, bool)
                or not 0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout must be in [0, 1), got {quote(self.dropout)}")
        check_choice("norm", self.norm, NORMS)
        check_choice("dropout_mode", self.dropout_mode, DROPOUT_MODES)
        check_choice("init", self.init, INIT_SCHEMES)
        if not isinstance(self.indep_res_init, bool):
            raise ValueError(f"indep_res_init must be true or false, got {quote(self.indep_res_init)}")

    @property
    def resolved_kernel_size(self) -> int:
        """The filter length actually used (the wavelet's, when one is given)."""
        return self.kernel_size if self.wavelet is None else len(wavelet_filters(self.wavelet)[0])


def _config_bounds() -> dict[str, tuple[int, int]]:
    lowest = {"kernel_size": 2, "max_lag": 0}
    return {name: (lowest.get(name, 1), high) for name, high in CONFIG_LIMITS.items()}


@dataclass
class ModelConfig(Architecture):
    """Everything needed to rebuild a ``MultiresNet``; round-trips through JSON."""

    _what: ClassVar[str] = "model config"
    _bounds: ClassVar[dict[str, tuple[int, int]]] = _config_bounds()

    d_input: int = 1  # input features per time step (1 for a scalar signal)
    d_output: int = 10  # classes, or regression targets
    seq_len: int = 64  # sequence length, sets the default depth
    head: Head = "pool"  # pool: mean over time; last: last step; sequence: every step

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> ModelConfig:
        """A config from ``MODEL_PRESETS[preset]``, with ``overrides`` (any field) applied on top."""
        if preset not in MODEL_PRESETS:
            raise ValueError(f"unknown model preset {quote(preset)}; known presets: {sorted(MODEL_PRESETS)}")
        return cls.from_dict({**MODEL_PRESETS[preset], **overrides})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed.

        Then :func:`multires.cost.check_network_cost`: ``ConfigCostError`` (a ``ValueError``) when
        the fields are each in range but the network would cost more than :mod:`multires.options`
        allows (receptive field, kernel values, slots, parameters).
        """
        self._check_integers(("d_input", "d_output", "seq_len"))
        self.validate_architecture()
        check_choice("head", self.head, HEADS)
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
