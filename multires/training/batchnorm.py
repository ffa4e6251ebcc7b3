"""BatchNorm's running statistics: when they can describe the trained network, and recomputing them.

A BatchNorm layer's running statistics start at mean 0, variance 1 and keep ``(1 - momentum)**steps``
of that start: :func:`batchnorm_steps` is how many optimizer steps they need before that share is
below :data:`BN_FORGET` (44 steps at momentum 0.1). :func:`multires.training.train` lets only epochs
past that many steps compete for the best epoch, the recipe's cross-validation likewise, and the
diagnostics warn when the returned weights had fewer.

:func:`recalibrate_batchnorm` replaces the running statistics by their exact average over given
(training) series, in the mode the model is scored in: dropout off, so it draws no random numbers
and neither reads nor changes the caller's random state.

Examples
--------
>>> from torch import nn
>>> batchnorm_steps(nn.BatchNorm1d(4)), batchnorm_steps(nn.LayerNorm(4))
(44, 0)
>>> settle_steps(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, momentum=0.2)))
21
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["BN_FORGET", "batchnorm_steps", "recalibrate_batchnorm", "settle_steps"]

#: BatchNorm's running statistics start at mean 0, variance 1 and keep ``(1 - momentum)**steps`` of
#: that start: above this share they cannot describe the trained network (44 steps at momentum 0.1).
BN_FORGET = 0.01


def _batchnorms(net: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def batchnorm_steps(module: nn.Module) -> int:
    """Steps a BatchNorm needs before its running statistics keep < :data:`BN_FORGET` of their start
    (0 for any other module, and for a cumulative average, ``momentum=None``)."""
    if not isinstance(module, nn.modules.batchnorm._BatchNorm) or not module.momentum:
        return 0
    return math.ceil(math.log(BN_FORGET) / math.log(1.0 - module.momentum))


def settle_steps(net: nn.Module) -> int:
    """Steps after which every BatchNorm of ``net`` can have converged (0 without BatchNorm)."""
    return max((batchnorm_steps(m) for m in _batchnorms(net)), default=0)


@torch.no_grad()
def recalibrate_batchnorm(net: nn.Module, x: torch.Tensor, batch_size: int = 64) -> nn.Module:
    """Recompute every BatchNorm's running statistics as the exact average over ``x`` (training data).

    The fix for eval-mode scores far below training ones when the kept weights are not the last
    (their running statistics still mix in older weights), or when they were gathered on augmented
    batches. Only the BatchNorm layers gather statistics; every other module is in eval mode, as
    when the model is scored: dropout is off, so the statistics describe the inputs each BatchNorm
    sees in eval mode, the result depends on ``net`` and ``x`` alone, and no random number is drawn
    (the caller's random state is neither read nor changed). Returns ``net`` in eval mode.
    """
    norms = _batchnorms(net)
    if not norms:
        return net.eval()
    saved = [m.momentum for m in norms]
    net.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    device = next(net.parameters()).device
    try:
        for first in range(0, len(x), batch_size):
            net(x[first : first + batch_size].to(device))
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
    return net.eval()
