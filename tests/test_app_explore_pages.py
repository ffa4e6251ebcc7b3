"""AppTest interaction tests of the explore pages: Home, Wavelets, Coefficient tree, TREESELECT.

Each test runs the real ``app.py`` (sidebar + navigation) with two small session models injected, so the
assertions do not depend on which shipped models exist; widgets are set by key and the numbers the
page shows are compared with the library.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import APP, chart_spec, open_app
from multires import ModelConfig, MultiresNet, kept_cells, max_uniform_memory, memory_slots
from ui import defaults
from ui.models import ModelEntry
from ui.state import UPLOADED

SEED = 3
FADING, LEARNED = "test fading net", "test learned net"
SEQ_LEN, MEMORY = 64, 6  # depth 6 with k = 2
DEPTH = 6


def make_net(tree_select: str) -> MultiresNet:
    torch.manual_seed(SEED)
    config = ModelConfig(d_model=4, n_layers=2, seq_len=SEQ_LEN, tree_select=tree_select,
                         memory_size=MEMORY if tree_select == "learned" else None)
    net = MultiresNet(config)
    net.update_selection(1.0)  # the learned selection at the end of training: exactly MEMORY slots
    net.eval()
    return net


@pytest.fixture(scope="module")
def session_models() -> dict[str, ModelEntry]:
    return {name: ModelEntry(name, make_net(kind), {}, "trained")
            for name, kind in ((FADING, "fading"), (LEARNED, "learned"))}


def open_page(session_models, page: str | None, model: str = FADING, **state) -> AppTest:
    return open_app(page, session_models=dict(session_models), model=model, **state)


def metric(at: AppTest, label: str) -> str:
    matches = [m.value for m in at.metric if m.label == label]
    assert len(matches) == 1, f"no single metric {label!r} in {[m.label for m in at.metric]}"
    return matches[0]


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("page", [None, "app_pages/1_Wavelets.py", "app_pages/3_Coefficient_tree.py", "app_pages/4_TREESELECT.py"],
                         ids=["home", "wavelets", "tree", "treeselect"])
def test_page_runs_and_draws_charts(session_models, page):
    at = open_page(session_models, page)
    assert len(at.get("plotly_chart")) >= 1
    assert not at.error


# --- Home ----------------------------------------------------------------------------------------


def test_home_figure2_animates_the_kept_slots(session_models):
    at = open_page(session_models, None)
    spec = chart_spec(at, "home_tree")
    assert len(spec["frames"]) == 16  # one frame per time step of the toy tree
    at.radio(key="home_strategy").set_value("uniform")
    at.run()  # the M slider is enabled only for the uniform rule
    at.slider(key="home_memory_size").set_value(8)
    at.run()
    spec = chart_spec(at, "home_tree")
    frame = next(f for f in spec["frames"] if f["name"] == "9")
    strip = next(d for d in frame["data"] if d.get("name") == "memory z_n")
    # uniform, J = 4, M = 8: a4[n], b4[n], b3[n], b3[n-8], b2[n], b2[n-4], b2[n-8], b2[n-12]
    expected = kept_cells(memory_slots("uniform", 4, 2, memory_size=8), 9)
    lit = [text.split("<br>")[1] for text in strip["text"] if "not yet" not in text]
    assert lit == ["a4[9]", "b4[9]", "b3[9]", "b3[1]", "b2[9]", "b2[5]", "b2[1]"] == [
        f"{'a' if s.band == 'approx' else 'b'}{s.level}[{t}]" for s, t in expected]  # b2[n-12] is before t = 0
    # the guide links every page of app.py's navigation but Home, in menu order
    titles = re.findall(r'st\.Page\([^)]*title="([^"]+)"', APP.read_text())
    assert len(titles) >= 9 and "Wavelet playground" in titles and "Study" in titles
    links = [link.proto.label.split(" — ")[0] for link in at.get("page_link")]  # "**1. Wavelets** — what it shows"
    assert links == [f"**{step}. {title}**" for step, title in enumerate(titles[1:], start=1)]


# --- Wavelets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haar", "db2", "sym4"])
def test_wavelets_page_checks_the_defining_properties(session_models, name):
    at = open_page(session_models, "app_pages/1_Wavelets.py")
    at.selectbox(key="wv_name").set_value(name)
    at.slider(key="wv_levels").set_value(3)
    at.run()
    assert not at.exception
    assert abs(float(metric(at, "Zero mean: ∫ψ(t) dt"))) < 1e-6
    assert float(metric(at, "Unit norm: ∫ψ(t)² dt")) == pytest.approx(1.0, abs=1e-6)
    assert float(metric(at, "Orthonormal filters: error")) < 1e-9  # exact: the filters, not a sampled grid
    assert markdown_text(at).count(":material/check: pass") >= 3


# --- Coefficient tree: an uploaded signal (bad and good files: test_hostile_signal_uploads.py) -----


def test_uploaded_signal_in_session_state_drives_the_tree(session_models):
    values = np.r_[np.zeros(32), np.ones(32)]
    at = open_page(session_models, "app_pages/3_Coefficient_tree.py",
                   uploaded_signal={"name": "my step", "values": values}, signal=UPLOADED)
    assert "**my step**, 64 samples" in markdown_text(at)
    assert at.slider(key="tree_depth").value == 6  # smallest J whose coarsest level sees 64 samples (k = 2)
    at.slider(key="tree_depth").set_value(3)
    at.run()
    assert not at.exception
    assert "4 levels × 64 samples" in at.get("download_button")[0].proto.label


# --- TREESELECT ----------------------------------------------------------------------------------


def kept_metric(at: AppTest, rule: str) -> int:
    return int(metric(at, f"Cells kept at n · {rule}"))


def caption_text(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_treeselect_kept_cells_follow_n_and_memory_size(session_models):
    at = open_page(session_models, "app_pages/4_TREESELECT.py")
    at.selectbox(key=f"ts_model_{FADING}").set_value(FADING)  # the page starts on a learned model
    at.run()
    n_last = defaults.real_series(defaults.default_signal()).size - 1
    assert at.slider(key="ts_n").value == n_last
    assert kept_metric(at, "resolution fading") == DEPTH + 1
    assert kept_metric(at, "uniform") == DEPTH + 1  # default M matches fading's budget
    at.slider(key="ts_memory_size").set_value(12)
    at.slider(key="ts_n").set_value(20)
    at.run()
    expected = kept_cells(memory_slots("uniform", DEPTH, 2, memory_size=12), 20)
    # a6, b6, b5 at lags 0, 32, b4 at 0, 16, 32, 48, b3 at 0, 8, 16, 24: lags above 20 are before t = 0
    assert kept_metric(at, "uniform") == len(expected) == 8
    assert "**b4[n−16]**\u00a0(t\u00a0=\u00a04)" in markdown_text(at)
    at.slider(key="ts_n").set_value(0)
    at.run()
    assert kept_metric(at, "uniform") == sum(1 for s in memory_slots("uniform", DEPTH, 2, 12) if s.lag == 0)
    assert kept_metric(at, "resolution fading") == DEPTH + 1


def test_treeselect_shows_the_learned_selection(session_models):
    at = open_page(session_models, "app_pages/4_TREESELECT.py", model=LEARNED)
    slots, _ = session_models[LEARNED].net.memory(0, 0)
    assert kept_metric(at, "learned") == len(kept_cells(slots, at.slider(key="ts_n").value)) == MEMORY
    assert set(at.multiselect(key="ts_strategies_learned").value) == {"fading", "uniform", "learned"}
    assert kept_metric(at, "uniform") == MEMORY  # the default M is the model's
    at.multiselect(key="ts_strategies_learned").set_value(["learned"])
    at.run()
    assert [m.label for m in at.metric if m.label.startswith("Cells kept")] == ["Cells kept at n · learned"]
    at.selectbox(key="model").set_value(FADING)
    at.run()  # a sidebar model without a learned selection: the page shows a learned one instead
    assert at.selectbox(key=f"ts_model_{FADING}").value in (LEARNED, defaults.REAL_LEARNED_MODEL)
    assert at.multiselect(key="ts_strategies_learned").value == ["learned"]  # the user's choice stays
    at.selectbox(key=f"ts_model_{FADING}").set_value(FADING)
    at.run()
    assert at.multiselect(key="ts_strategies").value == ["fading", "uniform"]
    at.selectbox(key="model").set_value(LEARNED)
    at.run()
    assert at.multiselect(key="ts_strategies_learned").value == ["fading", "uniform", "learned"]


def test_treeselect_toggle_uses_the_fixed_wavelet(session_models):
    at = open_page(session_models, "app_pages/4_TREESELECT.py", wavelet="db2")
    at.selectbox(key=f"ts_model_{FADING}").set_value(FADING)
    at.run()
    assert "learned h0/h1 of model" in caption_text(at)
    at.toggle(key="ts_use_wavelet").set_value(True)
    at.run()
    assert not at.exception
    text = caption_text(at)
    assert "the fixed wavelet **db2** (k = 4 taps)" in text
    # k = 4 changes the uniform grid: b_l keeps k, 3k-2, ... slots per level
    assert at.slider(key="ts_memory_size").max == max_uniform_memory(DEPTH, 4) == 2 + 4 + 10 + 22 + 46 + 94
