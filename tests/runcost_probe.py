"""Measure one training run's peak resident-memory growth, for ``tests/test_runcost.py`` (run as a script).

``python tests/runcost_probe.py '<TrainConfig JSON>' length n_train`` builds a random classification
task of that length, warms PyTorch's one-time allocations up on a tiny model, resets the process's
peak RSS (``/proc/self/clear_refs``), then trains ``config`` for :data:`STEPS` optimizer steps through
the same code path as the app (:func:`multires.training.train`, with its epoch-end validation and
final scoring of every split) and prints the peak RSS growth in bytes.
"""

from __future__ import annotations

import gc
import re
import sys

import torch

from multires.data.tasks import TaskData
from multires.training import TrainConfig, train

STEPS = 3


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(key + r":\s+(\d+)", status.read()).group(1)) * 1024


def _task(length: int, n_train: int) -> TaskData:
    generator = torch.Generator().manual_seed(0)
    x = [torch.randn(n, 1, length, generator=generator) for n in (n_train, 64, 64)]
    y = [torch.randint(0, 4, (n,), generator=generator) for n in (n_train, 64, 64)]
    return TaskData("probe", x[0], y[0], x[1], y[1], x[2], y[2], 4, "classify", (), ("a", "b", "c", "d"), "probe")


def main() -> None:
    torch.set_num_threads(1)
    config = TrainConfig.from_json(sys.argv[1])
    length, n_train = int(sys.argv[2]), int(sys.argv[3])
    stop_after = lambda progress: progress.step >= STEPS  # noqa: E731
    warm = TrainConfig(d_model=2, n_layers=1, epochs=1, min_steps=0, batch_size=4, norm=config.norm)
    train(_task(64, 8), warm, callback=stop_after)  # one-time allocations (kernels, thread pools)
    task = _task(length, n_train)
    gc.collect()
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    train(task, config, callback=stop_after)
    print(_status("VmHWM") - before)


if __name__ == "__main__":
    main()
