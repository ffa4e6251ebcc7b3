"""How many numbers each kind of memory holds per step and over a sequence (docs/design.md, section 5).

The full history grows with every step; the undecimated tree adds ``J + 1`` coefficients per step
and stores them all; fading keeps ``J + 1`` and uniform ``M`` per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import check_at_least
from ..plaintext import quote
from ..treeselect import default_depth

__all__ = ["footprint"]


def footprint(
    n_values: Any, depth: int | None, memory_size: int, kernel_size: int = 2
) -> dict[str, np.ndarray]:
    """How many numbers each kind of memory holds, for sequence lengths ``N`` in ``n_values``.

    "Per step" is the size of the memory used to produce one output; "total" is summed over the
    ``N`` steps of a sequence (what a layer materialises for the whole sequence):

    ======================  ==============  ===================  ==================================
    key prefix              per step        total                meaning
    ======================  ==============  ===================  ==================================
    ``full_history``        ``N``           ``N (N + 1) / 2``    step ``n = 1..N`` keeps all ``n``
                                                                 samples seen so far (attention-like)
    ``tree``                ``J + 1``       ``N (J + 1)``        new coefficients per step of the
                                                                 undecimated tree; all are stored
    ``fading``              ``J + 1``       ``N (J + 1)``        ``a_J[n], b_J[n], ..., b_1[n]``
    ``uniform``             ``M``           ``N M``              ``memory_size`` slots per step
    ======================  ==============  ===================  ==================================

    Parameters
    ----------
    n_values : array-like of int
        Sequence lengths ``N >= 1``.
    depth : int or None
        Tree depth ``J``; ``None`` uses :func:`multires.treeselect.default_depth` ``(N, kernel_size)``
        for each ``N`` (the tree then always sees the whole sequence, and ``J`` grows like log N).
    memory_size : int
        ``M`` of the uniform rule.
    kernel_size : int
        Filter length, only used when ``depth`` is None.

    Returns
    -------
    dict of str to ndarray of int64
        ``n``, ``depth`` and ``<prefix>_per_step``, ``<prefix>_total`` for each prefix above.

    Examples
    --------
    >>> fp = footprint([4, 8], depth=2, memory_size=3)
    >>> fp["full_history_total"].tolist(), fp["fading_per_step"].tolist(), fp["uniform_total"].tolist()
    ([10, 36], [3, 3], [12, 24])
    >>> footprint([64, 1024], depth=None, memory_size=8)["depth"].tolist()
    [6, 10]
    """
    n = np.atleast_1d(np.asarray(n_values))
    if n.ndim != 1 or n.size == 0 or not np.issubdtype(n.dtype, np.integer) or np.any(n < 1):
        raise ValueError(f"n_values must be positive integers (sequence lengths), got {quote(n_values)}")
    n = n.astype(np.int64)
    memory_size = check_at_least("memory_size", memory_size, 1)
    if depth is None:
        kernel_size = check_at_least("kernel_size", kernel_size, 2)
        depths = np.array([default_depth(int(v), kernel_size) for v in n], dtype=np.int64)
    else:
        depths = np.full(n.shape, check_at_least("depth", depth, 1), dtype=np.int64)
    per_level = depths + 1
    return {
        "n": n,
        "depth": depths,
        "full_history_per_step": n.copy(),
        "full_history_total": n * (n + 1) // 2,
        "tree_per_step": per_level,
        "tree_total": n * per_level,
        "fading_per_step": per_level.copy(),
        "fading_total": n * per_level,
        "uniform_per_step": np.full(n.shape, memory_size, dtype=np.int64),
        "uniform_total": n * memory_size,
    }
