"""String options as ``Literal`` types, in one place.

Every string a user can pass to the library is spelled here once, with the tuple of allowed
values used in error messages.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["TreeSelect", "Band", "TREE_SELECTS", "BANDS"]

#: TREESELECT rule: which coefficients of the tree become the memory (docs/design.md, section 3).
TreeSelect = Literal["fading", "uniform", "learned"]
#: Which branch of the tree a memory slot reads: the coarsest approximation or a detail level.
Band = Literal["approx", "detail"]

TREE_SELECTS: tuple[str, ...] = get_args(TreeSelect)
BANDS: tuple[str, ...] = get_args(Band)
