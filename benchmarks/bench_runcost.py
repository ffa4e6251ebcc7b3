"""Benchmark: measured optimizer-step time against :mod:`multires.training.runcost`'s estimate.

Usage (from the repository root)::

    python benchmarks/bench_runcost.py            # a grid of widths, depths, lengths and rules
    python benchmarks/bench_runcost.py --steps 5

For every config it builds the model on a random task of the given length, runs one warm-up step
and then ``--steps`` optimizer steps exactly as :func:`multires.training.train` does (selection
update, forward, loss, backward, AdamW), one PyTorch thread, and prints the median measured step
time, the estimate and their ratio (measured / estimated). The estimate is meant to be
conservative on a shared machine: ratios mostly below 1 on a quiet one, near or above 1 under
load. The machine load (``os.getloadavg``) is printed before and after, because it moves every
ratio; the table goes into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from _report import Report, markdown_table  # noqa: E402
from multires.model import build_model  # noqa: E402
from multires.training import TrainConfig  # noqa: E402
from multires.training.evaluation import loss_fn  # noqa: E402
from multires.training.optimization import build_optimizer  # noqa: E402
from multires.training.runcost import TaskShape, estimate_run  # noqa: E402

GRID = [  # (label, TrainConfig options, sequence length)
    ("digits default 48x2", dict(), 64),
    ("smnist recipe 16x2", dict(d_model=16), 784),
    ("smnist 64x2", dict(d_model=64), 784),
    ("smnist 128x4", dict(d_model=128, n_layers=4), 784),
    ("smnist learned M=64 64x2", dict(d_model=64, tree_select="learned", memory_size=64), 784),
    ("ACSF1 learned M=300 64x2", dict(d_model=64, tree_select="learned", memory_size=300), 1460),
    ("db4 16x6 length 2048", dict(d_model=16, n_layers=6, wavelet="db4"), 2048),
    ("smnist 256x2", dict(d_model=256), 784),
]


def measure(options: dict, length: int, steps: int) -> tuple[float, float]:
    """(median measured step seconds, estimated step seconds)."""
    config = TrainConfig(**options)
    shape = TaskShape(length, 1, 10, 64, 16, 16)
    net = build_model(config.model_config(shape), config.seed)
    optimizer, _scheduler, _clock = build_optimizer(net, config, 4, 100)
    x = torch.randn(config.batch_size, 1, length)
    y = torch.randint(0, 10, (config.batch_size,))
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        net.update_selection(0.1 * i)
        loss = loss_fn(net(x), y, "classify")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i:  # the first step pays one-time costs
            times.append(time.perf_counter() - start)
    return statistics.median(times), estimate_run(config, shape).step_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    report = Report("runcost")
    torch.set_num_threads(1)
    print(f"load average before: {os.getloadavg()[0]:.2f}; 1 PyTorch thread; {args.steps} steps each")
    print(f"{'config':34s} {'measured s':>11s} {'estimated s':>12s} {'ratio':>7s}")
    ratios, rows = [], []
    for label, options, length in GRID:
        measured, estimated = measure(options, length, args.steps)
        ratios.append(measured / estimated)
        rows.append((label, length, f"{measured:.3f}", f"{estimated:.3f}", f"{measured / estimated:.2f}"))
        print(f"{label:34s} {measured:11.3f} {estimated:12.3f} {measured / estimated:7.2f}")
    summary = (f"ratio measured/estimated: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}, "
               f"max {max(ratios):.2f}")
    print(f"{summary}; load average after: {os.getloadavg()[0]:.2f}")
    report.write(
        markdown_table(("config", "length", "measured s/step", "estimated s/step", "measured / estimated"),
                       rows, "lrrrr"),
        f"Median of {args.steps} optimizer steps per config, one PyTorch thread. The estimate is meant to be "
        f"conservative, so ratios below 1 on a quiet machine; load pushes them up. {summary}.",
    )


if __name__ == "__main__":
    main()
