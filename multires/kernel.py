"""The layer as one long causal convolution (docs/design.md, section 6).

Every TREESELECT rule reads fixed lags, so per channel ``y = K * x`` with ::

    K = sum_s w_s * shift(g_{band_s, level_s}, lag_s) + w_skip * delta

``band_filters`` builds the impulse responses ``g`` of every tree band, ``composite_kernel`` sums
them into ``K`` (by Horner's rule over the levels when the lags allow, see ``synthesis_plan``) and
``causal_fft_conv`` applies ``K`` with ``torch.fft`` in ``O(N log N)``.
All functions are differentiable in the filters and weights.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .treeselect import Slot, receptive_field

__all__ = ["SynthesisPlan", "band_filters", "causal_fft_conv", "composite_kernel", "slot_filters", "synthesis_plan"]


def _dilated_full_conv(p: torch.Tensor, taps: torch.Tensor, dilation: int) -> torch.Tensor:
    """Full convolution of ``p (C, L)`` with ``taps (C, k)`` upsampled by ``dilation``."""
    k = taps.shape[-1]
    span = (k - 1) * dilation
    return sum(
        F.pad(taps[:, i : i + 1] * p, (i * dilation, span - i * dilation)) for i in range(k)
    )


def band_filters(h0: torch.Tensor, h1: torch.Tensor, depth: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Impulse responses (convolution form) of ``a_J`` and of every detail band.

    ``b_l[n] = sum_m g_l[m] x[n - m]``; ``g_l`` has length ``(k-1)(2**l - 1) + 1``.

    Parameters
    ----------
    h0, h1 : Tensor (C, k)
        Cross-correlation taps.
    depth : int

    Returns
    -------
    approx : Tensor (C, (k-1)(2**J-1)+1)
    details : list of J Tensors, ``details[l-1]`` of shape (C, (k-1)(2**l-1)+1)
    """
    lo, hi = h0.flip(-1), h1.flip(-1)  # convolution taps
    p = torch.ones(h0.shape[0], 1, dtype=h0.dtype, device=h0.device)  # delta, (C 1)
    details = []
    for level in range(1, depth + 1):
        dilation = 2 ** (level - 1)
        details.append(_dilated_full_conv(p, hi, dilation))
        p = _dilated_full_conv(p, lo, dilation)
    return p, details


def slot_filters(h0: torch.Tensor, h1: torch.Tensor, slots: list[Slot], depth: int) -> torch.Tensor:
    """Impulse response of every slot, lag included: ``z_s[n] = sum_m G[:, s, m] x[n - m]``.

    Parameters
    ----------
    h0, h1 : Tensor (C, k)
    slots : list of Slot
    depth : int

    Returns
    -------
    G : Tensor (C, len(slots), (k-1)(2**J-1) + 1 + max lag)
        Row ``s`` is zero before ``lag_s``; read it as "which past samples this coefficient mixes".
    """
    k = h0.shape[-1]
    length = receptive_field(depth, k) + max((s.lag for s in slots), default=0)
    approx, details = band_filters(h0, h1, depth)
    rows = []
    for s in slots:
        g = approx if s.band == "approx" else details[s.level - 1]
        rows.append(F.pad(g, (s.lag, length - s.lag - g.shape[-1])))
    return torch.stack(rows, dim=1)


def _comb_conv(g: torch.Tensor, weights: torch.Tensor, lags: list[int]) -> torch.Tensor:
    """``sum_i weights[:, i] * shift(g, lags[i])``, exactly, in ``O(k * L)`` per channel.

    The lags of one band lie on a grid of period ``P = gcd(lags)`` (``2**level`` for the uniform
    and learned rules), so the sum is a comb ``c`` (weights on the grid) convolved with ``g``. Cut
    ``g`` into ``Q = ceil(len(g) / P)`` blocks of ``P`` taps: phase ``r`` of the result is ``c``
    convolved with the ``Q`` taps ``g[q*P + r]``, i.e. ``Q`` shifted outer products. ``Q <= k`` when the lags lie on the
    band's decimated grid (multiples of ``2**level``); other lags are exact too, only slower.
    This replaces a grouped ``conv1d`` whose CPU backward was the bottleneck for many slots.

    Parameters
    ----------
    g : Tensor (C, Lg)
    weights : Tensor (C, S)
    lags : list of S ints >= 0

    Returns
    -------
    Tensor (C, max(lags) + Lg)
    """
    channels, g_len = g.shape
    period = math.gcd(*lags) or 1
    n_comb = max(lags) // period + 1
    n_blocks = -(-g_len // period)
    index = torch.tensor([lag // period for lag in lags], device=weights.device)
    comb = weights.new_zeros(channels, n_comb).index_add(1, index, weights)  # (C I)
    blocks = F.pad(g, (0, n_blocks * period - g_len)).reshape(channels, n_blocks, period)  # (C Q P)
    out = sum(
        F.pad(comb, (q, n_blocks - 1 - q)).unsqueeze(-1) * blocks[:, q].unsqueeze(1)  # (C I+Q-1 P)
        for q in range(n_blocks)
    )
    return out.reshape(channels, -1)[:, : max(lags) + g_len]


def _group_by_band(slots: list[Slot]) -> dict[tuple[str, int], list[tuple[int, int]]]:
    groups: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for index, slot in enumerate(slots):
        groups[(slot.band, slot.level)].append((index, slot.lag))
    return groups


@dataclass(frozen=True)
class SynthesisPlan:
    """Where every slot's taps land in the per-level tables of :func:`composite_kernel`'s fast path.

    Level ``l``'s table is ``T_l`` on the grid of period ``2**(l-1)``: ``lengths[l-1]`` values of one
    flat table, levels 1 to J one after the other (each level exactly as long as the upsampled
    coarser level, so the Horner steps never cut); ``kind`` says which filter a slot's taps
    come from (0: ``h0`` for ``a_J``, 1: ``h1`` for a detail band); ``positions`` are the flat
    columns of every slot's ``k`` taps, slot by slot, then the skip weight's (level 1, lag 0).
    """

    length: int
    lengths: tuple[int, ...]
    kind: torch.Tensor
    positions: torch.Tensor


def synthesis_plan(slots: list[Slot], depth: int, kernel_size: int) -> SynthesisPlan | None:
    """The fast path's table layout, or ``None`` when a slot's lag is off its level's grid.

    The fast path needs ``lag % 2**(level-1) == 0`` for every slot (``level = J`` for ``a_J``):
    true of fading (all lags 0), uniform and the learned rule's candidates.
    """
    if any(s.lag % 2 ** (s.level - 1) for s in slots):
        return None
    length = receptive_field(depth, kernel_size) + max((s.lag for s in slots), default=0)
    half = (kernel_size + 1) // 2
    lengths = [-(-length // 2 ** (depth - 1))]  # level J, then each finer level holds up2 of the coarser
    for _ in range(depth - 1):
        lengths.insert(0, 2 * (lengths[0] + half - 1))
    offsets = list(itertools.accumulate(lengths[:-1], initial=0))  # where each level starts in the table
    positions = [
        offsets[s.level - 1] + s.lag // 2 ** (s.level - 1) + kernel_size - 1 - j  # tap j acts at delay k-1-j
        for s in slots
        for j in range(kernel_size)
    ]
    return SynthesisPlan(
        length=length,
        lengths=tuple(lengths),
        kind=torch.tensor([0 if s.band == "approx" else 1 for s in slots], dtype=torch.long),
        positions=torch.tensor(positions + [0], dtype=torch.long),
    )


def _upsample_lowpass(r: torch.Tensor, phases: list[torch.Tensor]) -> torch.Tensor:
    """``lo * up2(r)``: ``r (C, m)`` upsampled by 2 (zeros between) and convolved with ``lo``.

    ``phases[j]`` is ``(C, 1, 2)``: the convolution taps ``lo[2j], lo[2j+1]``, so output ``2q + p``
    is ``sum_j lo[2j + p] r[q - j]``. Length ``2 (m + half - 1)`` with ``half = len(phases)``.
    """
    channels, half = r.shape[0], len(phases)
    if half == 1:  # k = 2: one outer product
        return (r.unsqueeze(-1) * phases[0]).reshape(channels, -1)
    padded = F.pad(r, (half - 1, half - 1)).unsqueeze(-1)  # (C m+2half-2 1)
    width = r.shape[-1] + half - 1
    out = sum(padded[:, half - 1 - j : half - 1 - j + width] * phases[j] for j in range(half))
    return out.reshape(channels, -1)


def _synthesis_kernel(h0: torch.Tensor, h1: torch.Tensor, w: torch.Tensor, plan: SynthesisPlan) -> torch.Tensor:
    """``K`` by Horner's rule over the levels, coarse to fine, on decimated grids.

    ``K = R_1`` with ``R_l = T_l + up(lo, 2**(l-1)) * R_{l+1}`` (``R_{J+1} = 0``), where ``T_l``
    holds level ``l``'s slot taps (``w_s h1`` at ``lag_s + j 2**(l-1)``; ``w_s h0`` for ``a_J``) and the
    skip. ``R_l`` lives on the grid of period ``2**(l-1)``, so on that grid the step is an inverse
    wavelet transform step: upsample by 2, convolve with the undilated ``lo``. About ``4 J`` small
    tensor operations and ``O(C L)`` work, against ``O(J k)`` operations for the band-by-band sum.
    """
    channels, k = h0.shape
    positions, kind = plan.positions.to(w.device), plan.kind.to(w.device)
    taps = torch.stack([h0, h1], dim=1)[:, kind]  # (C S k)
    values = torch.cat([(w[:, :-1, None] * taps).reshape(channels, -1), w[:, -1:]], dim=1)
    table = w.new_zeros(channels, sum(plan.lengths)).index_add_(1, positions, values)
    rows = table.split(plan.lengths, dim=1)  # T_1 ... T_J
    half = (k + 1) // 2
    phases = F.pad(h0.flip(-1), (0, 2 * half - k)).view(channels, 1, half, 2).unbind(2)
    r = rows[-1]
    for row in reversed(rows[:-1]):
        r = row + _upsample_lowpass(r, phases)
    return r[:, : plan.length]


def _band_sum_kernel(h0: torch.Tensor, h1: torch.Tensor, w: torch.Tensor, slots: list[Slot],
                     depth: int) -> torch.Tensor:
    """``K`` band by band: every band's impulse response, shifted and weighted (any lags)."""
    channels, k = h0.shape
    max_lag = max((s.lag for s in slots), default=0)
    length = receptive_field(depth, k) + max_lag
    approx, details = band_filters(h0, h1, depth)
    kernel = F.pad(w[:, -1:], (0, length - 1))  # skip term: w_skip * delta
    for (band, level), members in _group_by_band(slots).items():
        g = approx if band == "approx" else details[level - 1]  # (C Lg)
        lags = [lag for _, lag in members]
        index = torch.tensor([i for i, _ in members], device=w.device)
        if len(members) == 1:
            part = w[:, index] * g
        else:  # a comb of weights at the lags, convolved with g
            part = _comb_conv(g, w[:, index], lags)
        shift = min(lags) if len(members) == 1 else 0
        kernel = kernel + F.pad(part, (shift, length - shift - part.shape[-1]))
    return kernel


def composite_kernel(
    h0: torch.Tensor,
    h1: torch.Tensor,
    w: torch.Tensor,
    slots: list[Slot],
    depth: int,
    plan: SynthesisPlan | None = None,
) -> torch.Tensor:
    """The memory's impulse response ``K`` per channel.

    Two exact evaluation orders give the same ``K``: when every lag lies on its level's grid
    (:func:`synthesis_plan`; fading, uniform, learned) Horner's rule over the levels
    (``_synthesis_kernel``, few operations: it keeps short sequences fast), otherwise the sum of
    shifted band impulse responses (``_band_sum_kernel``).

    Parameters
    ----------
    h0, h1 : Tensor (C, k)
    w : Tensor (C, len(slots) + 1)
        Slot weights in ``slots`` order, skip weight last.
    slots : list of Slot
    depth : int
    plan : SynthesisPlan, optional
        ``synthesis_plan(slots, depth, k)``, if the caller keeps one (:class:`MultiresConv` does).

    Returns
    -------
    K : Tensor (C, (k-1)(2**J-1) + 1 + max lag)
        ``y[n] = sum_m K[m] x[n-m]``.
    """
    channels, k = h0.shape
    if w.shape != (channels, len(slots) + 1):
        raise ValueError(f"w must be (channels, n_slots + 1) = {(channels, len(slots) + 1)}, got {tuple(w.shape)}")
    plan = plan if plan is not None else synthesis_plan(slots, depth, k)
    if plan is None:
        return _band_sum_kernel(h0, h1, w, slots, depth)
    return _synthesis_kernel(h0, h1, w, plan)


#: Largest ``rfft(x)`` the FFT convolution keeps for its backward instead of recomputing it.
KEEP_SPECTRUM_BYTES = 4 * 2**20


class _CausalFFTConv(torch.autograd.Function):
    """``y = irfft(rfft(x) * rfft(K))[:N]`` with a hand-written backward.

    Autograd through ``torch.fft`` allocates several full-size complex buffers per step and saves
    ``rfft(x)`` (twice the size of ``x``); on CPU the page faults of those fresh allocations were
    most of the step's time. Here the backward is the adjoint written out, with the same
    zero-padding argument as the forward (``nfft >= N + L - 1``, so nothing wraps around)::

        dL/dx[n] = sum_m K[m] g[n+m]            = irfft(G * conj(rfft(K)))[:N]
        dL/dK[m] = sum_b sum_n g[n] x[n-m]      = irfft(sum_b G * conj(rfft(x)))[:L]

    with ``G = rfft(g)``. ``x`` (alive anyway) and ``rfft(K)`` (C, F) are saved; ``rfft(x)`` is
    saved too while it is small (``KEEP_SPECTRUM_BYTES``: short sequences, where an FFT costs more
    than keeping its result) and recomputed in the backward beyond that. Four or five batch-sized
    FFTs per step, in-place products.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel: torch.Tensor, nfft: int) -> torch.Tensor:
        n = x.shape[-1]
        kernel_spectrum = torch.fft.rfft(kernel, n=nfft)  # (C F)
        x_spectrum = torch.fft.rfft(x, n=nfft)  # (B C F)
        keep = ctx.needs_input_grad[1] and x_spectrum.nbytes <= KEEP_SPECTRUM_BYTES
        spectrum = x_spectrum * kernel_spectrum if keep else x_spectrum.mul_(kernel_spectrum)
        ctx.save_for_backward(x, kernel_spectrum, x_spectrum if keep else None)
        ctx.nfft, ctx.kernel_len = nfft, kernel.shape[-1]
        return torch.fft.irfft(spectrum, n=nfft)[..., :n].contiguous()  # (B C N)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_y: torch.Tensor):
        x, kernel_spectrum, x_spectrum = ctx.saved_tensors
        n, nfft = x.shape[-1], ctx.nfft
        grad_spectrum = torch.fft.rfft(grad_y, n=nfft)  # (B C F)
        grad_x = grad_kernel = None
        if ctx.needs_input_grad[1]:
            if x_spectrum is None:
                cross = torch.fft.rfft(x, n=nfft).conj_physical_().mul_(grad_spectrum).sum(dim=0)  # (C F)
            else:  # kept: never modified in place (a retained graph may run backward again)
                cross = (x_spectrum.conj() * grad_spectrum).sum(dim=0)
            grad_kernel = torch.fft.irfft(cross, n=nfft)[..., : ctx.kernel_len].contiguous()  # (C L)
        if ctx.needs_input_grad[0]:
            grad_spectrum.mul_(kernel_spectrum.conj())
            grad_x = torch.fft.irfft(grad_spectrum, n=nfft)[..., :n].contiguous()  # (B C N)
        return grad_x, grad_kernel, None


def causal_fft_conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution ``y[n] = sum_m K[m] x[n-m]`` (zero history) via ``torch.fft``.

    Differentiable in ``x`` and ``kernel`` (first order; the backward is written out, see
    ``_CausalFFTConv``).

    Parameters
    ----------
    x : Tensor (B, C, N)
    kernel : Tensor (C, L)

    Returns
    -------
    y : Tensor (B, C, N)
    """
    n = x.shape[-1]
    kernel = kernel[..., :n]  # taps beyond N never reach an output
    nfft = 1 << (n + kernel.shape[-1] - 2).bit_length()  # >= N + L - 1: no wrap-around
    dtype = torch.promote_types(x.dtype, kernel.dtype)
    return _CausalFFTConv.apply(x.to(dtype), kernel.to(dtype), nfft)
