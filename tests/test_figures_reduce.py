"""Display reduction (multires.figures.reduce): charts draw about as many points as they have pixels.

What a reduced chart must keep: every point it draws is an exact sample (hover shows exact values),
every bin's smallest and largest value (a spike survives), and for data within the pixel budget
nothing changes at all.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from multires import coefficient_tree, memory_slots, slot_filters
from multires.analysis.cascade import cascade
from multires.analysis.families import wavelet_family
from multires.figures.filters import cascade_figure
from multires.figures.reduce import (
    FULL_WIDTH_PX,
    HALF_WIDTH_PX,
    Reduction,
    line_budget,
    line_indices,
    pool_columns,
    reduction_of,
)
from multires.figures.tree import level_traces, signal_figure, tree_heatmap
from multires.figures.treeselect import capacity_figure, kernel_figure, reconstruction_figure
from multires.figures.wavelets import family_figure, mother_wavelet_figure
from multires.wavelets import wavelet_filters

SEED = 3


def noise(n: int, seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def bins_of(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal ranges of ``x``, as tsdownsample's M4 bins them (the last bin includes the end)."""
    step = x[-1] / n_bins - x[0] / n_bins
    return np.minimum(((x - x[0]) / step).astype(int), n_bins - 1)


def assert_bin_extremes_kept(x: np.ndarray, y: np.ndarray, keep: np.ndarray, n_bins: int) -> None:
    """Per bin, the smallest and largest kept value are the bin's exact smallest and largest."""
    bins = bins_of(x, n_bins)
    kept_bins = bins[keep]
    for b in range(n_bins):
        exact = y[bins == b]
        drawn = y[keep[kept_bins == b]]
        assert drawn.min() == exact.min() and drawn.max() == exact.max(), f"bin {b}"


# --- lines ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, line_budget(FULL_WIDTH_PX)])
def test_a_line_within_its_budget_is_unchanged(n):
    assert line_indices(noise(n)).tolist() == list(range(n))


# Lengths whose bin edges fall between samples (n - 1 and the number of bins share no factor), so the
# test's bins are exactly tsdownsample's (a sample on an edge may go to either neighbour).
@pytest.mark.parametrize("n, width", [(4098, HALF_WIDTH_PX), (40_962, FULL_WIDTH_PX), (10_008, 333)])
def test_a_long_line_keeps_every_bins_extremes(n, width):
    assert math.gcd(n - 1, line_budget(width) // 4) == 1
    y = noise(n)
    y[n // 3] = 50.0  # an isolated spike and dip must be drawn
    y[n // 2] = -50.0
    keep = line_indices(y, width)
    assert keep.size <= line_budget(width) < n
    assert np.all(np.diff(keep) > 0)  # time order, no repeats
    assert {n // 3, n // 2} <= set(keep.tolist())
    assert_bin_extremes_kept(np.arange(n, dtype=float), y, keep, line_budget(width) // 4)


def test_a_line_on_a_non_integer_grid_keeps_its_extremes_on_that_grid():
    t = np.linspace(0.0, 3.0, 20_004)  # 20,003 steps: no grid point on a bin edge (150 bins)
    y = np.sin(40 * t) * np.exp(-t)
    keep = line_indices(y, 300, x=t)
    assert_bin_extremes_kept(t, y, keep, line_budget(300) // 4)


# --- heatmap columns --------------------------------------------------------------------------


def test_heatmap_columns_keep_the_sign_correct_extreme_of_each_bucket():
    values = noise(3 * 1003).reshape(3, 1003)  # the last bucket holds 2 samples
    values[1, 500] = -40.0  # a negative spike stays negative
    centres, pooled, source, size = pool_columns(values, max_columns=100)
    assert size == 11 and pooled.shape == (3, 92)
    for row in range(3):
        for column in range(pooled.shape[1]):
            bucket = values[row, column * size:(column + 1) * size]
            assert pooled[row, column] == bucket[np.argmax(np.abs(bucket))]
            assert values[row, source[row, column]] == pooled[row, column]  # the exact sample it comes from
    assert pooled.min() == -40.0
    assert centres[0] == 5.0 and centres[-1] == 1001.5


def test_heatmap_within_its_budget_is_unchanged():
    values = noise(2 * 50).reshape(2, 50)
    centres, pooled, source, size = pool_columns(values, max_columns=50)
    assert size == 1 and centres.tolist() == list(range(50))
    assert pooled is values or np.array_equal(pooled, values)


# --- figures ----------------------------------------------------------------------------------


def rows_of(x: np.ndarray, depth: int = 5) -> list[tuple[str, np.ndarray]]:
    return coefficient_tree(x, *wavelet_filters("haar"), depth=depth).rows()


def test_short_figures_are_unreduced_and_say_nothing():
    x = noise(500)
    rows = rows_of(x)
    heat = tree_heatmap(rows, "Tree", width_px=HALF_WIDTH_PX)
    assert heat.layout.title.text == "Tree"
    assert list(heat.data[0].x) == list(range(500))
    assert np.array_equal(np.asarray(heat.data[0].customdata), np.vstack([v for _, v in rows]))
    assert heat.data[0].hovertemplate == "%{y}[%{x}] = %{customdata:.4g}<extra></extra>"
    traces = level_traces(rows, "Levels", width_px=HALF_WIDTH_PX)
    for trace, (_, values) in zip(traces.data, rows):
        assert np.array_equal(np.asarray(trace.y), values) and list(trace.x) == list(range(500))
    signal = signal_figure(x, "noise")
    assert signal.layout.title.text == "Signal: noise (500 samples)"
    for fig in (heat, traces, signal):
        assert reduction_of(fig) is None


def test_long_tree_figures_draw_exact_points_and_say_how_many():
    x = noise(4098)  # bin edges between samples (see above)
    x[2000] = 30.0
    rows = rows_of(x, depth=10)
    signal = signal_figure(x, "noise")
    trace = signal.data[0]
    assert np.array_equal(np.asarray(trace.y), x[np.asarray(trace.x)])  # hover shows exact samples
    assert max(trace.y) == 30.0
    assert signal.layout.title.text == "Signal: noise (4098 samples)"
    assert reduction_of(signal) == Reduction(len(trace.x), 4098)

    traces = level_traces(rows, "Levels", width_px=HALF_WIDTH_PX)
    for trace, (_, values) in zip(traces.data, rows):
        keep = np.asarray(trace.x)
        assert np.array_equal(np.asarray(trace.y), values[keep])
        assert_bin_extremes_kept(np.arange(4098.0), values, keep, line_budget(HALF_WIDTH_PX) // 4)
    drawn = sum(len(trace.x) for trace in traces.data)
    assert reduction_of(traces) == Reduction(drawn, 11 * 4098)
    assert reduction_of(traces).note() == (f"showing {drawn:,} of 45,078 points; hover shows exact values of the "
                                          "points drawn; download for all")

    heat = tree_heatmap(rows, "Tree", normalize_rows=False, width_px=HALF_WIDTH_PX).data[0]
    z, times = np.asarray(heat.customdata), np.asarray(heat.text)
    assert z.shape == (11, 586)  # buckets of 7 samples
    for row, (_, values) in enumerate(rows):
        assert np.array_equal(values[times[row]], z[row])  # each cell an exact coefficient, at its exact time
        assert np.abs(z[row]).max() == np.abs(values).max()
    assert "largest |c| of 7 samples" in heat.hovertemplate and "%{text}" in heat.hovertemplate


def test_treeselect_figures_reduce_long_windows_to_exact_points():
    n = 6000
    t = np.arange(n)
    x, x_hat = noise(n), noise(n, seed=4)
    fig = reconstruction_figure(t, x, {"fading": x_hat}, n - 1)
    for trace, exact in zip(fig.data, (x, x_hat)):
        assert np.array_equal(np.asarray(trace.y), exact[np.asarray(trace.x)])
        assert len(trace.x) <= line_budget(HALF_WIDTH_PX)
    assert fig.layout.title.text == f"What the memory at n = {n - 1} still knows"
    assert reduction_of(fig).reduced
    r2 = np.clip(noise(n, seed=5), 0, 1)
    capacity = capacity_figure(t, {"fading": r2})
    assert capacity.data[0].name == f"resolution fading (total {r2.sum():.1f})"  # the total of every lag


def test_kernel_figure_pools_a_long_kernel_keeping_exact_lags():
    slots = memory_slots("fading", 11, 2)
    h0, h1 = (np.asarray(f) for f in wavelet_filters("haar"))
    import torch

    g = slot_filters(torch.from_numpy(h0)[None], torch.from_numpy(h1)[None], slots, 11)[0].numpy()
    weights = np.linspace(-1.0, 1.0, len(slots))
    contributions = weights[:, None] * g
    kernel = contributions.sum(axis=0)
    fig = kernel_figure(kernel, contributions, [str(s) for s in slots], 0.5, width_px=500)
    line, heat = fig.data
    assert np.array_equal(np.asarray(line.y), kernel[np.asarray(line.x)])
    z, lags = np.asarray(heat.z), np.asarray(heat.text)
    for row in range(len(slots)):
        assert np.array_equal(contributions[row, lags[row]], z[row])
        assert np.abs(z[row]).max() == np.abs(contributions[row]).max()
    assert reduction_of(fig).reduced


def test_wavelet_figures_on_fine_grids_are_reduced_to_exact_points():
    family = wavelet_family("db4", levels=3, level=12)
    mother = mother_wavelet_figure(family.t, family.phi, family.psi, "db4", width_px=400)
    for trace, exact in zip(mother.data, (family.phi, family.psi)):
        index = np.searchsorted(family.t, np.asarray(trace.x))
        assert np.array_equal(np.asarray(trace.y), exact[index])
        assert len(trace.x) <= line_budget(400)
    assert mother.layout.title.text == "Mother wavelet ψ and scaling function φ of db4"
    rows = family_figure(family.t, family.members, family.support, "db4", width_px=400)
    per_row: dict[str, int] = {}
    for trace in rows.data:
        per_row[trace.xaxis] = per_row.get(trace.xaxis, 0) + len(trace.x)
    assert max(per_row.values()) <= line_budget(400) + 4 * len(rows.data)  # a row's translates share its pixels
    assert reduction_of(rows).reduced


def test_cascade_figure_reduces_fine_grids_only():
    coarse = cascade(*wavelet_filters("db2"), level=6)
    fig = cascade_figure(coarse, coarse, "learned", "fixed")
    assert reduction_of(fig) is None
    assert np.array_equal(np.asarray(fig.data[0].y), coarse[1])
    fine = cascade(*wavelet_filters("db8"), level=10)
    fig = cascade_figure(fine, fine, "learned", "fixed", width_px=300)
    assert reduction_of(fig).reduced
    assert all(len(trace.x) <= line_budget(300) for trace in fig.data)
