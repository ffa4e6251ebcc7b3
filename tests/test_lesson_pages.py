"""The lesson features of Home, Coefficient tree and TREESELECT: motion, predict-then-reveal, linked views.

Figure builders are checked on plain data (frames, highlighted cells against ``kept_cells``, the impulse
against a brute-force tree); the pages are run with ``AppTest`` on the real ``app.py`` and the answers
they reveal are compared with the library, never with hard-coded lists.
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import chart_spec, decode_arrays, open_app
from multires import coefficient_tree, kept_cells, memory_slots, wavelet_filters
from multires.analysis.memory import reconstruction_error_by_lag
from multires.checkpoint.format import read_metadata
from multires.figures.dilated_tree import ANIMATED_TRACES, impulse_cells, tree_animation_figure
from multires.figures.style import TREE_SELECT_COLORS
from multires.figures.tree import FOCUS_COLOR, level_energy, normalized_level_energy, tree_heatmap
from multires.figures.treeselect import capacity_figure, guess_overlay, kernel_figure, selection_matrix_figure
from multires.treeselect import Slot, default_depth, receptive_field
from ui import defaults
from ui.models import MODELS_DIR

#: The learned model TREESELECT opens on (real data): its depth, width and M drive the page's numbers.
TS_CONFIG = read_metadata(MODELS_DIR / f"{defaults.REAL_LEARNED_MODEL}.safetensors")[0]
TS_DEPTH = TS_CONFIG.depth or default_depth(TS_CONFIG.seq_len, 2)

SEED = 11
N, J, K = 16, 4, 2  # the Home toy tree


def positions(cells) -> list[tuple[float, float]]:
    """Where the Figure-2 builders draw cells: a_l[t] at t - 0.2, b_l[t] at t + 0.2, on row l."""
    return sorted((round(t + (-0.2 if s.band == "approx" else 0.2), 9), float(s.level)) for s, t in cells)


def frame(fig, n: int):
    matches = [f for f in fig.frames if f.name == str(n)]
    assert len(matches) == 1, f"no single frame named {n}"
    return matches[0]


def frame_trace(fr, prefix: str):
    matches = [d for d in fr.data if d.name and d.name.startswith(prefix)]
    assert len(matches) == 1, f"no single trace starting with {prefix!r} in {[d.name for d in fr.data]}"
    return matches[0]


# --- the animated Figure 2 -------------------------------------------------------------------------


@pytest.mark.parametrize("rule,memory_size", [("fading", None), ("uniform", 8), ("uniform", 5), ("uniform", 16)])
def test_animation_has_one_frame_per_step_and_play_controls(rule, memory_size):
    slots = memory_slots(rule, J, K, memory_size=memory_size)
    fig = tree_animation_figure(N, J, K, slots, rule, impulse_at=3)
    assert [f.name for f in fig.frames] == [str(n) for n in range(N)]
    assert [step.label for step in fig.layout.sliders[0].steps] == [str(n) for n in range(N)]
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.method for b in buttons] == ["animate", "animate"]
    assert buttons[0].args[0] is None  # play runs every frame
    # every frame replaces exactly the animated traces, the static connections stay
    assert all(list(f.traces) == list(range(1, 1 + len(ANIMATED_TRACES))) for f in fig.frames)


@pytest.mark.parametrize("rule,memory_size,n", [("fading", None, 0), ("fading", None, 9), ("uniform", 8, 5),
                                                    ("uniform", 8, 15), ("uniform", 6, 11), ("uniform", 16, 7)])
def test_frame_n_highlights_exactly_the_kept_cells(rule, memory_size, n):
    slots = memory_slots(rule, J, K, memory_size=memory_size)
    fr = frame(tree_animation_figure(N, J, K, slots, rule), n)
    cells = kept_cells(slots, n)
    kept = frame_trace(fr, "kept by")
    assert sorted(zip(np.round(kept.x, 9), kept.y)) == positions(cells)
    assert kept.marker.color == TREE_SELECT_COLORS[rule]
    strip = frame_trace(fr, "memory z_n")
    lit = [text for text, color in zip(strip.text, strip.marker.color) if color == TREE_SELECT_COLORS[rule]]
    assert [text.split("<br>")[1] for text in lit] == [
        f"{'a' if s.band == 'approx' else 'b'}{s.level}[{t}]" for s, t in cells]
    assert f"n = {n}" in fr.layout.title.text


def test_frames_fade_the_future():
    fig = tree_animation_figure(N, J, K, memory_slots("fading", J, K))
    for n in (0, 7, 15):
        opacity = np.asarray(frame_trace(frame(fig, n), "input x").marker.opacity)
        assert (opacity[: n + 1] == 1).all() and (opacity[n + 1 :] < 1).all()


@pytest.mark.parametrize("impulse_at,n", [(0, 0), (2, 5), (3, 15), (10, 12)])
@pytest.mark.parametrize("kernel_size", [2, 3])
def test_impulse_cells_are_the_nodes_an_impulse_reaches(impulse_at, n, kernel_size):
    # brute force: positive filters cannot cancel, so a node depends on x[t0] iff it is non-zero
    rng = np.random.default_rng(SEED)
    h0, h1 = rng.uniform(0.2, 1.0, kernel_size), rng.uniform(0.2, 1.0, kernel_size)
    x = np.zeros(N)
    x[impulse_at] = 1.0
    tree = coefficient_tree(x, h0, h1, depth=J)
    expected = {("input", 0, impulse_at)} if impulse_at <= n else set()
    for label, values in tree.rows():
        band, level = ("approx" if label[0] == "a" else "detail"), int(label[1:])
        expected |= {(band, level, t) for t in range(n + 1) if abs(values[t]) > 1e-12}
    # the tree's rows give a_J only; approximations of lower levels are the next level's input
    got = set(impulse_cells(J, kernel_size, impulse_at, n))
    assert {c for c in got if c[0] != "approx" or c[1] == J} == expected


def test_impulse_climbs_the_tree_as_n_advances():
    fig = tree_animation_figure(N, J, K, memory_slots("fading", J, K), impulse_at=2)
    levels = []
    for n in range(2, N):
        halo = frame_trace(frame(fig, n), "carries the impulse")
        at_n = [y for x, y in zip(halo.x, halo.y) if abs(x - n) < 0.5 and y > 0]
        levels.append(min(at_n))  # the finest level still holding x[2] at time n
    assert levels == sorted(levels)  # fine levels forget it first
    assert levels[0] == 1 and levels[-1] == J
    assert all(min(level for level in range(1, J + 1) if receptive_field(level, K) > n - 2) == lowest
               for n, lowest in zip(range(2, N), levels))


def test_animation_rejects_bad_times():
    with pytest.raises(ValueError, match="impulse_at must be a time in 0..15"):
        tree_animation_figure(N, J, K, memory_slots("fading", J, K), impulse_at=16)


# --- other lesson figures --------------------------------------------------------------------------


def test_selection_matrix_marks_each_channels_kept_slots():
    kept = [[Slot("approx", 3, 0), Slot("detail", 1, 0)], [Slot("detail", 3, 8), Slot("detail", 1, 0)],
            [Slot("detail", 1, 0)]]
    fig = selection_matrix_figure(kept, channel=1)
    heat, bars = fig.data
    assert list(heat.y) == ["a3[n]", "b3[n-8]", "b1[n]"]  # weight order
    np.testing.assert_array_equal(heat.z, [[1, 0, 0], [0, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(bars.x, [1, 1, 3])
    (outline,) = fig.layout.shapes
    assert (outline.x0, outline.x1) == (0.5, 1.5)


def test_guess_overlay_splits_right_and_wrong_guesses():
    rows = [("a2", np.ones(8)), ("b2", np.ones(8)), ("b1", np.ones(8))]
    fig = guess_overlay(tree_heatmap(rows, "t"), [("a2", 7), ("b1", 5)], [("a2", 7), ("b2", 7)])
    right = next(t for t in fig.data if t.name == "your guess: kept")
    wrong = next(t for t in fig.data if t.name == "your guess: not kept")
    assert list(zip(right.y, right.x)) == [("a2", 7)] and list(zip(wrong.y, wrong.x)) == [("b1", 5)]
    # shape says right/wrong; neutral black/white with an edge of the other, never a rule's colour or
    # the heatmap's red (positive)
    assert right.marker.symbol != wrong.marker.symbol
    for tr in (right, wrong):
        assert {tr.marker.color, tr.marker.line.color} == {"white", "#111111"}
        assert tr.marker.color not in TREE_SELECT_COLORS.values()


def test_tree_heatmap_focus_shades_the_receptive_field():
    rows = coefficient_tree(np.arange(32.0), *wavelet_filters("haar"), depth=3).rows()
    fig = tree_heatmap(rows, "t", focus=("b2", 20, 17, 20))
    (band,) = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (band.x0, band.x1) == (16.5, 20.5) and band.fillcolor == FOCUS_COLOR
    star = next(t for t in fig.data if t.name == "inspected: b2[20]")
    assert list(star.x) == [20] and list(star.y) == ["b2"]


def test_level_energy_highlight_outlines_one_bar():
    rows = coefficient_tree(np.sin(np.arange(64) / 2), *wavelet_filters("haar"), depth=4).rows()
    fig = level_energy(rows, "e", highlight="b2")
    colors = list(fig.data[0].marker.line.color)
    assert colors[[label for label, _ in rows].index("b2")] == FOCUS_COLOR
    assert colors.count(FOCUS_COLOR) == 1


def test_kernel_figure_outlines_the_highlighted_row_over_its_support():
    contributions = np.zeros((2, 10))
    contributions[1, 3:7] = 1.0
    fig = kernel_figure(contributions.sum(axis=0), contributions, ["a", "b"], 0.0, highlight_row=1)
    outline = next(s for s in fig.layout.shapes if s.type == "rect" and s.line.width == 3)
    assert (outline.x0, outline.x1, outline.y0, outline.y1) == (2.5, 6.5, 0.5, 1.5)


def test_capacity_figure_marks_a_lag():
    fig = capacity_figure(np.arange(4), {"fading": np.array([1.0, 1.0, 0.5, 0.5])}, mark_lag=(2, "answer"))
    assert [s.x0 for s in fig.layout.shapes] == [2]
    assert fig.layout.annotations[0].text == "answer"


# --- pages -----------------------------------------------------------------------------------------


def chart(at: AppTest, key: str) -> dict:
    """The figure drawn under ``key``, with its typed arrays decoded."""
    return decode_arrays(chart_spec(at, key))


def named(spec: dict, prefix: str) -> dict:
    matches = [d for d in spec["data"] if (d.get("name") or "").startswith(prefix)]
    assert len(matches) == 1, f"no single trace starting with {prefix!r}"
    return matches[0]


def messages(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.success, *at.warning, *at.info])


def test_home_play_figure_advances_n_frame_by_frame():
    at = open_app()
    spec = chart(at, "home_tree")
    assert [f["name"] for f in spec["frames"]] == [str(n) for n in range(N)]
    assert [f["layout"]["title"]["text"].split(":")[0] for f in spec["frames"]] == [f"Time n = {n}" for n in range(N)]
    labels = [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]]
    assert labels == ["▶ Play", "❚❚ Pause"]
    slots = memory_slots("fading", J, K)
    for n in (0, 6, 15):
        kept = next(d for d in spec["frames"][n]["data"] if d["name"].startswith("kept by"))
        assert sorted(zip(np.round(kept["x"], 9), kept["y"])) == positions(kept_cells(slots, n))


@pytest.fixture(scope="module")
def treeselect() -> AppTest:
    """TREESELECT with the app's default sidebar (a fading model): the page picks a learned one."""
    return open_app("app_pages/4_TREESELECT.py")


def test_treeselect_shows_a_learned_selection_by_default(treeselect):
    at = treeselect
    model = at.selectbox(key=f"ts_model_{defaults.REAL_MODEL}").value
    assert model == defaults.REAL_LEARNED_MODEL
    assert any(m.label == "Cells kept at n · learned" for m in at.metric)
    spec = chart(at, "ts_selection_matrix")
    assert spec["data"][0]["name"] == "kept"
    width, m = TS_CONFIG.d_model, TS_CONFIG.memory_size
    assert len(spec["data"][0]["z"][0]) == width  # one column per channel of the shipped model
    assert all(sum(row[c] for row in spec["data"][0]["z"]) == m for c in range(width))  # M per channel


def test_reveal_shows_the_uniform_cells_for_a_known_m():
    at = open_app("app_pages/4_TREESELECT.py")
    n = at.slider(key="ts_n").value
    answer = memory_slots("uniform", TS_DEPTH, 2, memory_size=6)
    at.select_slider(key="ts_q_cells_m").set_value(6)
    at.multiselect(key="ts_q_cells_guess").set_value([str(s) for s in answer[:-1]] + ["b1[n]"])
    at.run()
    at.button(key="ts_q_cells_reveal").click()
    at.run()
    assert "Not quite" in messages(at) and f"Missed: {answer[-1]}" in messages(at) and "Not kept: b1[n]" in messages(at)
    spec = chart(at, "ts_q_cells_figure")
    outlined = named(spec, "kept by uniform")
    assert sorted(zip(outlined["y"], outlined["x"])) == sorted(
        (f"{'a' if s.band == 'approx' else 'b'}{s.level}", t) for s, t in kept_cells(answer, n))
    wrong = named(spec, "your guess: not kept")
    assert list(zip(wrong["y"], wrong["x"])) == [("b1", n)]
    at.multiselect(key="ts_q_cells_guess").set_value([str(s) for s in answer])
    at.run()
    assert "ts_q_cells_figure" not in str([c.proto.id for c in at.get("plotly_chart")])  # a new guess hides it
    at.button(key="ts_q_cells_reveal").click()
    at.run()
    assert f"Right: uniform keeps {', '.join(map(str, answer))}." in messages(at)


def test_reveal_of_the_first_lag_fading_forgets_comes_from_the_library():
    at = open_app("app_pages/4_TREESELECT.py", wavelet="haar")
    at.toggle(key="ts_use_wavelet").set_value(True)
    at.radio(key="ts_q_lag_guess").set_value(2)
    at.run()
    at.button(key="ts_q_lag_reveal").click()
    at.run()
    depth = TS_DEPTH
    lags, error = reconstruction_error_by_lag(*wavelet_filters("haar"), memory_slots("fading", depth, 2), depth)
    first = int(lags[np.flatnonzero(error > 0.1)[0]])
    assert first == 2  # Haar fading: x[n] and x[n-1] exact, x[n-2] only through a mean
    assert f"Fading first forgets τ = {first}" in messages(at) and at.success
    spec = chart(at, "ts_q_lag_figure")
    assert spec["layout"]["shapes"][0]["x0"] == first


def test_inspecting_a_cell_links_the_tree_the_reconstruction_and_the_kernel(treeselect):
    at = treeselect
    n = at.slider(key="ts_n").value
    labels = [o for o in at.selectbox(key="ts_cell").options if o.startswith("learned: ")]  # "learned: b3[n-8] (t = …)"
    slot_text = next(o for o in labels if "b3" in o or "b4" in o).split()[1]
    at.selectbox(key="ts_cell").set_value(f"learned:{slot_text}")
    at.run()
    assert not at.exception
    level, lag = int(slot_text[1]), (int(slot_text.split("-")[1].rstrip("]")) if "-" in slot_text else 0)
    t = n - lag
    first = t - receptive_field(level, 2) + 1
    heat = chart(at, "ts_tree_heatmap")
    star = named(heat, "inspected:")
    assert list(star["x"]) == [t] and list(star["y"]) == [f"b{level}"]
    band = next(s for s in heat["layout"]["shapes"] if s.get("fillcolor") == FOCUS_COLOR)
    assert (band["x0"], band["x1"]) == (first - 0.5, t + 0.5)
    recon = chart(at, "ts_reconstruction")
    shaded = next(s for s in recon["layout"]["shapes"] if s.get("fillcolor") == FOCUS_COLOR)
    assert (shaded["x0"], shaded["x1"]) == (first - 0.5, t + 0.5)
    kernel = chart(at, "ts_kernel")
    rows = kernel["data"][1]["y"]
    outline = next(s for s in kernel["layout"]["shapes"] if s.get("line", {}).get("width") == 3)
    row = round(outline["y0"] + 0.5)
    assert rows[row].startswith(slot_text)
    # its support in the kernel is the same span of lags: n - t + (0 .. receptive field - 1)
    assert (outline["x0"], outline["x1"]) == (lag - 0.5, lag + receptive_field(level, 2) - 0.5)
    at.selectbox(key="ts_cell").set_value(None)
    at.run()


def test_tree_page_reveal_names_the_level_with_most_energy():
    at = open_app("app_pages/3_Coefficient_tree.py", wavelet="haar")
    depth = at.slider(key="tree_depth").value
    x = at.session_state["_selection"].signal
    rows = coefficient_tree(np.asarray(x, dtype=np.float64), *wavelet_filters("haar"), depth=depth).rows()
    answer = rows[int(np.argmax(normalized_level_energy(rows)))][0]
    wrong = next(label for label, _ in rows if label != answer)
    at.radio(key="tree_q_level_guess").set_value(wrong)
    at.run()
    at.button(key="tree_q_level_reveal").click()
    at.run()
    assert f"{answer} holds the most" in messages(at) and f"you guessed {wrong}" in messages(at)
    bar = chart(at, "tree_q_level_figure")["data"][0]
    assert bar["marker"]["line"]["color"][list(bar["x"]).index(answer)] == FOCUS_COLOR
