"""``MultiresConv``: the multiresolution convolution memory layer (docs/design.md, sections 2-7).

The layer is linear: per channel it computes the tree with shared filters ``h0, h1``, keeps the
slots a TREESELECT rule picks, and mixes them with weights ``w`` (skip weight last). It is applied
as one long causal FFT convolution (``multires.kernel``); ``forward_reference`` runs the
level-by-level tree instead and is the correctness reference.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from multires.plaintext import quote

from .config import check_choice
from .cost import check_layer_cost, check_receptive_field
from .kernel import (
    SynthesisPlan,
    band_filters,
    causal_fft_conv,
    composite_kernel,
    slot_filters,
    synthesis_plan,
)
from .options import INIT_SCHEMES, TREE_SELECTS, InitScheme, TreeSelect
from .tree import tree_levels
from .treeselect import Slot, default_depth, memory_slots, receptive_field
from .wavelets import wavelet_filters

__all__ = ["MultiresConv"]


class MultiresConv(nn.Module):
    """Multiresolution convolution memory, ``(B, C, N) -> (B, C, N)``, causal and linear.

    Parameters
    ----------
    channels : int
        ``C``; every channel has its own ``h0, h1`` and weights.
    depth : int, optional
        Tree depth ``J``. Default: the smallest depth whose coarsest level sees ``seq_len``
        samples (:func:`multires.default_depth`); one of ``depth`` and ``seq_len`` is required.
    kernel_size : int
        Filter length ``k`` (ignored when ``wavelet`` is given: that wavelet's length is used).
    tree_select : {"fading", "uniform", "learned"}
        TREESELECT rule (see :func:`multires.memory_slots`).
    memory_size : int, optional
        ``M``, required for ``uniform`` and ``learned``.
    wavelet : str, optional
        Initialise ``h0, h1`` from a discrete PyWavelets wavelet, e.g. ``"haar"`` or ``"db2"``;
        default: random.
    seq_len : int, optional
        Sequence length, used for the default depth.
    max_lag : int, optional
        ``learned`` only: largest lag a candidate slot may have (on top of the per-band cap of
        :func:`multires.treeselect.learned_lags_per_band`).
    init : {"default", "paper"}
        Scales of the random initialisation (``m`` = slots kept per channel, ``k`` = filter
        length). ``default``: random ``h0, h1 ~ U(-sqrt(3/k), sqrt(3/k))`` (each tap has variance
        ``1/k``, so each filter has expected squared norm 1) and ``w ~ N(0, 2/(m+1))``.
        ``paper``: the official code's ``h0, h1 ~ U(-1, 1) * sqrt(2/(2k))`` and
        ``w ~ U(-1, 1) * sqrt(2/(2m+2))``. A ``wavelet`` replaces ``h0, h1`` in both.
    indep_res_init : bool
        The official option: draw the skip weight ``U(-1, 1)``, independently of ``m``.

    Notes
    -----
    Unit expected energy per filter does *not* keep the tree's bands at unit energy: ``h0`` is
    shared by every level, so the coarse bands' impulse responses are ``J``-fold dilated
    convolutions of it and their energy goes like ``||h0||**(2J)`` (exactly so for 2-tap filters,
    whose dilated copies never overlap; measured, the median of ``log||g_J||^2 / log||h0||^2`` is
    ``J`` for ``k = 4`` too). With the default random init at ``J = 8`` the median channel's
    ``||g_{a,8}||^2`` is 0.63 but the mean is about 116: some channels explode, others vanish.
    Orthonormal wavelet filters keep every band at unit norm (the bands are then DWT basis
    functions), which is one reason wavelet initialisation helps.

    Attributes
    ----------
    h0, h1 : Parameter (C, k)
        Cross-correlation taps (docs/design.md, section 1).
    w : Parameter (C, n_slots + 1)
        Weights in ``slots`` order, skip weight last.
    slots : list of Slot
        The kept slots (for ``learned``: the candidates; ``slot_mask`` says which are kept).
    slot_mask : Tensor (C, n_slots), bool buffer
        All true except for ``learned``, where exactly ``memory_size`` per channel are true
        after :meth:`select_top`.

    The learned rule's candidates are bounded (at most about ``3 (J+1)`` or ``2 M``, see
    :mod:`multires.treeselect`), so its trainable weights stay a small multiple of fading's at
    any length; :meth:`compact` shrinks them further to the slots some channel keeps.

    Examples
    --------
    >>> conv = MultiresConv(4, depth=3, tree_select="uniform", memory_size=8, wavelet="haar")
    >>> conv(torch.randn(2, 4, 100)).shape
    torch.Size([2, 4, 100])
    """

    def __init__(
        self,
        channels: int,
        depth: int | None = None,
        kernel_size: int = 2,
        tree_select: TreeSelect = "fading",
        memory_size: int | None = None,
        wavelet: str | None = None,
        seq_len: int | None = None,
        max_lag: int | None = None,
        init: InitScheme = "default",
        indep_res_init: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {quote(channels)}")
        check_choice("tree_select", tree_select, TREE_SELECTS)
        if wavelet is not None:
            lo, hi = wavelet_filters(wavelet)
            kernel_size = len(lo)
        elif not isinstance(kernel_size, int) or kernel_size < 2:
            raise ValueError(f"kernel_size must be an integer >= 2, got {quote(kernel_size)}")
        if depth is None:
            if seq_len is None:
                raise ValueError("give depth, or seq_len to choose the depth that covers the sequence")
            depth = default_depth(seq_len, kernel_size)
        elif not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive integer, got {quote(depth)}")
        check_choice("init", init, INIT_SCHEMES)
        self.channels = channels
        self.depth = depth
        self.kernel_size = kernel_size
        self.tree_select: TreeSelect = tree_select
        self.memory_size = memory_size
        check_receptive_field(depth, kernel_size)  # before any slot list or filter is made that long
        self.slots: list[Slot] = memory_slots(tree_select, depth, kernel_size, memory_size, max_lag)
        check_layer_cost(channels, depth, kernel_size, len(self.slots), max(s.lag for s in self.slots))
        self.max_lag = max(s.lag for s in self.slots)
        # Largest lag any menu of this layer may hold (bounds what a loaded checkpoint can allocate).
        self.lag_limit = receptive_field(depth, kernel_size) - 1 if max_lag is None else max_lag

        if wavelet is not None:
            h0 = torch.tensor(lo, dtype=torch.float32).repeat(channels, 1)
            h1 = torch.tensor(hi, dtype=torch.float32).repeat(channels, 1)
        else:  # see Notes: unit expected filter energy does not keep the coarse bands at unit energy
            bound = math.sqrt(3.0 / kernel_size) if init == "default" else math.sqrt(2.0 / (2 * kernel_size))
            h0 = torch.empty(channels, kernel_size).uniform_(-bound, bound)
            h1 = torch.empty(channels, kernel_size).uniform_(-bound, bound)
        self.h0 = nn.Parameter(h0)
        self.h1 = nn.Parameter(h1)
        w = _initial_weights(channels, self.slots, tree_select, memory_size, init, indep_res_init)
        self.w = nn.Parameter(w)
        # Which candidate slots are kept, per channel. All true except while/after learning a selection.
        self.register_buffer("slot_mask", torch.ones(channels, len(self.slots), dtype=torch.bool))

    @property
    def n_slots(self) -> int:
        """Memory slots kept per channel and time step (``M``)."""
        return self.memory_size if self.tree_select == "learned" else len(self.slots)

    def effective_weights(self) -> torch.Tensor:
        """``w`` with unkept slots zeroed, (C, n_slots + 1)."""
        if self.tree_select != "learned":  # every slot is kept
            return self.w
        mask = torch.cat([self.slot_mask, self.slot_mask.new_ones(self.channels, 1)], dim=1)
        return self.w * mask

    def kernel(self) -> torch.Tensor:
        """Composite kernel ``K`` (C, L): the memory's impulse response per channel."""
        return composite_kernel(self.h0, self.h1, self.effective_weights(), self.slots, self.depth,
                                plan=self._synthesis_plan())

    def _synthesis_plan(self) -> SynthesisPlan | None:
        """``synthesis_plan`` of the current slot list, made once per list (``use_candidates`` replaces it)."""
        cached = getattr(self, "_plan_cache", None)
        if cached is None or cached[0] is not self.slots:
            cached = (self.slots, synthesis_plan(self.slots, self.depth, self.kernel_size))
            self._plan_cache = cached
        return cached[1]

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
            raise ValueError(f"input must be a tensor (batch, channels, length), got {shape}")
        if x.shape[1] != self.channels:
            raise ValueError(f"input has {x.shape[1]} channels, the layer expects {self.channels}")
        if x.shape[-1] < 1:
            raise ValueError("input sequence is empty")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer with one FFT convolution. ``x (B, C, N) -> y (B, C, N)``."""
        self._check_input(x)
        return causal_fft_conv(x, self.kernel().to(x.dtype))

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        """Same output via the level-by-level tree (slow; the reference). ``(B, C, N) -> (B, C, N)``."""
        self._check_input(x)
        approx, details = tree_levels(x, self.h0.to(x.dtype), self.h1.to(x.dtype), self.depth)  # (B C N), (B C J N)
        w = self.effective_weights().to(x.dtype)
        y = w[:, -1:] * x
        for i, slot in enumerate(self.slots):
            coeff = approx if slot.band == "approx" else details[:, :, slot.level - 1]
            shifted = torch.nn.functional.pad(coeff, (slot.lag, 0))[..., : x.shape[-1]]
            y = y + w[:, i : i + 1] * shifted
        return y

    def slot_filters(self) -> torch.Tensor:
        """Impulse response of every slot, lag included, (C, n_slots, L) — see :func:`multires.kernel.slot_filters`."""
        return slot_filters(self.h0, self.h1, self.slots, self.depth)

    # --- learned TREESELECT -------------------------------------------------------------------
    # Gradual magnitude pruning (Zhu & Gupta 2017) over the candidate slots: training starts with
    # every candidate active and the number kept per channel shrinks on a cubic schedule to exactly
    # ``memory_size``; a slot's importance is |w_s| * ||g_s||_2, its weight times the L2 norm (not
    # the energy, which would be the squared norm) of its impulse response: the RMS size of its
    # contribution to y under white-noise input, so slots of different levels compete on that.
    # Chosen over relaxed top-k / hard-concrete gates: no temperature or penalty to tune, a hard
    # mask at every step (the kernel stays exactly the linear, causal one of docs/design.md, section 6), and
    # the selection's history is just the sequence of masks.

    PRUNE_END: float = 0.6  # fraction of training after which exactly memory_size slots remain

    def prune_schedule(self, progress: float) -> int:
        """Slots to keep per channel at ``progress`` in [0, 1] of training (cubic decay to ``M``)."""
        if self.tree_select != "learned":
            return len(self.slots)
        t = min(max(progress / self.PRUNE_END, 0.0), 1.0)
        total, target = len(self.slots), self.memory_size
        return target + int(round((total - target) * (1.0 - t) ** 3))

    def slot_importance(self) -> torch.Tensor:
        """``|w_s| * ||g_s||_2`` per channel and candidate slot, (C, n_candidates)."""
        with torch.no_grad():
            # ||g_s|| does not depend on the lag, so one norm per band suffices; building every
            # slot's filter (slot_filters) would cost O(C * S * L) memory for many candidates.
            approx, details = band_filters(self.h0, self.h1, self.depth)
            norms = {("approx", self.depth): approx.norm(dim=-1)}  # (C)
            norms.update({("detail", lvl): g.norm(dim=-1) for lvl, g in enumerate(details, start=1)})
            norm = torch.stack([norms[(s.band, s.level)] for s in self.slots], dim=1)  # (C S)
            return self.w[:, :-1].abs() * norm

    def select_top(self, keep: int) -> None:
        """Keep the ``keep`` most important of the currently kept slots in every channel."""
        if self.tree_select != "learned":
            raise ValueError("select_top only applies to tree_select='learned'")
        if not self.memory_size <= keep <= len(self.slots):
            raise ValueError(f"keep must be in {self.memory_size}..{len(self.slots)}, got {keep}")
        if keep >= int(self.slot_mask.sum(dim=1).min()):
            return
        with torch.no_grad():
            score = self.slot_importance().masked_fill(~self.slot_mask, -1.0)
            top = score.topk(keep, dim=1).indices
            self.slot_mask.zero_().scatter_(1, top, True)

    # --- budget counting and compaction -------------------------------------------------------

    def slots_per_channel(self) -> int:
        """Largest number of slots any channel reads per time step (``M``; ``J+1`` for fading).

        For ``learned`` this is ``memory_size`` once the pruning schedule has ended (more before).

        >>> MultiresConv(4, depth=5).slots_per_channel()
        6
        """
        return int(self.slot_mask.sum(dim=1).max())

    def distinct_slots(self) -> int:
        """Distinct ``(band, level, lag)`` slots kept by *any* channel of the layer.

        Equal to :meth:`slots_per_channel` for fading and uniform (every channel reads the same
        slots); up to ``channels * M`` for learned, whose channels may split the tree.

        >>> MultiresConv(4, depth=5, tree_select="uniform", memory_size=7).distinct_slots()
        7
        """
        return int(self.slot_mask.any(dim=0).sum())

    def use_candidates(self, slots: list[Slot]) -> None:
        """Replace the learned rule's candidate list (``w`` and ``slot_mask`` resized, zeroed/all true).

        Used to load compacted or pre-cap checkpoints: build the layer, call this with the stored
        candidates, then ``load_state_dict``. ``slots`` must be unique, in weight order, within
        the tree (``approx`` only at level ``J``, lags up to ``max_lag`` or the receptive field)
        and at least ``memory_size`` long.
        """
        if self.tree_select != "learned":
            raise ValueError("use_candidates only applies to tree_select='learned'")
        slots = list(slots)
        bad = [s for s in slots if not (isinstance(s, Slot) and 1 <= s.level <= self.depth
                                        and 0 <= s.lag <= self.lag_limit
                                        and (s.band == "detail" or s.level == self.depth))]
        if bad:
            raise ValueError(f"candidate slots outside a depth-{self.depth} tree with lags 0..{self.lag_limit}: "
                             f"{[str(s) for s in bad[:3]]}")
        if slots != sorted(set(slots), key=_weight_order):
            raise ValueError("candidate slots must be unique and in weight order (approx, then detail "
                             "levels coarse to fine, most recent first)")
        if len(slots) < self.memory_size:
            raise ValueError(f"{len(slots)} candidate slots cannot hold memory_size={self.memory_size}")
        check_layer_cost(self.channels, self.depth, self.kernel_size, len(slots), max(s.lag for s in slots))
        self.slots = slots
        self.max_lag = max(s.lag for s in slots)
        like = self.w.detach()
        self.w = nn.Parameter(like.new_zeros(self.channels, len(slots) + 1))
        self.slot_mask = self.slot_mask.new_ones(self.channels, len(slots))

    def compact(self) -> None:
        """Drop the candidates no channel keeps (learned only); outputs are unchanged.

        Keeps the union of the channels' kept slots, in weight order, their weights, the skip
        weight and the masks. What a checkpoint stores.
        """
        if self.tree_select != "learned":
            raise ValueError("compact only applies to tree_select='learned'")
        used = self.slot_mask.any(dim=0)  # (S)
        columns = torch.cat([used, used.new_ones(1)])
        weights, mask = self.w.detach()[:, columns].clone(), self.slot_mask[:, used].clone()
        self.use_candidates([s for s, keep in zip(self.slots, used.tolist()) if keep])
        with torch.no_grad():
            self.w.copy_(weights)
        self.slot_mask.copy_(mask)

    def kept_slots(self, channel: int) -> list[Slot]:
        """Slots that form channel ``channel``'s memory, in weight order."""
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel must be in 0..{self.channels - 1}, got {channel}")
        return [s for s, keep in zip(self.slots, self.slot_mask[channel].tolist()) if keep]

    def kept_weights(self, channel: int) -> tuple[list[Slot], torch.Tensor]:
        """``(slots, weights)`` of one channel's memory; weights (n_slots + 1,) end with the skip."""
        slots = self.kept_slots(channel)
        mask = torch.cat([self.slot_mask[channel], torch.tensor([True])])
        return slots, self.w[channel][mask].detach().clone()

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, depth={self.depth}, kernel_size={self.kernel_size}, "
            f"tree_select={quote(self.tree_select)}, slots={self.n_slots}"
        )


def _weight_order(slot: Slot) -> tuple[int, int, int]:
    """Sort key of the weight order: approx first, then detail levels coarse to fine, recent first."""
    return (0 if slot.band == "approx" else 1, -slot.level, slot.lag)


def _initial_weights(channels: int, slots: list[Slot], tree_select: str, memory_size: int | None, init: str,
                     indep_res_init: bool) -> torch.Tensor:
    """``w (channels, n_slots + 1)`` at initialisation, scaled by the slots each channel keeps."""
    n_weights = len(slots) + 1
    m = memory_size if tree_select == "learned" else len(slots)  # slots kept per channel
    if init == "default":
        w = torch.randn(channels, n_weights) * math.sqrt(2.0 / (m + 1))
    else:  # official: uniform(-1, 1) * sqrt(2 / (2m + 2))
        w = torch.empty(channels, n_weights).uniform_(-1.0, 1.0) * math.sqrt(2.0 / (2 * m + 2))
    if indep_res_init:  # official option: the skip weight does not shrink with m
        w[:, -1].uniform_(-1.0, 1.0)
    if tree_select == "learned":
        # Start from resolution fading: only the lag-0 slots (and the skip) carry weight; every
        # other candidate starts at 0 and grows only where the gradient pays for it. Measured on
        # the memory task this beat a random dense start (mean R^2 0.34 vs 0.25, frozen Haar).
        w[:, :-1] *= torch.tensor([s.lag == 0 for s in slots], dtype=w.dtype)
    return w
