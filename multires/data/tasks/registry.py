"""One entry point for every task: :func:`load_task` by name.

Examples
--------
>>> load_task("signals", seed=0, n_per_class=10, length=64).x_train.shape
torch.Size([56, 1, 64])
>>> load_task("ucr:ItalyPowerDemand").x_test.shape
torch.Size([1029, 1, 24])
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

from multires.data.tasks.base import TaskData
from multires.data.tasks.builtin import digits_task, memory_task, signals_task
from multires.data.tasks.files import task_from_paths
from multires.data.tasks.mnist import psmnist_task, smnist_task
from multires.data.tasks.ucr import UCR_PREFIX, canonical_ucr_name, ucr_datasets, ucr_task
from multires.data.tasks.windows import distant_windows_task
from multires.options import TASK_NAMES, TaskName
from multires.plaintext import quote

__all__ = ["check_task_name", "load_task", "task_names"]


_BUILDERS: dict[str, Callable[..., TaskData]] = {
    "digits": digits_task,
    "signals": signals_task,
    "memory": memory_task,
    "memory-independent": functools.partial(memory_task, inputs="independent"),
    "distant-windows": distant_windows_task,
    "smnist": smnist_task,
    "psmnist": psmnist_task,
}


def check_task_name(name: str) -> str:
    """Refuse an unknown task name before any work: the check :func:`load_task` makes, without
    loading data (a UCR name is looked up among the bundled datasets; two files must exist).
    Returns the name. Raises ``ValueError`` naming the problem.

    >>> check_task_name("digits")
    'digits'
    """
    if not isinstance(name, str):
        raise ValueError(f"a task name must be a string, got {type(name).__name__}")
    if name in _BUILDERS:
        return name
    if name.lower().startswith(UCR_PREFIX):
        canonical_ucr_name(name)
        return name
    if "," in name:
        paths = [p.strip() for p in name.split(",")]
        missing = [p for p in paths if not os.path.isfile(p)]
        if len(paths) != 2 or missing:
            raise ValueError(f"task {quote(name)}: expected two existing files joined by a comma"
                             + (f"; no such file: {quote(missing[0])}" if missing else ""))
        return name
    raise ValueError(
        f"unknown task {quote(name)}; allowed names are: {', '.join(task_names())}, "
        "or two UCR-format files joined by a comma ('TRAIN.tsv,TEST.tsv')"
    )


def task_names() -> tuple[str, ...]:
    """Every complete task name: :data:`TASK_NAMES`, then ``"ucr:<Name>"`` for each bundled dataset.

    Examples
    --------
    >>> names = task_names()
    >>> names[:3], "ucr:GunPoint" in names
    (('digits', 'signals', 'memory'), True)
    """
    return TASK_NAMES + tuple(UCR_PREFIX + name for name in ucr_datasets())


def load_task(name: str, seed: int = 0, **options: Any) -> TaskData:
    """Build a task by name.

    Parameters
    ----------
    name : str
        One of

        * ``"digits"``, ``"signals"``, ``"memory"`` (:func:`~multires.data.tasks.digits_task`,
          :func:`~multires.data.tasks.signals_task`, :func:`~multires.data.tasks.memory_task`);
        * ``"memory-independent"``: ``memory_task(inputs="independent")``, one white-noise input
          per channel;
        * ``"distant-windows"``: which of two stretches of white noise far behind the end has the
          larger mean (:func:`~multires.data.tasks.distant_windows_task`), read at the last step;
        * ``"smnist"``, ``"psmnist"``: sequential and permuted sequential MNIST
          (:func:`~multires.data.tasks.smnist_task`, :func:`~multires.data.tasks.psmnist_task`);
        * ``"ucr:<Name>"``: a UCR dataset bundled with aeon (:func:`~multires.data.tasks.ucr_task`;
          names from :func:`~multires.data.tasks.ucr_datasets`, case-insensitive);
        * ``"TRAIN.tsv,TEST.tsv"``: your own two UCR-format files
          (:func:`~multires.data.tasks.task_from_paths`).
    seed : int, default 0
        Non-negative seed; the same seed always gives the same tensors.
    **options
        Keyword options of the task's function (e.g. ``noise=0.5`` for ``"signals"``,
        ``val_fraction=0.3`` for a UCR dataset).

    Returns
    -------
    TaskData

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists every allowed name, the UCR ones included), or
        an option value is invalid. :class:`~multires.data.tasks.DatasetError` (a ``ValueError``) for
        unusable dataset files.
    TypeError
        If an option is not one the task accepts (the message lists the accepted options).
    """
    if not isinstance(name, str):
        raise TypeError(f"a task name must be a string, got {type(name).__name__}")
    if name in _BUILDERS:
        builder: Callable[..., TaskData] = _BUILDERS[name]
    elif name.lower().startswith(UCR_PREFIX):
        builder = functools.partial(ucr_task, name)
    elif "," in name:
        builder = functools.partial(task_from_paths, name)
    else:
        raise ValueError(
            f"unknown task {quote(name)}; allowed names are: {', '.join(task_names())}, "
            "or two UCR-format files joined by a comma ('TRAIN.tsv,TEST.tsv')"
        )
    fixed = set(builder.keywords) if isinstance(builder, functools.partial) else set()
    accepted = [p for p in inspect.signature(builder).parameters if p != "seed" and p not in fixed]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"task {quote(name)} has no option(s) {', '.join(unknown)}; "
            f"accepted options: {', '.join(accepted) or 'none'}"
        )
    return builder(seed=seed, **options)
