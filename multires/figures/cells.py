"""Names of tree cells shared by the figure modules: ``"b2"`` for the band a slot reads, ``(row, time)``."""

from __future__ import annotations

from collections.abc import Sequence

from ..treeselect import Slot

__all__ = ["cell_coords", "cell_label"]


def cell_label(slot: Slot) -> str:
    """Row label of the tree band a slot reads: ``"a4"`` for ``a_4``, ``"b2"`` for ``b_2``.

    >>> cell_label(Slot("detail", 2, 4))
    'b2'
    """
    return f"{'a' if slot.band == 'approx' else 'b'}{slot.level}"


def cell_coords(cells: Sequence[tuple[Slot, int]]) -> list[tuple[str, int]]:
    """``(row label, time)`` of every cell from :func:`multires.kept_cells`, in the same order.

    >>> cell_coords([(Slot("approx", 3, 0), 9), (Slot("detail", 1, 2), 7)])
    [('a3', 9), ('b1', 7)]
    """
    return [(cell_label(slot), int(t)) for slot, t in cells]
