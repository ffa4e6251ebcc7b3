"""Pages draw long signals within each chart's pixel budget, say so, and offer the exact values.

Runs the app (AppTest) on the Bumps test signal: at 4096 samples the Coefficient tree's charts are
reduced (multires.figures.reduce) and each says "showing n of N points" with a CSV download of the
exact values; at 512 samples nothing is reduced and nothing is said.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from multires.figures.reduce import HALF_WIDTH_PX, line_budget
from tests.conftest import ROOT

TIMEOUT_S = 300  # a ceiling that only catches a hang (a loaded CI machine is slow)


def tree_page(length: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("app_pages/3_Coefficient_tree.py")  # Home draws no pickers
    at.run()
    at.sidebar.selectbox(key="signal").set_value("Bumps")
    at.sidebar.select_slider(key="signal_length").set_value(length)
    at.run()
    assert not at.exception, at.exception
    return at


def spec(at: AppTest, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


def values(array) -> np.ndarray:
    """A plotly JSON array: a list, or a base64 typed array (``{"dtype", "bdata", "shape"}``)."""
    if isinstance(array, dict):
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]).newbyteorder("<"))
        shape = array.get("shape")
        return data.reshape([int(d) for d in str(shape).split(",")]) if shape else data
    return np.asarray(array)


@pytest.fixture(scope="module")
def long_tree() -> AppTest:
    return tree_page(4096)


def test_long_signal_charts_stay_within_their_pixel_budget(long_tree):
    for side in ("model", "wavelet"):
        heat = spec(long_tree, f"tree_heatmap_{side}")["data"][0]
        assert values(heat["z"]).shape[1] <= HALF_WIDTH_PX
        assert "largest |c|" in heat["hovertemplate"]
        for trace in spec(long_tree, f"tree_traces_{side}")["data"]:
            assert 0 < len(values(trace["y"])) <= line_budget(HALF_WIDTH_PX)
    assert spec(long_tree, "tree_signal")["layout"]["title"]["text"] == "Signal: Bumps (4096 samples)"


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
    heat = spec(at, "tree_heatmap_wavelet")["data"][0]
    assert values(heat["z"]).shape[1] == 512
