"""Pages draw long signals within each chart's pixel budget, say so, and offer the exact values.

Runs the app (AppTest) on the Bumps test signal: at 4096 samples the Coefficient tree's charts are
reduced (multires.figures.reduce) and each says "showing n of N points" with a CSV download of the
exact values; at 512 samples nothing is reduced and nothing is said.
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import chart_spec, decode_arrays, open_app
from multires.figures.reduce import HALF_WIDTH_PX, line_budget


def tree_page(length: int) -> AppTest:
    at = open_app("app_pages/3_Coefficient_tree.py", check=False)  # Home draws no pickers
    at.sidebar.selectbox(key="signal").set_value("Bumps").run()  # a built-in signal offers a length
    at.sidebar.select_slider(key="signal_length").set_value(length)
    at.run()
    assert not at.exception, at.exception
    return at


def values(array) -> np.ndarray:
    """A plotly JSON array (a list, or a base64 typed array) as a numpy array."""
    return np.asarray(decode_arrays(array))


@pytest.fixture(scope="module")
def long_tree() -> AppTest:
    return tree_page(4096)


def test_long_signal_charts_stay_within_their_pixel_budget(long_tree):
    for side in ("model", "wavelet"):
        heat = chart_spec(long_tree, f"tree_heatmap_{side}")["data"][0]
        assert values(heat["z"]).shape[1] <= HALF_WIDTH_PX
        assert "largest |c|" in heat["hovertemplate"]
        for trace in chart_spec(long_tree, f"tree_traces_{side}")["data"]:
            assert 0 < len(values(trace["y"])) <= line_budget(HALF_WIDTH_PX)
    assert chart_spec(long_tree, "tree_signal")["layout"]["title"]["text"] == "Signal: Bumps (4096 samples)"


def test_reduced_charts_say_so_and_offer_the_exact_values(long_tree):
    notes = [c.value for c in long_tree.caption if c.value.startswith("Reduced for display: showing")]
    assert len(notes) == 5  # two heatmaps, the signal, two level-trace charts
    assert any("of 4,096 points" in note for note in notes)  # the signal
    assert all("hover shows exact values of the points drawn; download for all" in note for note in notes)
    labels = {b.proto.id.rsplit("-", 1)[-1]: b.proto.label for b in long_tree.get("download_button")}
    for key in ("tree_heatmap_model_exact", "tree_heatmap_wavelet_exact", "tree_signal_exact",
                "tree_traces_model_exact", "tree_traces_wavelet_exact"):
        assert labels[key] == "Exact values"


def test_short_signal_charts_are_not_reduced():
    at = tree_page(512)
    assert not [c for c in at.caption if c.value.startswith("Reduced for display")]
    assert not [b for b in at.get("download_button") if b.proto.id.endswith("_exact")]
    heat = chart_spec(at, "tree_heatmap_wavelet")["data"][0]
    assert values(heat["z"]).shape[1] == 512
