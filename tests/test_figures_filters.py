"""Figure builders of the Filters page (multires.figures.filters): titles, axis labels, traces, table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from multires.analysis.cascade import cascade
from multires.analysis.filters import filter_diagnostics, frequency_response
from multires.figures.filters import (
    cascade_figure,
    channel_taps_figure,
    diagnostics_frame,
    frequency_response_figure,
    nearest_distance_figure,
    taps_figure,
)
from multires.figures.style import FILTER_COLORS
from multires.wavelets import wavelet_filters

HAAR = wavelet_filters("haar")
DB2 = wavelet_filters("db2")
N_FREQS = 65


def _axis_titles(fig: go.Figure, prefix: str) -> list[str]:
    """Titles of every ``xaxis*`` / ``yaxis*`` of a figure (subplots included)."""
    names = [name for name in fig.layout.to_plotly_json() if name.startswith(prefix)]
    return [fig.layout[name].title.text for name in names if fig.layout[name].title.text]


def _assert_labelled(fig: go.Figure, x_fragment: str, y_fragment: str) -> None:
    assert fig.layout.title.text, "figure has no title"
    x_titles, y_titles = _axis_titles(fig, "xaxis"), _axis_titles(fig, "yaxis")
    assert any(x_fragment in t for t in x_titles), f"no x axis title containing {x_fragment!r}: {x_titles}"
    assert any(y_fragment in t for t in y_titles), f"no y axis title containing {y_fragment!r}: {y_titles}"


@pytest.mark.parametrize("fixed", [HAAR, DB2], ids=["same_length", "different_length"])
def test_taps_figure_has_one_bar_per_filter_and_pair(fixed):
    fig = taps_figure(HAAR, fixed, "learned · layer 0, ch 0", "fixed · x")
    _assert_labelled(fig, "tap index", "tap value")
    assert [type(t).__name__ for t in fig.data] == ["Bar"] * 4
    assert [len(t.y) for t in fig.data] == [2, 2, len(fixed[0]), len(fixed[0])]
    assert [t.marker.color for t in fig.data] == [FILTER_COLORS["h0"], FILTER_COLORS["h1"]] * 2
    np.testing.assert_array_equal(fig.data[2].y, fixed[0])


def test_frequency_response_figure_draws_four_curves_on_half_band():
    curves = {}
    for label, pair in (("learned", HAAR), ("fixed", DB2)):
        freqs, lo, _ = frequency_response(pair[0], N_FREQS)
        _, hi, _ = frequency_response(pair[1], N_FREQS)
        curves[label] = (lo, hi)
    fig = frequency_response_figure(freqs, curves["learned"], curves["fixed"], "learned", "db2")
    _assert_labelled(fig, "cycles/sample", "|H(f)|")
    assert len(fig.data) == 4
    assert [t.line.dash for t in fig.data] == ["solid", "solid", "dash", "dash"]
    assert tuple(fig.layout.xaxis.range) == (0, 0.5)
    assert fig.data[0].y[0] == pytest.approx(np.sqrt(2))  # Haar lowpass DC gain


def test_cascade_figure_has_phi_and_psi_panels():
    fig = cascade_figure(cascade(*HAAR, level=4), cascade(*DB2, level=4), "learned", "db2")
    _assert_labelled(fig, "t (", "amplitude")
    assert len(fig.data) == 4
    assert {t.xaxis for t in fig.data} == {"x", "x2"}
    assert [a.text for a in fig.layout.annotations][:2] == ["scaling function φ (from h0)", "wavelet ψ (from h0, h1)"]


def test_nearest_distance_figure_is_one_heatmap_with_selected_outline():
    distance = np.array([[0.0, 0.1, 0.2], [0.3, np.nan, 0.5]])
    names = [["haar", "haar", "haar"], ["haar", "zero filter", "haar"]]
    fig = nearest_distance_figure(distance, names, selected=(1, 2))
    _assert_labelled(fig, "channel", "layer")
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    assert np.asarray(fig.data[0].z).shape == (2, 3)
    outer, inner = fig.layout.shapes  # black then white: the outline shows on dark and bright cells
    for outline in (outer, inner):
        assert (outline.x0, outline.x1, outline.y0, outline.y1) == (1.5, 2.5, 0.5, 1.5)
    assert {outer.line.color, inner.line.color} == {"#000000", "#ffffff"}


def test_channel_taps_figure_appends_reference_row_only_when_lengths_match():
    rng = np.random.default_rng(0)
    h0, h1 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    with_ref = channel_taps_figure(h0, h1, layer=1, reference=HAAR, reference_label="haar (fixed)")
    without = channel_taps_figure(h0, h1, layer=1, reference=DB2, reference_label="db2 (fixed)")
    _assert_labelled(with_ref, "channel", "tap i")
    assert len(with_ref.data) == 2
    assert list(with_ref.data[0].x) == ["0", "1", "2", "3", "haar (fixed)"]
    assert list(without.data[0].x) == ["0", "1", "2", "3"]
    np.testing.assert_array_equal(np.asarray(with_ref.data[1].z)[:, 4], HAAR[1])  # taps down, channels across
    assert with_ref.data[0].zmid == 0.0


def test_diagnostics_frame_puts_learned_and_fixed_side_by_side():
    learned = filter_diagnostics(np.array([1.0, 0.9]), np.array([0.8, -1.0]))
    fixed = filter_diagnostics(*HAAR)
    table = diagnostics_frame(learned.rows(), fixed.rows(), "learned", "fixed haar")
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["learned", "fixed haar", "ideal", "meaning"]
    assert len(table) == len(learned.rows())
    assert table.loc["nearest wavelet", "fixed haar"] == "haar"
    assert table.loc["orthonormality error", "fixed haar"] == "0"  # rounding noise shown as an exact 0
    assert table.loc["lowpass DC gain", "learned"] == "1.9"
    assert table["meaning"].str.len().min() > 10, "every row explains itself"
