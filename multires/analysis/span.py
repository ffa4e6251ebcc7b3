"""Where a memory reads: how far back its slots reach, which tree cells they read, and how many
slots one analysis of it may take.

A slot ``Slot(band, level, lag)`` reads the tree cell of its band and level ``lag`` steps back,
which depends on ``(k-1)(2**level - 1) + 1`` input samples (:func:`cell_span`); the memory as a
whole depends on the last :func:`memory_span` samples. The analyses of :mod:`multires.analysis.memory`
solve over the slots' impulse responses, a work that grows as slots² x window: every page that
analyses or draws kept slots keeps at most :func:`max_analysed_slots` of them
(:func:`shared_analysed_slots` when several memories share one view, :func:`nearest_slots` to
choose which).

>>> from multires.treeselect import memory_slots
>>> memory_span(memory_slots("fading", 3, 2), depth=3, kernel_size=2), cell_span(Slot("detail", 3, 8), 20, kernel_size=2)
(8, (13, 20))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from multires.options import MAX_ANALYSIS_WORK
from multires.plaintext import quote

from ..config import check_at_least
from ..treeselect import Slot

__all__ = [
    "cell_span",
    "check_slots",
    "max_analysed_slots",
    "memory_span",
    "nearest_slots",
    "shared_analysed_slots",
]


def check_slots(slots: Sequence[Slot], depth: int) -> list[Slot]:
    """``slots`` as a list, each a :class:`~multires.treeselect.Slot` a tree of ``depth`` levels keeps."""
    slots = list(slots)
    if not slots:
        raise ValueError("slots is empty: pass the list from multires.treeselect.memory_slots(...)")
    for s in slots:
        if not isinstance(s, Slot):
            raise ValueError(f"slots must be multires.treeselect.Slot objects, got {quote(s)}")
        if s.band == "approx" and s.level != depth:
            raise ValueError(
                f"slot {s} reads an approximation of level {s.level}; only a{depth} (depth) is kept"
            )
        if not 1 <= s.level <= depth:
            raise ValueError(f"slot {s} has level {s.level}, outside 1..depth={depth}")
        if s.lag < 0:
            raise ValueError(f"slot {s} has a negative lag; lags must be >= 0 (causal)")
    return slots


def memory_span(slots: Sequence[Slot], depth: int, kernel_size: int) -> int:
    """Number of past samples the memory depends on: ``max_s lag_s + (k-1)(2**level_s - 1) + 1``.

    ``z_n`` depends on ``x[n-span+1..n]`` only; it is the default window of the functions below.

    >>> from multires.treeselect import memory_slots
    >>> memory_span(memory_slots("fading", 3, 2), depth=3, kernel_size=2)
    8
    >>> memory_span(memory_slots("uniform", 3, 2, memory_size=8), depth=3, kernel_size=2)
    8
    """
    depth = check_at_least("depth", depth, 1)
    kernel_size = check_at_least("kernel_size", kernel_size, 2)
    slots = check_slots(slots, depth)
    return max(s.lag + (kernel_size - 1) * (2**s.level - 1) + 1 for s in slots)


def max_analysed_slots(window: int) -> int:
    """Most slots one analysis over ``window`` past samples takes: ``isqrt(MAX_ANALYSIS_WORK // window)``.

    The work of an analysis of the memory (a least-squares solve over the slots' impulse responses)
    grows as slots² x window (:data:`multires.options.MAX_ANALYSIS_WORK`); every page view that
    analyses or draws kept slots (reconstruction, capacity, kernel rows, selection rows) keeps at most
    this many, so a legal checkpoint cannot cost a page much more than the largest shipped model.

    >>> max_analysed_slots(4096), max_analysed_slots(1024)
    (128, 256)
    """
    return max(1, math.isqrt(MAX_ANALYSIS_WORK // max(int(window), 1)))


def shared_analysed_slots(counts: dict[str, int], window: int) -> dict[str, int]:
    """How many slots each of several memories analysed together over ``window`` samples may keep.

    One view that analyses several memories (the TREESELECT rules side by side) shares one bound:
    the sum of slots² stays within ``max_analysed_slots(window)²``. Smaller memories keep all their
    slots and leave the rest of the budget to the larger ones, which share it equally.

    >>> shared_analysed_slots({"fading": 12, "learned": 9, "uniform": 127}, 4096)
    {'fading': 12, 'learned': 9, 'uniform': 127}
    >>> shared_analysed_slots({"fading": 12, "learned": 1103, "uniform": 127}, 4096)
    {'fading': 12, 'learned': 90, 'uniform': 90}
    """
    budget = max_analysed_slots(window) ** 2
    shares: dict[str, int] = {}
    for left, (name, count) in zip(range(len(counts), 0, -1), sorted(counts.items(), key=lambda item: item[1])):
        shares[name] = max(1, min(int(count), math.isqrt(max(budget, 0) // left)))
        budget -= shares[name] ** 2
    return {name: shares[name] for name in counts}


def nearest_slots(slots: Sequence[Slot], depth: int, kernel_size: int, most: int) -> list[Slot]:
    """The ``most`` slots of ``slots`` that read nearest the present (shortest :func:`memory_span`), in their order.

    >>> from multires.treeselect import memory_slots
    >>> [str(s) for s in nearest_slots(memory_slots("fading", 3, 2), 3, 2, most=2)]
    ['b2[n]', 'b1[n]']
    """
    slots = list(slots)
    if len(slots) <= most:
        return slots
    spans = [memory_span([slot], depth, kernel_size) for slot in slots]
    keep = set(sorted(range(len(slots)), key=lambda i: (spans[i], i))[:most])
    return [slot for i, slot in enumerate(slots) if i in keep]


def cell_span(slot: Slot, t: int, kernel_size: int) -> tuple[int, int]:
    """First and last input times the tree cell of ``slot`` at time ``t`` depends on (its receptive field).

    ``a_l[t]`` and ``b_l[t]`` read ``x[t - (k-1)(2**l - 1) .. t]``; times before 0 are the causal zero
    padding, so the first time is clipped at 0. The cell a memory slot reads at step ``n`` has
    ``t = n - slot.lag``.

    >>> cell_span(Slot("detail", 3, 8), 20, kernel_size=2)
    (13, 20)
    >>> cell_span(Slot("approx", 2, 0), 1, kernel_size=3)
    (0, 1)
    """
    kernel_size = check_at_least("kernel_size", kernel_size, 2)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise ValueError(f"t must be a time >= 0, got {quote(t)}")
    return max(0, int(t) - (kernel_size - 1) * (2**slot.level - 1)), int(t)
