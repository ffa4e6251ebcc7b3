"""The layer's training step against a bare FFT convolution with the same kernel (bench_conv's default).

Both sides time one forward + backward of ``(y * probe).sum()`` with ``x.requires_grad``:

* **layer**: ``MultiresConv(C, seq_len=N)`` (fading, Haar, as the models use it), i.e. building
  the composite kernel from ``h0, h1, w`` and the FFT convolution, gradients to ``x, h0, h1, w``;
* **bare FFT**: the same kernel ``K`` precomputed once as a leaf tensor, then
  ``irfft(rfft(x, n) * rfft(K, n), n)[..., :N]`` with plain autograd (``n`` = the next power of
  two >= N + L - 1, no wrap-around), gradients to ``x`` and ``K``. Nothing else.

The two alternate (layer, bare, layer, bare, ...) so both see the same load; the median of each
is reported. Ratio = layer / bare of the wall-clock medians; the target is <= 1.2 at every N,
quiet and loaded. The ratio of CPU-time medians (the process's CPU seconds per step) is reported
too: it is the work each side does, nearly blind to how much of a core the process got, so it
tells an inherent overhead from scheduling noise on a busy machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import torch

from multires import MultiresConv

__all__ = ["CONFIGS", "QUICK_CONFIGS", "RATIO_TARGET", "measure_ratio"]

#: (N, B) pairs: B=64 at the digits length (a typical small model), B=16 (the trainer's default) beyond.
CONFIGS = [(64, 64), (256, 16), (1024, 16), (4096, 16), (16384, 16)]
QUICK_CONFIGS = [(64, 64), (1024, 16), (4096, 16)]
CHANNELS = 48
RATIO_TARGET = 1.2
SEED = 0


def bare_fft_conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution with plain ``torch.fft`` and autograd: the reference for the ratio."""
    n, length = x.shape[-1], kernel.shape[-1]
    nfft = 1 << (n + length - 2).bit_length()
    return torch.fft.irfft(torch.fft.rfft(x, n=nfft) * torch.fft.rfft(kernel, n=nfft), n=nfft)[..., :n]


def _steps(n: int, batch: int, channels: int) -> tuple[Callable[[], None], Callable[[], None]]:
    torch.manual_seed(SEED)
    layer = MultiresConv(channels, seq_len=n, wavelet="haar")
    kernel = layer.kernel().detach()[..., :n].clone().requires_grad_(True)  # (C L), what the layer applies
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(batch, channels, n, generator=g).requires_grad_(True)  # (B C N)
    probe = torch.randn(batch, channels, n, generator=g)

    def layer_step() -> None:
        layer.zero_grad(set_to_none=True)
        x.grad = None
        (layer(x) * probe).sum().backward()

    def bare_step() -> None:
        kernel.grad = x.grad = None
        (bare_fft_conv(x, kernel) * probe).sum().backward()

    return layer_step, bare_step


def _timed(step: Callable[[], None]) -> tuple[float, float]:
    """(wall, CPU) seconds of one step; CPU = this process's CPU time, all its threads."""
    start, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - start, time.process_time() - cpu


def measure_ratio(n: int, batch: int, channels: int = CHANNELS, min_repeats: int = 5,
                  min_seconds: float = 1.0, max_repeats: int = 40) -> dict[str, float]:
    """Median step times (s) of the layer and the bare FFT conv, alternating, and their ratio.

    Repeats until both have ``min_repeats`` samples and ``min_seconds`` have passed (at most
    ``max_repeats``), after two warm-up steps each.
    """
    layer_step, bare_step = _steps(n, batch, channels)
    for _ in range(2):
        layer_step()
        bare_step()
    layer_t: list[tuple[float, float]] = []
    bare_t: list[tuple[float, float]] = []
    start = time.perf_counter()
    while len(layer_t) < max_repeats and (len(layer_t) < min_repeats or time.perf_counter() - start < min_seconds):
        layer_t.append(_timed(layer_step))
        bare_t.append(_timed(bare_step))
    layer_s, bare_s = (statistics.median(t[0] for t in times) for times in (layer_t, bare_t))
    layer_cpu, bare_cpu = (statistics.median(t[1] for t in times) for times in (layer_t, bare_t))
    print(f"    N={n} B={batch} threads={torch.get_num_threads()}: layer {layer_s * 1e3:.1f} ms, "
          f"bare {bare_s * 1e3:.1f} ms ({len(layer_t)} repeats)", file=sys.stderr, flush=True)
    return {"layer_s": layer_s, "bare_s": bare_s, "ratio": layer_s / bare_s, "repeats": len(layer_t),
            "cpu_ratio": layer_cpu / bare_cpu}
