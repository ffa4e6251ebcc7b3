"""The layer as one long causal convolution (docs/design.md, section 6).

Every TREESELECT rule reads fixed lags, so per channel ``y = K * x`` with ::

    K = sum_s w_s * shift(g_{band_s, level_s}, lag_s) + w_skip * delta

``band_filters`` builds the impulse responses ``g`` of every tree band, ``composite_kernel`` sums
them into ``K`` and ``causal_fft_conv`` applies ``K`` with ``torch.fft`` in ``O(N log N)``.
All functions are differentiable in the filters and weights.
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch
import torch.nn.functional as F

from .treeselect import Slot, receptive_field

__all__ = ["band_filters", "causal_fft_conv", "composite_kernel", "slot_filters"]


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


def composite_kernel(
    h0: torch.Tensor,
    h1: torch.Tensor,
    w: torch.Tensor,
    slots: list[Slot],
    depth: int,
) -> torch.Tensor:
    """The memory's impulse response ``K`` per channel.

    Parameters
    ----------
    h0, h1 : Tensor (C, k)
    w : Tensor (C, len(slots) + 1)
        Slot weights in ``slots`` order, skip weight last.
    slots : list of Slot
    depth : int

    Returns
    -------
    K : Tensor (C, (k-1)(2**J-1) + 1 + max lag)
        ``y[n] = sum_m K[m] x[n-m]``.
    """
    channels, k = h0.shape
    if w.shape != (channels, len(slots) + 1):
        raise ValueError(f"w must be (channels, n_slots + 1) = {(channels, len(slots) + 1)}, got {tuple(w.shape)}")
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


class _CausalFFTConv(torch.autograd.Function):
    """``y = irfft(rfft(x) * rfft(K))[:N]`` with a hand-written backward.

    Autograd through ``torch.fft`` allocates several full-size complex buffers per step and saves
    ``rfft(x)`` (twice the size of ``x``); on CPU the page faults of those fresh allocations were
    most of the step's time. Here the backward is the adjoint written out, with the same
    zero-padding argument as the forward (``nfft >= N + L - 1``, so nothing wraps around)::

        dL/dx[n] = sum_m K[m] g[n+m]            = irfft(G * conj(rfft(K)))[:N]
        dL/dK[m] = sum_b sum_n g[n] x[n-m]      = irfft(sum_b G * conj(rfft(x)))[:L]

    with ``G = rfft(g)``. Only ``x`` (alive anyway) and ``rfft(K)`` (C, F) are saved; ``rfft(x)``
    is recomputed in the backward. Four batch-sized FFTs per step, in-place products.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel: torch.Tensor, nfft: int) -> torch.Tensor:
        n = x.shape[-1]
        kernel_spectrum = torch.fft.rfft(kernel, n=nfft)  # (C F)
        spectrum = torch.fft.rfft(x, n=nfft).mul_(kernel_spectrum)  # (B C F)
        ctx.save_for_backward(x, kernel_spectrum)
        ctx.nfft, ctx.kernel_len = nfft, kernel.shape[-1]
        return torch.fft.irfft(spectrum, n=nfft)[..., :n].contiguous()  # (B C N)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_y: torch.Tensor):
        x, kernel_spectrum = ctx.saved_tensors
        n, nfft = x.shape[-1], ctx.nfft
        grad_spectrum = torch.fft.rfft(grad_y, n=nfft)  # (B C F)
        grad_x = grad_kernel = None
        if ctx.needs_input_grad[1]:
            cross = torch.fft.rfft(x, n=nfft).conj_physical_().mul_(grad_spectrum).sum(dim=0)  # (C F)
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
