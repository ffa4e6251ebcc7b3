"""AdamW parameter groups and the learning-rate schedule (``torch.optim.lr_scheduler.LambdaLR``).

The schedule is linear warm-up then cosine decay to 0, written as a function of the run's
*progress* in [0, 1] (:func:`lr_factor`, the shape of HF's ``get_cosine_schedule_with_warmup``
that the official MultiresConv code uses). Progress is ``step / total_steps``, or, when the run
has a time bound, ``max(step / total_steps, elapsed / max_seconds)`` (:class:`RunClock`): a run
cut by ``max_seconds`` still anneals to a low learning rate instead of stopping at a high one.

Examples
--------
>>> [round(lr_factor(p, warmup=0.1), 3) for p in (0.0, 0.05, 0.1, 0.55, 1.0)]
[0.0, 0.5, 1.0, 0.5, 0.0]
>>> clock = RunClock(total_steps=100, max_seconds=10.0)
>>> clock.step, clock.elapsed = 20, 5.0
>>> clock.progress
0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch.optim.lr_scheduler import LambdaLR

from multires.plaintext import quote

from ..options import Decay
from .config import TrainConfig

if TYPE_CHECKING:
    from ..model import MultiresNet

__all__ = ["WARMUP_FRACTION", "RunClock", "build_optimizer", "lr_factor", "param_groups", "warmup_fraction"]

#: Warm-up length as a share of the run when ``TrainConfig.warmup_epochs`` is None.
WARMUP_FRACTION = 0.05


def lr_factor(progress: float, warmup: float) -> float:
    """Share of the peak lr at ``progress`` (0..1): linear from 0 over ``warmup``, then half a cosine to 0."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return progress / warmup
    t = (progress - warmup) / max(1.0 - warmup, 1e-12)
    return 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))


def warmup_fraction(config: TrainConfig, steps_per_epoch: int, total_steps: int) -> float:
    """The warm-up as a share of the run: ``warmup_epochs`` whole epochs, or :data:`WARMUP_FRACTION`."""
    if config.warmup_epochs is None:
        return WARMUP_FRACTION
    return min(1.0, config.warmup_epochs * steps_per_epoch / total_steps)


@dataclass
class RunClock:
    """Where a run is: steps done and seconds elapsed, against its step and time budgets."""

    total_steps: int  # steps of the full run
    max_seconds: float | None = None  # time bound, or None
    step: int = 0  # optimizer steps done
    elapsed: float = 0.0  # seconds of training so far

    @property
    def progress(self) -> float:
        """``step / total_steps``, or the time share when that is further along; at most 1."""
        done = self.step / self.total_steps
        if self.max_seconds is not None:
            done = max(done, self.elapsed / self.max_seconds)
        return min(done, 1.0)


def param_groups(net: MultiresNet, weight_decay: float, decay: Decay = "dense") -> list[dict]:
    """AdamW parameter groups: decay ``all`` trainable parameters (the paper's), or the ``dense`` ones.

    ``dense``: the encoder, 1x1 mixer and decoder weights only. Not the wavelet filters h0/h1:
    decay would shrink a wavelet's energy and pull it away from perfect reconstruction. Not the
    memory weights w: their magnitudes are what the learned TREESELECT ranks slots by. Not biases
    or norm scales (the usual AdamW practice).
    """
    trainable = [p for p in net.parameters() if p.requires_grad]
    if decay == "all":
        return [{"params": trainable, "weight_decay": weight_decay}]
    if decay != "dense":
        raise ValueError(f"decay must be 'dense' or 'all', got {quote(decay)}")
    conv_params = {id(p) for conv in net.convs for p in conv.parameters()}
    dense = [p for p in trainable if p.ndim >= 2 and id(p) not in conv_params]
    dense_ids = {id(p) for p in dense}
    rest = [p for p in trainable if id(p) not in dense_ids]
    return [{"params": dense, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def build_optimizer(
    net: MultiresNet, config: TrainConfig, steps_per_epoch: int, total_steps: int
) -> tuple[torch.optim.AdamW, LambdaLR, RunClock]:
    """AdamW, its warm-up + cosine ``LambdaLR`` driven by a :class:`RunClock`, and the clock.

    The loop advances ``clock.step``/``clock.elapsed`` after every optimizer step and then calls
    ``scheduler.step()``: the next step's lr is ``config.lr * lr_factor(clock.progress, warmup)``.
    """
    optimizer = torch.optim.AdamW(param_groups(net, config.weight_decay, config.decay), lr=config.lr)
    clock = RunClock(total_steps, config.max_seconds)
    warmup = warmup_fraction(config, steps_per_epoch, total_steps)
    scheduler = LambdaLR(optimizer, lambda _: lr_factor(clock.progress, warmup))
    return optimizer, scheduler, clock
