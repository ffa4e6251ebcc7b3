"""``MultiresLayer`` and ``MultiresNet``: the paper's network around ``MultiresConv``, readable top to bottom.

The block is the official classification network's (thjashin/multires-conv, ``classification.py``):
``h <- norm(h + dropout(GLU(conv1x1(dropout(GELU(MultiresConv(h)))))))``, post-norm, then mean
pooling and a linear decoder. ``ModelConfig.from_preset("paper")`` selects its LayerNorm, channel
dropout and initialisation; the defaults (BatchNorm, element dropout, this project's init) differ.

Shapes: ``B`` batch, ``D`` input features, ``H`` model width (channels), ``N`` length.
"""

from __future__ import annotations

import threading

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from multires.plaintext import quote

from .config import ModelConfig, check_choice
from .conv import MultiresConv
from .options import DROPOUT_MODES, DropoutMode
from .treeselect import Slot

__all__ = ["MultiresLayer", "MultiresNet", "build_model", "make_dropout", "state_layout"]


def make_dropout(rate: float, mode: DropoutMode) -> nn.Module:
    """``nn.Dropout`` (``element``) or ``nn.Dropout1d`` (``channel``: whole channels of (B, H, N))."""
    check_choice("dropout_mode", mode, DROPOUT_MODES)
    return nn.Dropout(rate) if mode == "element" else nn.Dropout1d(rate)


class MultiresLayer(nn.Module):
    """``MultiresConv`` followed by GELU and dropout. ``(B, H, N) -> (B, H, N)``."""

    def __init__(self, channels: int, dropout: float = 0.0, dropout_mode: DropoutMode = "element",
                 **conv_kwargs) -> None:
        super().__init__()
        self.conv = MultiresConv(channels, **conv_kwargs)
        self.dropout = make_dropout(dropout, dropout_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(F.gelu(self.conv(x)))


class _ChannelNorm(nn.Module):
    """LayerNorm over channels of a (B, H, N) tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class MultiresNet(nn.Module):
    """Encoder, residual MultiresLayer blocks with 1x1-conv GLU mixing and norm, then a head.

    ``x (B, D, N)`` -> ``(B, d_output)`` for heads ``pool``/``last``, ``(B, d_output, N)`` for ``sequence``.

    Examples
    --------
    >>> net = MultiresNet(ModelConfig(d_model=8, seq_len=64))
    >>> net(torch.randn(3, 1, 64)).shape
    torch.Size([3, 10])
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        c = config
        self.encoder = nn.Conv1d(c.d_input, c.d_model, 1)
        self.layers = nn.ModuleList(
            MultiresLayer(
                c.d_model, dropout=c.dropout, dropout_mode=c.dropout_mode, depth=c.depth,
                kernel_size=c.kernel_size, tree_select=c.tree_select, memory_size=c.memory_size,
                wavelet=c.wavelet, seq_len=c.seq_len, max_lag=c.max_lag, init=c.init,
                indep_res_init=c.indep_res_init,
            )
            for _ in range(c.n_layers)
        )
        self.mixers = nn.ModuleList(nn.Conv1d(c.d_model, 2 * c.d_model, 1) for _ in range(c.n_layers))
        make_norm = (lambda: nn.BatchNorm1d(c.d_model)) if c.norm == "batch" else (lambda: _ChannelNorm(c.d_model))
        self.norms = nn.ModuleList(make_norm() for _ in range(c.n_layers))
        self.dropout = make_dropout(c.dropout, c.dropout_mode)  # after the GLU, as the official mixing
        self.decoder = nn.Linear(c.d_model, c.d_output)

    @property
    def convs(self) -> list[MultiresConv]:
        """The ``MultiresConv`` of every block, first to last."""
        return [layer.conv for layer in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.config.d_input:
            raise ValueError(f"input must be (batch, {self.config.d_input}, length), got {tuple(x.shape)}")
        h = self.encoder(x)  # (B H N)
        for layer, mixer, norm in zip(self.layers, self.mixers, self.norms):
            z = F.glu(mixer(layer(h)), dim=1)  # (B H N)
            h = norm(h + self.dropout(z))
        if self.config.head == "pool":
            return self.decoder(h.mean(dim=-1))  # (B d_output)
        if self.config.head == "last":
            return self.decoder(h[..., -1])  # (B d_output)
        return self.decoder(h.transpose(1, 2)).transpose(1, 2)  # (B d_output N)

    def _conv(self, layer: int) -> MultiresConv:
        if not 0 <= layer < len(self.layers):
            raise ValueError(f"layer must be in 0..{len(self.layers) - 1}, got {layer}")
        return self.convs[layer]

    def filters(self, layer: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """Learned ``(h0, h1)`` of one layer and channel, as float64 arrays (k,)."""
        conv = self._conv(layer)
        if not 0 <= channel < conv.channels:
            raise ValueError(f"channel must be in 0..{conv.channels - 1}, got {channel}")
        return (conv.h0[channel].detach().double().numpy().copy(),
                conv.h1[channel].detach().double().numpy().copy())

    def memory(self, layer: int, channel: int) -> tuple[list[Slot], np.ndarray]:
        """Kept slots and their weights (skip weight last) of one layer and channel."""
        slots, weights = self._conv(layer).kept_weights(channel)
        return slots, weights.double().numpy()

    def kernel(self, layer: int, channel: int) -> np.ndarray:
        """Composite kernel (impulse response of the memory) of one layer and channel."""
        with torch.no_grad():
            return self._conv(layer).kernel()[channel].double().numpy()

    def update_selection(self, progress: float) -> None:
        """Advance the learned TREESELECT pruning schedule to ``progress`` in [0, 1] of training.

        No-op for fading/uniform. See :meth:`MultiresConv.prune_schedule`.
        """
        for conv in self.convs:
            if conv.tree_select == "learned":
                conv.select_top(conv.prune_schedule(progress))

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


# A build reseeds PyTorch's global generator and then restores it: builds must not interleave.
_BUILD_LOCK = threading.Lock()


def build_model(config: ModelConfig, seed: int = 0) -> MultiresNet:
    """``MultiresNet(config)`` initialised from ``seed``; the global RNG state is left as it was.

    >>> state = torch.get_rng_state()
    >>> a, b = build_model(ModelConfig(d_model=4), seed=3), build_model(ModelConfig(d_model=4), seed=3)
    >>> torch.equal(a.convs[0].w, b.convs[0].w), torch.equal(torch.get_rng_state(), state)
    (True, True)
    """
    with _BUILD_LOCK:
        state = torch.get_rng_state()
        try:
            torch.manual_seed(seed)
            return MultiresNet(config)
        finally:
            torch.set_rng_state(state)


def state_layout(config: ModelConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of ``MultiresNet(config).state_dict()``, built on the meta device (no memory).

    >>> state_layout(ModelConfig(d_model=4))["encoder.weight"]
    ((4, 1, 1), torch.float32)
    """
    with _BUILD_LOCK:  # the meta build draws from the global generator too
        state = torch.get_rng_state()
        try:
            with torch.device("meta"):
                net = MultiresNet(config)
        finally:
            torch.set_rng_state(state)
    return {k: (tuple(v.shape), v.dtype) for k, v in net.state_dict().items()}
