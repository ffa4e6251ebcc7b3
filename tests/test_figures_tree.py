"""Figure builders of the tree, TREESELECT and wavelet pages: plain data in, labelled plotly Figures out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from multires import ModelConfig, MultiresNet, coefficient_tree, kept_cells, memory_slots, slot_filters
from multires.analysis.families import family_gram, wavelet_family
from multires.analysis.footprint import footprint
from multires.analysis.memory import memory_capacity, reconstruct_past, reconstruction_error_by_lag
from multires.figures.cells import cell_coords, cell_label
from multires.figures.dilated_tree import dilated_tree_figure
from multires.figures.style import SIGNED_COLORSCALE, TREE_SELECT_COLORS
from multires.figures.tree import (
    KEPT_HALO_WIDTH,
    KEPT_LINE_WIDTH,
    KEPT_MARKER_SIZES,
    MAX_HEATMAP_COLUMNS,
    MAX_TRACE_POINTS,
    level_energy,
    level_traces,
    normalized_level_energy,
    signal_figure,
    tree_heatmap,
)
from multires.figures.treeselect import (
    capacity_figure,
    footprint_figure,
    kernel_figure,
    reconstruction_error_figure,
    reconstruction_figure,
)
from multires.figures.wavelets import family_figure, family_members_shown, gram_heatmap, mother_wavelet_figure
from multires.treeselect import Slot
from multires.wavelets import wavelet_filters

SEED = 7
#: Parseval for the level-normalised energies: only the causal zero padding at the start breaks it.
ENERGY_RTOL = 0.02
#: composite kernel vs the sum of slot contributions, float32 model weights.
KERNEL_ATOL = 1e-5


def signal(n: int = 64) -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal(n)


def axis_titles(fig: go.Figure, axis: str) -> list[str]:
    """Titles of every ``xaxis*`` / ``yaxis*`` that has one."""
    keys = [key for key in fig.layout.to_plotly_json() if key.startswith(axis)]
    return [fig.layout[key].title.text for key in keys if fig.layout[key].title.text]


def assert_labelled(fig: go.Figure) -> None:
    """A title, an x-axis title, a y-axis title, and units (in parentheses) on at least one axis."""
    assert fig.layout.title.text, "figure has no title"
    x_titles, y_titles = axis_titles(fig, "xaxis"), axis_titles(fig, "yaxis")
    assert x_titles, "no x-axis title"
    assert y_titles, "no y-axis title"
    assert any("(" in t for t in x_titles + y_titles), f"no units in the axis titles {x_titles + y_titles}"


def trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, f"expected one trace named {name!r}, got {[t.name for t in fig.data]}"
    return matches[0]


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("slot,label", [(Slot("approx", 4, 0), "a4"), (Slot("detail", 2, 8), "b2"),
                                        (Slot("detail", 11, 0), "b11")])
def test_cell_label(slot, label):
    assert cell_label(slot) == label


def test_cell_coords_keeps_order_and_times():
    cells = kept_cells(memory_slots("uniform", 3, 2, memory_size=8), n=5)
    assert cell_coords(cells) == [(cell_label(s), 5 - s.lag) for s in memory_slots("uniform", 3, 2, 8) if s.lag <= 5]


# --- the dilated tree (Home, the paper's Figure 2) ----------------------------------------------


@pytest.mark.parametrize("rule,memory_size,n", [("fading", None, 15), ("fading", None, 0),
                                                    ("uniform", 8, 15), ("uniform", 8, 5), ("uniform", 16, 15)])
def test_dilated_tree_outlines_exactly_the_kept_cells(rule, memory_size, n):
    slots = memory_slots(rule, 4, 2, memory_size=memory_size)
    cells = kept_cells(slots, n)
    fig = dilated_tree_figure(16, 4, 2, n, cells, rule)
    assert_labelled(fig)
    assert fig.layout.xaxis.title.text == "time t (samples)"
    kept = trace(fig, f"kept by {'resolution fading' if rule == 'fading' else 'uniform'}")
    assert len(kept.x) == len(cells)
    # a_l[t] is drawn at t - 0.2, b_l[t] at t + 0.2, on row l
    expected = sorted((t + (-0.2 if s.band == "approx" else 0.2), float(s.level)) for s, t in cells)
    assert sorted(zip(np.round(kept.x, 9), kept.y)) == [(round(x, 9), y) for x, y in expected]
    assert kept.marker.color == TREE_SELECT_COLORS[rule]


def test_dilated_tree_has_every_node_and_labelled_levels():
    fig = dilated_tree_figure(16, 4, 2, 9, kept_cells(memory_slots("fading", 4, 2), 9))
    assert len(trace(fig, "input x").x) == 16
    assert len(trace(fig, "a (approximation)").x) == 16 * 4
    assert len(trace(fig, "b (detail)").x) == 16 * 4
    assert list(fig.layout.yaxis.ticktext) == ["input x"] + [f"level {l}  (dilation {2 ** (l - 1)})" for l in range(1, 5)]
    # nodes after n are faded: they do not exist yet at time n
    opacity = np.asarray(trace(fig, "input x").marker.opacity)
    assert (opacity[:10] == 1).all() and (opacity[10:] < 1).all()


def segments(tr) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    xs, ys = list(tr.x), list(tr.y)
    return [((xs[i], ys[i]), (xs[i + 1], ys[i + 1])) for i in range(0, len(xs), 3)]


def test_dilated_tree_cone_of_one_detail_cell():
    # b2[7] combines a1[5] and a1[7] through h1; those combine x[4], x[5], x[6], x[7] through h0.
    fig = dilated_tree_figure(16, 4, 2, 7, [(Slot("detail", 2, 0), 7)])
    h1 = segments(trace(fig, "h1 (highpass, shared)"))
    h0 = segments(trace(fig, "h0 (lowpass, shared)"))
    assert sorted(h1) == [((4.8, 1.0), (7.2, 2.0)), ((6.8, 1.0), (7.2, 2.0))]
    assert sorted(s[0] for s in h0) == [(4.0, 0.0), (5.0, 0.0), (6.0, 0.0), (7.0, 0.0)]


def test_dilated_tree_rejects_a_time_outside_the_sequence():
    with pytest.raises(ValueError, match="n must be in 0..15"):
        dilated_tree_figure(16, 4, 2, 16)


# --- the tree heatmap and per-level views -------------------------------------------------------


@pytest.mark.parametrize("n", [0, 20, 63])
def test_tree_heatmap_outlines_kept_cells_of_every_rule(n):
    rows = coefficient_tree(signal(), *wavelet_filters("haar"), depth=5).rows()
    kept = {
        "fading": cell_coords(kept_cells(memory_slots("fading", 5, 2), n)),
        "uniform": cell_coords(kept_cells(memory_slots("uniform", 5, 2, memory_size=10), n)),
    }
    fig = tree_heatmap(rows, "Tree", kept=kept, n=n)
    assert_labelled(fig)
    heat = trace(fig, "coefficients")
    assert np.asarray(heat.z).shape == (6, 64)
    assert heat.zmid == 0
    assert list(fig.layout.yaxis.categoryarray) == ["a5", "b5", "b4", "b3", "b2", "b1"]
    for rule, cells in kept.items():
        tr = trace(fig, f"kept by {'resolution fading' if rule == 'fading' else 'uniform'}")
        assert list(zip(tr.y, tr.x)) == cells
        assert tr.marker.color == TREE_SELECT_COLORS[rule]
        assert tr.marker.size == KEPT_MARKER_SIZES[rule]


def rgb(color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` or ``"rgb(r, g, b)"`` as integers."""
    if color.startswith("#"):
        return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(c)) for c in color[color.index("(") + 1 : color.index(")")].split(",")[:3])


def assert_signed_scale_without_blue(heat) -> None:
    """Signed values use the app's red/white/grey scale: blue means h0 / approximation only."""
    assert [list(stop) for stop in heat.colorscale] == SIGNED_COLORSCALE
    assert heat.zmid == 0 and heat.zmin == -heat.zmax
    for _, color in heat.colorscale:
        r, g, b = rgb(color)
        assert b <= max(r, g), f"{color} is bluish"
    assert rgb(heat.colorscale[0][1]) < rgb(heat.colorscale[-1][1])  # negative end dark, positive end red
    assert rgb(heat.colorscale[-1][1])[0] > 150 and rgb(heat.colorscale[-1][1])[2] < 100


def test_tree_heatmap_signed_scale_and_readable_nested_outlines():
    rows = coefficient_tree(signal(), *wavelet_filters("haar"), depth=4).rows()
    kept = {"fading": cell_coords(kept_cells(memory_slots("fading", 4, 2), 40)),
            "uniform": cell_coords(kept_cells(memory_slots("uniform", 4, 2, memory_size=6), 40)),
            "learned": cell_coords(kept_cells(memory_slots("uniform", 4, 2, memory_size=3), 40))}
    fig = tree_heatmap(rows, "Tree", kept=kept, n=40)
    assert_signed_scale_without_blue(trace(fig, "coefficients"))
    names = [t.name for t in fig.data]
    halos = [i for i, name in enumerate(names) if name.startswith("halo")]
    outlines = [i for i, name in enumerate(names) if name.startswith("kept by")]
    assert len(halos) == len(outlines) == 3
    # every halo under every outline: a smaller square's halo never paints over a larger one's outline
    assert max(halos) < min(outlines)
    for i in halos:
        assert fig.data[i].marker.line.color == "white" and fig.data[i].marker.line.width == KEPT_HALO_WIDTH
    for i in outlines:
        assert fig.data[i].marker.line.width == KEPT_LINE_WIDTH
    assert (KEPT_HALO_WIDTH - KEPT_LINE_WIDTH) / 2 >= 1.5  # white on both sides of each outline
    # nested squares (cells kept by several rules) do not overlap: outlines abut at most
    sizes = sorted(KEPT_MARKER_SIZES.values(), reverse=True)
    assert all((a - b) / 2 >= KEPT_LINE_WIDTH for a, b in zip(sizes, sizes[1:]))
    colors = {fig.data[i].marker.color for i in outlines}
    assert colors == {TREE_SELECT_COLORS[s] for s in kept}


def test_tree_heatmap_of_a_window_keeps_true_times():
    rows = coefficient_tree(signal(), *wavelet_filters("haar"), depth=3).rows()
    window = [(label, values[40:61]) for label, values in rows]
    cells = cell_coords(kept_cells(memory_slots("uniform", 3, 2, memory_size=8), 60))
    fig = tree_heatmap(window, "Window", kept={"uniform": cells}, n=60, start=40)
    assert list(fig.data[0].x) == list(range(40, 61))
    np.testing.assert_allclose(np.asarray(fig.data[0].customdata), np.vstack([v for _, v in window]))
    assert list(fig.data[1].x) == [60, 60, 60, 56, 60, 58, 56, 54]


def test_tree_heatmap_row_scaling():
    rows = coefficient_tree(signal(), *wavelet_filters("db2"), depth=4).rows()
    scaled = np.asarray(tree_heatmap(rows, "T").data[0].z)
    np.testing.assert_allclose(np.abs(scaled).max(axis=1), 1.0)
    raw = tree_heatmap(rows, "T", normalize_rows=False).data[0]
    np.testing.assert_allclose(np.asarray(raw.z), np.vstack([v for _, v in rows]))
    assert raw.zmax == pytest.approx(np.abs(np.vstack([v for _, v in rows])).max())


def test_long_signals_are_pooled_for_display_keeping_the_extremes():
    x = signal(5000)
    x[1234] = 40.0  # a spike must survive pooling
    rows = coefficient_tree(x, *wavelet_filters("haar"), depth=3).rows()
    heat = tree_heatmap(rows, "Tree", normalize_rows=False).data[0]
    assert np.asarray(heat.z).shape == (4, 1000)  # buckets of 5 samples
    assert 1000 <= MAX_HEATMAP_COLUMNS < 5000 / 4
    np.testing.assert_allclose(np.abs(np.asarray(heat.customdata)).max(axis=1),
                               [np.abs(v).max() for _, v in rows])
    fig = level_traces(rows, "Levels")
    assert all(len(tr.x) <= MAX_TRACE_POINTS for tr in fig.data)
    assert max(signal_figure(x, "spike").data[0].y) == 40.0


def test_level_traces_one_subplot_per_row():
    rows = coefficient_tree(signal(), *wavelet_filters("haar"), depth=4).rows()
    fig = level_traces(rows, "Levels")
    assert [t.name for t in fig.data] == ["a4", "b4", "b3", "b2", "b1"]
    assert_labelled(fig)
    assert fig.layout.xaxis5.title.text == "time t (samples)"


def test_level_energy_adds_up_to_the_signal_energy_for_an_orthogonal_wavelet():
    x = signal(1024)
    rows = coefficient_tree(x, *wavelet_filters("db2"), depth=6).rows()
    assert normalized_level_energy(rows).sum() == pytest.approx(float(x @ x), rel=ENERGY_RTOL)
    fig = level_energy(rows, "Energy")
    assert_labelled(fig)
    assert fig.layout.yaxis.title.text == "share of energy (%)"
    assert sum(fig.data[0].y) == pytest.approx(100.0)
    assert list(fig.data[0].x) == ["a6", "b6", "b5", "b4", "b3", "b2", "b1"]


def test_signal_figure():
    fig = signal_figure(signal(), "noise")
    assert_labelled(fig)
    assert len(fig.data[0].y) == 64


# --- TREESELECT figures --------------------------------------------------------------------------


def test_footprint_figure_log_axes_and_series():
    n = 2 ** np.arange(4, 12)
    fp = footprint(n, depth=None, memory_size=8)
    series = {"full history": fp["full_history_per_step"], "tree": fp["tree_total"],
              "fading": fp["fading_per_step"], "uniform": fp["uniform_per_step"]}
    fig = footprint_figure(n, series, {"uniform": "uniform (M = 8)"}, current_n=512)
    assert_labelled(fig)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert [t.name for t in fig.data] == ["full history", "tree", "resolution fading", "uniform (M = 8)"]
    assert [t.line.color for t in fig.data] == [TREE_SELECT_COLORS[s] for s in series]


def test_reconstruction_figures():
    h0, h1 = wavelet_filters("haar")
    x = signal()
    hats, errors = {}, {}
    for rule, slots in (("fading", memory_slots("fading", 4, 2)), ("uniform", memory_slots("uniform", 4, 2, 16))):
        t, x_window, hats[rule] = reconstruct_past(x, 40, h0, h1, slots, 4, window=16)
        lags, errors[rule] = reconstruction_error_by_lag(h0, h1, slots, 4, window=16)
    fig = reconstruction_figure(t, x_window, hats, 40)
    assert_labelled(fig)
    assert [tr.name for tr in fig.data] == ["signal x", "resolution fading", "uniform"]
    # uniform with M = 2**J and Haar is the DWT of the window: exact reconstruction
    np.testing.assert_allclose(fig.data[2].y, x_window, atol=1e-9)
    fig = reconstruction_error_figure(lags, errors)
    assert_labelled(fig)
    assert len(fig.data) == 2


def test_capacity_figure_reports_total_capacity():
    h0, h1 = wavelet_filters("haar")
    lags, r2 = memory_capacity(h0, h1, memory_slots("fading", 3, 2), 3, max_lag=15)
    fig = capacity_figure(lags, {"fading": r2})
    assert_labelled(fig)
    assert fig.data[0].name == f"resolution fading (total {r2.sum():.1f})"


def test_kernel_figure_rows_sum_to_the_composite_kernel():
    torch.manual_seed(SEED)
    net = MultiresNet(ModelConfig(d_model=3, n_layers=1, seq_len=32, tree_select="learned", memory_size=5))
    net.update_selection(1.0)
    h0, h1 = net.filters(0, 1)
    slots, weights = net.memory(0, 1)
    kernel = net.kernel(0, 1)
    g = slot_filters(torch.from_numpy(h0)[None], torch.from_numpy(h1)[None], slots, net.convs[0].depth)[0].numpy()
    contributions = weights[:-1, None] * np.pad(g, ((0, 0), (0, kernel.size - g.shape[1])))
    labels = [str(s) for s in slots]
    fig = kernel_figure(kernel, contributions, labels, float(weights[-1]))
    assert fig.layout.title.text
    assert fig.layout.xaxis2.title.text == "lag m (samples)"
    assert fig.layout.yaxis.title.text == "K[m]"
    heat = trace(fig, "slot contributions")
    assert list(heat.y) == labels and len(labels) == 5
    assert_signed_scale_without_blue(heat)
    summed = np.asarray(heat.z).sum(axis=0)
    summed[0] += weights[-1]
    np.testing.assert_allclose(summed, trace(fig, "K").y, atol=KERNEL_ATOL)


# --- wavelet figures -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haar", "db2"])
def test_family_figure_rows_tile_the_support(name):
    family = wavelet_family(name, levels=4, level=8)
    shown = family_members_shown(family.members, family.support)
    assert [sum(1 for j, _, _ in shown if j == level) for level in range(4)] == [1, 2, 4, 8]
    fig = family_figure(family.t, family.members, family.support, name)
    assert_labelled(fig)
    assert len(fig.data) == 15
    assert [fig.layout[f"yaxis{'' if i == 1 else i}"].title.text for i in range(1, 5)] == [f"j = {j}" for j in range(4)]


def test_mother_wavelet_and_gram_figures():
    family = wavelet_family("db2", levels=3, level=8)
    fig = mother_wavelet_figure(family.t, family.phi, family.psi, "db2")
    assert_labelled(fig)
    assert [t.name for t in fig.data] == ["φ (scaling function)", "ψ (wavelet)"]
    members = [(j, k) for j, k, _ in family.members]
    gram = family_gram(family)
    fig = gram_heatmap(gram, members, "db2")
    assert_labelled(fig)
    assert np.asarray(fig.data[0].z).shape == (len(members), len(members))
    assert list(fig.layout.xaxis.ticktext) == ["0", "1", "2"]
