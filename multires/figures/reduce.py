"""Display reduction: a chart sends about as many points as it has pixels, whatever the signal length N.

A chart ``width_px`` pixels wide cannot show more than ``width_px`` distinct columns, so plotting all
``N`` samples of a long signal only costs time (building, serialising and drawing the figure).
Before a chart is built its data are reduced to its pixel budget, so that nothing a reader can see
is lost:

* **Lines** (:func:`line_indices`): ``tsdownsample``'s M4 keeps the first, last, smallest and largest
  sample of every bin of two pixel columns (``POINTS_PER_PIXEL`` = 2 points per column): the drawn
  line passes through every bin's extremes (a spike survives) and joins the bins where the full
  line does.
* **Heatmaps** (:func:`pool_columns`): each drawn column stands for a bucket of consecutive samples
  and shows the sign-correct extreme of its bucket (the value with the largest ``|value|``, sign
  kept), so an isolated detail spike stays visible; the x axis stays in samples (bucket centres).

The points that are drawn are exact samples (a reduced trace is a subset of the data, never an
average), so hover shows exact values. Data up to the budget are returned unchanged: a chart of a
short signal is bit-identical to the unreduced one. :class:`Reduction` counts what was drawn, for
the caption (:meth:`Reduction.note`) and :func:`mark_reduced` records it on the figure (its
``layout.meta``), where the app finds it to offer the exact values as a download.

Examples
--------
>>> import numpy as np
>>> y = np.zeros(10_000); y[1234] = 5.0; y[7000] = -3.0
>>> keep = line_indices(y, width_px=100)
>>> keep.size <= line_budget(100), 1234 in keep, 7000 in keep
(True, True, True)
>>> line_indices(np.arange(5.0), width_px=100).tolist()   # under the budget: every point
[0, 1, 2, 3, 4]
>>> Reduction(shown=1_600, total=40_960).note()
'showing 1,600 of 40,960 points; hover shows exact values of the points drawn; download for all'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from tsdownsample import M4Downsampler

__all__ = [
    "FULL_WIDTH_PX",
    "HALF_WIDTH_PX",
    "POINTS_PER_PIXEL",
    "Reduction",
    "column_buckets",
    "line_budget",
    "line_indices",
    "mark_reduced",
    "pool_columns",
    "reduced_line",
    "reduction_of",
    "total",
]

#: Widest plot area of a full-width chart (the app's wide layout on a large screen), in pixels.
FULL_WIDTH_PX = 1200
#: Widest plot area of a chart in one of two side-by-side columns.
HALF_WIDTH_PX = 600
#: Points a line trace keeps per pixel column (M4 keeps 4 per bin of 2 columns).
POINTS_PER_PIXEL = 2
#: Key of the reduction record in a figure's ``layout.meta``.
META_KEY = "reduction"


@dataclass(frozen=True)
class Reduction:
    """How much of a chart's data is drawn: ``shown`` of ``total`` points (or heatmap cells)."""

    shown: int
    total: int

    @property
    def reduced(self) -> bool:
        return self.shown < self.total

    def __add__(self, other: Reduction) -> Reduction:
        return Reduction(self.shown + other.shown, self.total + other.total)

    def note(self) -> str:
        """One line for the chart's caption; empty when every point is drawn."""
        if not self.reduced:
            return ""
        return (f"showing {self.shown:,} of {self.total:,} points; hover shows exact values of the points drawn; "
                "download for all")


def line_budget(width_px: int = FULL_WIDTH_PX) -> int:
    """Points a line trace of a chart ``width_px`` wide keeps: ``POINTS_PER_PIXEL`` per column, a multiple of 4.

    >>> line_budget(1200), line_budget(601)
    (2400, 1200)
    """
    return max(8, (POINTS_PER_PIXEL * int(width_px)) // 4 * 4)


def line_indices(y: np.ndarray, width_px: int = FULL_WIDTH_PX, x: np.ndarray | None = None) -> np.ndarray:
    """Indices (ascending, distinct) of the points of a line to draw in a chart ``width_px`` wide.

    Every index when ``y`` fits the budget (:func:`line_budget`); otherwise M4 on equal ranges of
    ``x`` (default the sample index): per bin the first, last, smallest and largest sample.
    """
    y = np.asarray(y)
    budget = line_budget(width_px)
    if y.size <= budget:
        return np.arange(y.size)
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    chosen = M4Downsampler().downsample(x, np.ascontiguousarray(y, dtype=np.float64), n_out=budget)
    return np.unique(np.asarray(chosen, dtype=np.int64))  # a bin's first sample may also be its extreme


def reduced_line(y: np.ndarray, width_px: int = FULL_WIDTH_PX, x: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, Reduction]:
    """The points of a line to draw (:func:`line_indices`): their x (default the sample index), their
    exact y, and the count.

    >>> x, y, r = reduced_line(np.array([0.0, 2.0, -1.0]), x=np.array([0.0, 0.5, 1.0]))
    >>> x.tolist(), y.tolist(), r.reduced
    ([0.0, 0.5, 1.0], [0.0, 2.0, -1.0], False)
    """
    y = np.asarray(y)
    keep = line_indices(y, width_px, x)
    return (keep if x is None else np.asarray(x)[keep]), y[keep], Reduction(int(keep.size), int(y.size))


def column_buckets(n: int, max_columns: int) -> int:
    """Samples per heatmap column so that ``n`` samples fit ``max_columns`` columns (1: no pooling).

    >>> column_buckets(4096, 600), column_buckets(600, 600)
    (7, 1)
    """
    return max(1, -(-int(n) // max(1, int(max_columns))))


def pool_columns(values: np.ndarray, max_columns: int = FULL_WIDTH_PX,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Shrink ``(rows, N)`` to at most ``max_columns`` columns, keeping each bucket's largest ``|value|``.

    Returns the bucket centres (samples), the pooled ``(rows, N')`` values (each an exact value of
    the data, its sign kept), the sample index each pooled value comes from ``(rows, N')`` and the
    bucket size. With ``N <= max_columns`` the values come back as they are (bucket size 1).

    >>> t, v, at, size = pool_columns(np.array([[1.0, -3.0, 2.0, 0.5, 7.0]]), max_columns=2)
    >>> t.tolist(), v.tolist(), at.tolist(), size
    ([1.0, 3.5], [[-3.0, 7.0]], [[1, 4]], 3)
    """
    values = np.atleast_2d(values)
    n = values.shape[1]
    size = column_buckets(n, max_columns)
    if size == 1:
        return np.arange(n, dtype=float), values, np.broadcast_to(np.arange(n), values.shape), 1
    count = -(-n // size)
    padded = np.pad(values, ((0, 0), (0, count * size - n)))  # zeros never beat a real |value| > 0
    blocks = padded.reshape(values.shape[0], count, size)
    pick = np.abs(blocks).argmax(axis=2)
    pooled = np.take_along_axis(blocks, pick[..., None], axis=2)[..., 0]
    starts = np.arange(count) * size
    centres = starts + (np.minimum(size, n - starts) - 1) / 2
    return centres, pooled, starts[None, :] + pick, size


def mark_reduced(fig: go.Figure, reduction: Reduction) -> go.Figure:
    """Record on ``fig`` (``layout.meta``) how much of its data it draws; returns ``fig``."""
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta[META_KEY] = {"shown": int(reduction.shown), "total": int(reduction.total)}
    fig.update_layout(meta=meta)
    return fig


def reduction_of(fig: go.Figure | dict) -> Reduction | None:
    """The record :func:`mark_reduced` left on a figure, or ``None``.

    >>> reduction_of(mark_reduced(go.Figure(), Reduction(10, 40)))
    Reduction(shown=10, total=40)
    """
    if isinstance(fig, dict):
        layout = fig.get("layout")
        meta = layout.get("meta") if isinstance(layout, dict) else None
    else:
        meta = fig.layout.meta
    record = meta.get(META_KEY) if isinstance(meta, dict) else None
    if not isinstance(record, dict):
        return None
    return Reduction(int(record["shown"]), int(record["total"]))


def total(reductions: Iterable[Reduction]) -> Reduction:
    """Sum of several traces' reductions.

    >>> total([Reduction(2, 4), Reduction(3, 3)])
    Reduction(shown=5, total=7)
    """
    return sum(reductions, Reduction(0, 0))
