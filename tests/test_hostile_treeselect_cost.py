"""A legal but costly checkpoint on the TREESELECT page (issue 23, item 9).

A learned layer of width 8, depth 16 and M = 1,800 (a 209 KB file, within every loading bound) kept
about 1,100 slots inside the analysed window: reconstructing the past from them took 85 s on a loaded
machine (28-34 s and +1.1 GB in the app). The page's analyses are bounded by one work model
(slots² x window, ``multires.options.MAX_ANALYSIS_WORK``, shared by the rules shown side by side):
it analyses the slots nearest the present and says how many it kept. The same bound caps the rows of
the kernel view (1,952 rows made a 28 MB, 31,000-pixel chart) and of the learned selection matrix
(47,000 pixels tall), each with a one-line note of what was left out.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import chart_spec, open_app
from multires import ModelConfig, memory_slots
from multires.analysis.span import max_analysed_slots, memory_span, nearest_slots, shared_analysed_slots
from multires.model import build_model
from multires.options import MAX_ANALYSED_WINDOW, MAX_ANALYSIS_WORK
from ui.models import ModelEntry
from ui.safe_text import unescape
from ui.treeselect_data import kernel_view

BIG = ModelConfig(d_model=8, n_layers=2, depth=16, tree_select="learned", memory_size=1800, seq_len=4096)
#: a real-length signal makes the page analyse its longest window (4,096 samples)
LONG = {"uploaded_signal": {"name": "long noise", "values": np.random.default_rng(0).standard_normal(8192)},
        "signal": "Uploaded signal"}


@pytest.fixture(scope="module")
def big_entry():
    return ModelEntry("big learned", build_model(BIG, seed=0).eval(), {}, "uploaded")


@pytest.fixture(scope="module")
def page(big_entry):
    return open_app("app_pages/4_TREESELECT.py", session_models={"big learned": big_entry}, model="big learned",
                    **LONG)


def captions(at) -> str:
    return " ".join(unescape(c.value) for c in at.caption)


def test_the_rules_shown_share_one_work_bound():
    window = MAX_ANALYSED_WINDOW
    few = {"fading": 12, "learned": 9, "uniform": 127}  # a shipped model with uniform's M dragged up: nothing cut
    assert shared_analysed_slots(few, window) == few
    shares = shared_analysed_slots({"fading": 12, "learned": 1103, "uniform": 127}, window)
    assert shares["fading"] == 12 and shares["learned"] == shares["uniform"] < 127
    assert sum(v * v for v in shares.values()) * window <= MAX_ANALYSIS_WORK
    assert max_analysed_slots(window) ** 2 * window <= MAX_ANALYSIS_WORK


def test_nearest_slots_keeps_the_shortest_spans_in_order():
    slots = memory_slots("uniform", 6, 2, memory_size=40)
    kept = nearest_slots(slots, 6, 2, most=10)
    assert len(kept) == 10 and kept == [s for s in slots if s in set(kept)]
    longest_kept = max(memory_span([s], 6, 2) for s in kept)
    assert all(memory_span([s], 6, 2) >= longest_kept for s in slots if s not in set(kept))


def test_the_page_analyses_a_bounded_number_of_slots_and_says_so(page):
    text = captions(page)
    assert "learned memory keeps" in text and "the page analyses the" in text, text[:2000]
    # learned (1,103 slots in the window) and uniform (M = 1,800 by the model's default) are both cut, and share
    # the bound: together they stay within one analysis' work
    analysed = [int(n) for n in re.findall(r"memory keeps \d+ slots here; the page analyses the (\d+) nearest", text)]
    assert len(analysed) == 2, text[:2000]
    assert sum(n * n for n in analysed) * MAX_ANALYSED_WINDOW <= MAX_ANALYSIS_WORK
    recon = chart_spec(page, "ts_reconstruction")
    assert len(recon["data"]) >= 2  # the page still draws the reconstructions


def test_the_kernel_view_draws_a_bounded_number_of_rows_and_says_so(page, big_entry):
    view = kernel_view(big_entry, 0, 0)
    assert view.total_slots > len(view.slots) == len(view.labels) == view.contributions.shape[0]
    assert len(view.slots) <= max_analysed_slots(view.kernel.size)
    assert view.residual < 1e-6  # every slot's row still adds up to K, shown or not
    heat = [t for t in chart_spec(page, "ts_kernel")["data"] if t.get("type") == "heatmap"]
    assert len(heat[0]["y"]) == len(view.slots)
    assert f"Showing the {len(view.slots)} of {view.total_slots} slots nearest the present" in captions(page)


def test_the_selection_matrix_draws_a_bounded_number_of_rows_and_says_so(page):
    most = max_analysed_slots(MAX_ANALYSED_WINDOW)
    heat = [t for t in chart_spec(page, "ts_selection_matrix")["data"] if t.get("type") == "heatmap"]
    assert len(heat[0]["y"]) == most
    assert f"Showing the {most} of " in captions(page)
