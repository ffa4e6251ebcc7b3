"""Scores of a ``MultiresNet`` on a task: :func:`evaluate` (eval mode, one split) and the running
batch-statistics sums the training loop keeps per epoch.

Classification is scored by accuracy; recall (the memory task) by R^2 per lag
(:func:`multires.data.tasks.recall_r2`) and its mean.

Examples
--------
>>> from multires.data.tasks import load_task
>>> from multires import MultiresNet, ModelConfig
>>> task = load_task("digits", seed=0)
>>> net = MultiresNet(ModelConfig(d_model=4, seq_len=task.length))
>>> score = evaluate(net, task, "val")
>>> score["metric_name"], score["n"] == len(task.y_val), 0.0 <= score["accuracy"] <= 1.0
('accuracy', True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from multires.plaintext import quote

from ..data.tasks.base import TaskData
from ..data.tasks.builtin import recall_r2
from ..options import Split
from .runcost import EVAL_BATCH, eval_batch

if TYPE_CHECKING:
    from ..model import MultiresNet

__all__ = ["evaluate", "loss_fn", "running_metric", "step_stats"]



def loss_fn(out: torch.Tensor, y: torch.Tensor, kind: str, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross entropy for ``classify`` (optionally label-smoothed), mean squared error for ``recall``."""
    if kind == "classify":
        return F.cross_entropy(out, y, label_smoothing=label_smoothing)
    return F.mse_loss(out, y)


def step_stats(out: torch.Tensor, y: torch.Tensor, loss: torch.Tensor, kind: str) -> torch.Tensor:
    """``[loss * n, n, non-finite flag, then the running-metric sums]`` of one local batch (float64).

    Running sums: ``[correct, n]`` for classification; for recall, per lag the squared error,
    the target sum and the target square sum, then ``n`` (R^2 over the epoch so far from sums alone).
    Sums, so that ranks can add theirs with one ``all_reduce``.
    """
    n = y.shape[0]
    finite = bool(torch.isfinite(loss))
    head = torch.tensor([float(loss) * n if finite else 0.0, n, 0.0 if finite else 1.0], dtype=torch.float64)
    count = torch.tensor([float(n)], dtype=torch.float64)
    if kind == "classify":
        correct = (out.argmax(dim=1) == y).sum().double().reshape(1)
        return torch.cat([head, correct, count])
    o, t = out.double(), y.double()
    return torch.cat([head, ((o - t) ** 2).sum(0), t.sum(0), (t**2).sum(0), count])


def running_metric(running: torch.Tensor, kind: str) -> float:
    """Accuracy or mean R^2 from the summed :func:`step_stats` tails of an epoch so far."""
    n = float(running[-1])
    if kind == "classify":
        return float(running[0]) / n
    lags = (len(running) - 1) // 3
    sse, total, squares = running[:lags], running[lags : 2 * lags], running[2 * lags : 3 * lags]
    variance = squares - total**2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - (sse / variance).numpy()
    r2 = r2[np.isfinite(r2)]
    return float(r2.mean()) if r2.size else float("nan")


def evaluate(net: MultiresNet, task: TaskData, split: Split = "test") -> dict[str, Any]:
    """Score ``net`` on one split of ``task`` in eval mode (the net's mode is restored).

    Eval mode: BatchNorm uses its running statistics and dropout is off, as at inference. The
    split goes through in batches of :func:`multires.training.runcost.eval_batch` series (at most
    ``EVAL_BATCH``, fewer for wide or long models, so one batch's activations stay near 8 MiB: a
    256-wide model on 784-long series at 512 series a batch took several GB).

    Returns
    -------
    dict
        Always ``split``, ``n``, ``loss``, ``metric`` and ``metric_name``. Classification:
        ``metric_name="accuracy"`` and ``accuracy``. Recall: ``metric_name="r2_mean"``, ``r2`` (one
        per lag, NaN for a constant target), ``r2_mean`` (mean over finite lags) and ``lags``.

    Raises
    ------
    ValueError
        ``split`` is not ``"train"``, ``"val"`` or ``"test"``.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {quote(split)}")
    x, y = getattr(task, f"x_{split}"), getattr(task, f"y_{split}")
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    outputs = []
    try:
        with torch.no_grad():
            batch = eval_batch(net.config.d_model, x.shape[-1])
            for first in range(0, len(x), batch):
                outputs.append(net(x[first : first + batch].to(device)).cpu())
    finally:
        net.train(was_training)
    out = torch.cat(outputs)
    loss = float(loss_fn(out, y, task.kind))
    result: dict[str, Any] = {"split": split, "n": int(len(x)), "loss": loss}
    if task.kind == "classify":
        accuracy = float((out.argmax(dim=1) == y).double().mean())
        result.update(metric_name="accuracy", metric=accuracy, accuracy=accuracy)
    else:
        r2 = recall_r2(out, y) if len(y) >= 2 else np.full(len(task.lags), np.nan)
        finite = r2[np.isfinite(r2)]
        mean = float(finite.mean()) if finite.size else float("nan")
        result.update(metric_name="r2_mean", metric=mean, r2_mean=mean, r2=[float(v) for v in r2],
                      lags=list(task.lags))
    return result
