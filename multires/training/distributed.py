"""The only difference between one process and a ``torchrun`` rank: :class:`DistributedHooks`.

:func:`multires.training.train` talks to a hooks object at a handful of points (wrap the model,
sum step metrics over ranks, agree on stopping, share BatchNorm buffers, check the ranks agree).
In one process these are no-ops (:class:`SingleProcess`); under ``torch.distributed`` they are
collectives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from ..model import MultiresNet

__all__ = ["DistributedHooks", "SingleProcess"]


class DistributedHooks:
    """Lets :func:`train` run as one rank of an initialised ``torch.distributed`` job.

    Create it after ``torch.distributed.init_process_group``; the CLI does this under ``torchrun``.
    The loop stays the same; only these points differ from a single process:

    * the model is wrapped in ``DistributedDataParallel`` (``forward_sync_buffers=False``, see below);
    * each rank takes its shard of every epoch from ``DistributedSampler`` (``set_epoch`` each
      epoch) and ``batch_size // world_size`` samples per step, so a step sees ``batch_size``
      samples in all, as in one process;
    * step metrics are summed with ``all_reduce``, so every rank reports (and decides to stop on)
      the same numbers; a non-finite loss on any rank stops every rank with ``TrainingError``.

    BatchNorm is used as configured, not converted to ``SyncBatchNorm``: each rank normalises with
    its own shard's batch statistics (``SyncBatchNorm`` needs CUDA). Buffers are *not* broadcast at
    every forward; instead rank 0's buffers (BatchNorm running statistics) are broadcast before
    every validation and at the end, so all ranks evaluate, and rank 0 saves, one model. The learned
    selection masks are computed from parameters, which DDP keeps identical, with a step-based
    schedule; :meth:`in_sync` checks that parameters and masks really are bit-identical on all ranks
    (before the buffer broadcast, so a divergence would not be hidden).
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import torch.distributed as dist

        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("DistributedHooks needs torch.distributed.init_process_group() first")
        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = torch.device(device)

    def wrap(self, net: nn.Module) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # forward_sync_buffers=False: no buffer broadcast at every forward (see the class docstring);
        # parameters and buffers are still broadcast from rank 0 once, at construction.
        return DistributedDataParallel(net, device_ids=device_ids, forward_sync_buffers=False)

    def all_sum(self, values: torch.Tensor) -> torch.Tensor:
        values = values.to(self.device)
        self._dist.all_reduce(values, op=self._dist.ReduceOp.SUM)
        return values.cpu()

    def any(self, flag: bool) -> bool:
        return bool(self.all_sum(torch.tensor([float(flag)], dtype=torch.float64))[0] > 0)

    def sync_buffers(self, net: nn.Module) -> None:
        with torch.no_grad():
            for buffer in net.buffers():
                self._dist.broadcast(buffer, src=0)

    def in_sync(self, net: MultiresNet) -> bool:
        """True when every parameter and selection mask is bit-identical on all ranks."""
        with torch.no_grad():
            flat = torch.cat([p.detach().double().flatten() for p in net.parameters()]
                             + [c.slot_mask.double().flatten() for c in net.convs]).to(self.device)
            low, high = flat.clone(), flat.clone()
            self._dist.all_reduce(low, op=self._dist.ReduceOp.MIN)
            self._dist.all_reduce(high, op=self._dist.ReduceOp.MAX)
            return bool(torch.equal(low, high))


class SingleProcess:
    """The same interface as :class:`DistributedHooks` for one process: nothing to do."""

    rank = 0
    world_size = 1

    def __init__(self, device: torch.device | None = None) -> None:
        self.device = torch.device("cpu") if device is None else device

    def wrap(self, net: nn.Module) -> nn.Module:
        return net

    def all_sum(self, values: torch.Tensor) -> torch.Tensor:
        return values

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def sync_buffers(self, net: nn.Module) -> None:
        pass

    def in_sync(self, net: MultiresNet) -> bool:
        return True
