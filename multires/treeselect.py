"""TREESELECT: which coefficients of the tree form the memory at time ``n`` (docs/design.md, section 3).

A *slot* is ``(band, level, lag)``: the coefficient of band ``approx`` (only ``a_J``) or ``detail``
(``b_level``) read at time ``n - lag``. ``memory_slots`` lists the slots of a TREESELECT rule in the
*weight order* of :class:`multires.MultiresConv` (approx first, then detail levels coarse to fine,
most recent first within a level); the skip weight follows them.

The learned rule chooses ``M`` slots per channel from a bounded *candidate* menu
(:func:`candidate_slots` with ``lags_per_band``): every band -- ``a_J`` and each ``b_l`` -- offers
only its ``c`` most recent lags on its own decimated grid (``0, 2**l, ..., (c-1) 2**l``; ``2**J``
for ``a_J``), with ``c = max(LEARNED_LAGS_PER_BAND, ceil(2 M / (J + 1)))``
(:func:`learned_lags_per_band`). So the menu has at most ``c (J + 1)`` slots: about 3x fading's
``J + 1`` when ``M = J + 1``, and at least ``2 M`` whenever the lags exist, whatever the sequence
length -- a fixed multiple of the budget instead of one slot per sample of the receptive field.
Each level still sees ``c`` of its own periods into the past, so the menu contains fading and the
coarse part of uniform.

Examples
--------
>>> [str(s) for s in memory_slots("uniform", depth=3, kernel_size=2, memory_size=8)]
['a3[n]', 'b3[n]', 'b2[n]', 'b2[n-4]', 'b1[n]', 'b1[n-2]', 'b1[n-4]', 'b1[n-6]']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from multires.plaintext import quote

from .options import TREE_SELECTS, Band, TreeSelect

__all__ = [
    "Slot",
    "default_depth",
    "receptive_field",
    "memory_slots",
    "max_uniform_memory",
    "candidate_slots",
    "kept_cells",
    "learned_lags_per_band",
    "LEARNED_LAGS_PER_BAND",
]

#: Fewest lags every band offers the learned rule (its most recent ones on the band's grid).
LEARNED_LAGS_PER_BAND = 3


@dataclass(frozen=True, order=True)
class Slot:
    """One memory slot: coefficient ``band`` of tree ``level`` read ``lag`` steps behind ``n``."""

    band: Band
    level: int
    lag: int

    def __str__(self) -> str:
        name = f"{'a' if self.band == 'approx' else 'b'}{self.level}"
        return f"{name}[n]" if self.lag == 0 else f"{name}[n-{self.lag}]"


def _check_kernel_size(kernel_size: int) -> None:
    if not isinstance(kernel_size, int) or kernel_size < 2:
        raise ValueError(f"kernel_size must be an integer >= 2, got {quote(kernel_size)}")


def _check_depth(depth: int) -> None:
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {quote(depth)}")


def receptive_field(depth: int, kernel_size: int) -> int:
    """Number of samples the coarsest approximation ``a_J[n]`` depends on: ``(k-1)(2**J-1)+1``."""
    return (kernel_size - 1) * (2**depth - 1) + 1


def default_depth(seq_len: int, kernel_size: int = 2) -> int:
    """Smallest depth ``J`` whose coarsest approximation sees the whole sequence.

    That is the smallest ``J >= 1`` with ``(k-1)*(2**J - 1) + 1 >= seq_len`` (docs/design.md, section 1).

    >>> default_depth(64, 2), default_depth(1024, 2), default_depth(1024, 4)
    (6, 10, 9)
    """
    _check_kernel_size(kernel_size)
    if not isinstance(seq_len, int) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer, got {quote(seq_len)}")
    depth = max(1, math.ceil(math.log2((seq_len - 1) / (kernel_size - 1) + 1)))
    while receptive_field(depth, kernel_size) < seq_len:  # guard against float rounding
        depth += 1
    return depth


def _uniform_level_counts(depth: int, kernel_size: int) -> list[tuple[int, int]]:
    """``(level, slots)`` the uniform rule offers per detail level below ``J``, coarse to fine."""
    counts = []
    c = kernel_size
    for level in range(depth - 1, 0, -1):
        counts.append((level, c))
        c = 2 * (c - 1) + kernel_size
    return counts


def max_uniform_memory(depth: int, kernel_size: int) -> int:
    """Largest ``memory_size`` the uniform rule can fill: ``2 + sum`` of the per-level counts."""
    return 2 + sum(c for _, c in _uniform_level_counts(depth, kernel_size))


def learned_lags_per_band(depth: int, memory_size: int) -> int:
    """Lags per band of the learned rule's candidate menu: ``max(3, ceil(2 M / (J + 1)))``.

    >>> learned_lags_per_band(11, 12), learned_lags_per_band(6, 20)
    (3, 6)
    """
    _check_depth(depth)
    if not isinstance(memory_size, int) or memory_size < 1:
        raise ValueError(f"memory_size must be a positive integer, got {quote(memory_size)}")
    return max(LEARNED_LAGS_PER_BAND, math.ceil(2 * memory_size / (depth + 1)))


def memory_slots(
    tree_select: TreeSelect,
    depth: int,
    kernel_size: int,
    memory_size: int | None = None,
    max_lag: int | None = None,
) -> list[Slot]:
    """Slots kept by a TREESELECT rule, in weight order.

    Parameters
    ----------
    tree_select : {"fading", "uniform", "learned"}
        ``fading`` keeps ``a_J[n], b_J[n], ..., b_1[n]`` (``J+1`` slots). ``uniform`` keeps
        ``memory_size`` coefficients in total, read on each level's decimated grid, coarse levels
        first (for ``k = 2`` and ``M = 2**J`` exactly the DWT of the last ``2**J`` samples;
        for other ``M`` a truncation of it). ``learned`` returns the bounded *candidate* menu the
        learned rule chooses from (:func:`candidate_slots` with
        :func:`learned_lags_per_band` lags per band); the layer keeps ``memory_size`` of them
        per channel.
    depth : int
        Tree depth ``J``.
    kernel_size : int
        Filter length ``k``.
    memory_size : int, optional
        ``M``. Required for ``uniform`` and ``learned``; for ``fading`` it may be omitted or
        equal to ``J+1``.
    max_lag : int, optional
        Only for ``learned``: largest lag of a candidate (default: receptive field - 1), applied
        on top of the per-band cap.

    Returns
    -------
    list of Slot

    Examples
    --------
    >>> [str(s) for s in memory_slots("fading", depth=2, kernel_size=2)]
    ['a2[n]', 'b2[n]', 'b1[n]']
    """
    _check_depth(depth)
    _check_kernel_size(kernel_size)
    if tree_select not in TREE_SELECTS:
        raise ValueError(f"tree_select must be one of {TREE_SELECTS}, got {quote(tree_select)}")
    if tree_select == "fading":
        if memory_size is not None and memory_size != depth + 1:
            raise ValueError(
                f"fading keeps exactly depth + 1 = {depth + 1} slots; got memory_size={memory_size}. "
                "Omit memory_size, or use tree_select='uniform' or 'learned' for another budget."
            )
        return [Slot("approx", depth, 0)] + [Slot("detail", lvl, 0) for lvl in range(depth, 0, -1)]
    if memory_size is None:
        raise ValueError(f"tree_select={quote(tree_select)} needs memory_size (the number of slots M)")
    if not isinstance(memory_size, int) or memory_size < 1:
        raise ValueError(f"memory_size must be a positive integer, got {quote(memory_size)}")
    if tree_select == "learned":
        lags = learned_lags_per_band(depth, memory_size)
        candidates = candidate_slots(depth, kernel_size, max_lag, lags_per_band=lags)
        if memory_size > len(candidates):
            raise ValueError(
                f"memory_size={memory_size} is larger than the {len(candidates)} candidate slots "
                f"(depth={depth}, max_lag={max_lag}); use a smaller memory_size or a larger max_lag"
            )
        return candidates
    limit = max_uniform_memory(depth, kernel_size)
    if memory_size > limit:
        raise ValueError(
            f"memory_size={memory_size} is larger than the uniform tree offers for depth={depth}, "
            f"kernel_size={kernel_size}: at most {limit}"
        )
    slots = [Slot("approx", depth, 0)]
    if memory_size >= 2:
        slots.append(Slot("detail", depth, 0))
    for level, count in _uniform_level_counts(depth, kernel_size):
        take = min(count, memory_size - len(slots))
        slots.extend(Slot("detail", level, i * 2**level) for i in range(take))
        if len(slots) == memory_size:
            break
    return slots


def candidate_slots(
    depth: int, kernel_size: int, max_lag: int | None = None, lags_per_band: int | None = None
) -> list[Slot]:
    """Slots on the decimated grid of the tree with lag ``<= max_lag``, in weight order.

    ``a_J`` and ``b_J`` at lags ``0, 2**J, ...``; ``b_l`` at lags ``0, 2**l, 2*2**l, ...``;
    with ``lags_per_band`` only the first (most recent) ``lags_per_band`` of each band. The
    ``learned`` rule chooses from this menu with ``lags_per_band=learned_lags_per_band(J, M)``;
    ``lags_per_band=None`` (every grid point, about one slot per sample of the receptive field)
    is the unbounded menu of checkpoints written before the cap.

    >>> len(candidate_slots(3, 2, max_lag=7)), len(candidate_slots(11, 2)), len(candidate_slots(11, 2, lags_per_band=3))
    (8, 2048, 31)
    """
    _check_depth(depth)
    _check_kernel_size(kernel_size)
    if max_lag is None:
        max_lag = receptive_field(depth, kernel_size) - 1
    if not isinstance(max_lag, int) or max_lag < 0:
        raise ValueError(f"max_lag must be a non-negative integer, got {quote(max_lag)}")
    if lags_per_band is not None and (not isinstance(lags_per_band, int) or lags_per_band < 1):
        raise ValueError(f"lags_per_band must be a positive integer or None, got {quote(lags_per_band)}")
    cap = slice(None, lags_per_band)
    top = 2**depth
    slots = [Slot("approx", depth, lag) for lag in range(0, max_lag + 1, top)[cap]]
    for level in range(depth, 0, -1):
        slots.extend(Slot("detail", level, lag) for lag in range(0, max_lag + 1, 2**level)[cap])
    return slots


def kept_cells(slots: list[Slot], n: int) -> list[tuple[Slot, int]]:
    """Tree cells ``(slot, time)`` that form the memory at time ``n``; times before 0 are dropped.

    >>> [(str(s), t) for s, t in kept_cells(memory_slots("fading", 2, 2), n=5)]
    [('a2[n]', 5), ('b2[n]', 5), ('b1[n]', 5)]
    """
    if n < 0:
        raise ValueError(f"time n must be >= 0, got {n}")
    return [(s, n - s.lag) for s in slots if n - s.lag >= 0]
