"""Presentation mode: the toggle, its URL parameter, enlarged figures, and nothing lost on the way.

The layout in a real browser (sidebar collapsed, key chart above the fold at 1280 x 720) is checked
in ``tests/test_browser.py``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from plotly.subplots import make_subplots

from conftest import chart_layouts, open_app
from multires import ModelConfig, MultiresNet
from multires.figures.style import PRESENTATION_TICK_SIZE, presentation_style, style_figure
from ui.models import ModelEntry
from ui.safe_text import unescape

MIN_TICK_PX = 14  # readable from the back of a room at 1280 x 720
MODEL = "presentation test net"


# --- figures -------------------------------------------------------------------------------------


def test_presentation_style_enlarges_every_axis_colorbar_and_annotation():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("left", "right"))
    fig.add_trace(go.Scatter(y=[1, 2]), row=1, col=1)
    fig.add_trace(go.Heatmap(z=np.eye(2)), row=1, col=2)
    fig.update_xaxes(tickfont=dict(size=10))
    fig.add_annotation(text="note", x=0, y=0, font=dict(size=9))
    presentation_style(style_figure(fig, "title", "x", "y"))
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        assert fig.layout[axis].tickfont.size >= MIN_TICK_PX, axis
    assert fig.data[1].colorbar.tickfont.size >= MIN_TICK_PX
    assert fig.data[1].colorbar.title.font.size >= MIN_TICK_PX
    assert min(a.font.size for a in fig.layout.annotations) >= MIN_TICK_PX
    assert fig.layout.title.font.size > 17  # larger than the house title


def test_presentation_style_keeps_larger_annotations():
    fig = go.Figure()
    fig.add_annotation(text="big", x=0, y=0, font=dict(size=30))
    presentation_style(fig)
    assert fig.layout.annotations[0].font.size == 30


# --- the toggle and the URL ------------------------------------------------------------------------


def test_toggle_sets_the_session_flag_and_the_url():
    at = open_app()
    assert at.toggle(key="present").value is False and "present" not in at.query_params
    at.toggle(key="present").set_value(True).run()
    assert at.session_state["present"] is True
    assert at.query_params["present"] == "1"
    at.toggle(key="present").set_value(False).run()
    assert at.session_state["present"] is False and "present" not in at.query_params


def test_a_link_with_present_1_opens_in_presentation_mode():
    at = open_app(query={"present": "1"})
    assert at.session_state["present"] is True and at.toggle(key="present").value is True


def test_a_bad_present_value_is_reported_and_ignored():
    at = open_app(query={"present": "yes"})
    assert at.session_state["present"] is False
    assert any("present='yes' must be 1" in unescape(w.value) for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize("page", ["app_pages/1_Wavelets.py", "app_pages/2_Filters.py", "app_pages/2b_Playground.py"])
def test_presentation_mode_enlarges_the_charts_of_a_page(page):
    at = open_app(page)
    normal = chart_layouts(at)
    at.toggle(key="present").set_value(True).run()
    presented = chart_layouts(at)
    assert len(presented) == len(normal) >= 1
    for layout in presented:
        assert layout["xaxis"]["tickfont"]["size"] >= MIN_TICK_PX
        assert layout["yaxis"]["tickfont"]["size"] == PRESENTATION_TICK_SIZE
    for layout in normal:
        assert layout["xaxis"].get("tickfont", {}).get("size", 12) < PRESENTATION_TICK_SIZE


def test_presentation_mode_injects_the_page_css_only_when_on():
    at = open_app("app_pages/1_Wavelets.py")
    assert not any("stMainBlockContainer" in h.proto.body for h in at.get("html"))
    at.toggle(key="present").set_value(True).run()
    assert any("stMainBlockContainer" in h.proto.body for h in at.get("html"))


def test_switching_presentation_mode_keeps_models_and_choices():
    torch.manual_seed(0)
    entry = ModelEntry(MODEL, MultiresNet(ModelConfig(d_model=2, n_layers=2, seq_len=32)), {}, "trained")
    at = open_app("app_pages/2b_Playground.py", session_models={MODEL: entry}, model=MODEL)
    at.slider(key="pg_k").set_value(3).run()
    at.number_input(key="pg_h0_2").set_value(0.25).run()
    at.sidebar.selectbox(key="signal").set_value("Doppler").run()
    at.sidebar.selectbox(key="wavelet").set_value("db2").run()
    at.sidebar.number_input(key=f"layer_{MODEL}").set_value(1).run()
    for on in (True, False):
        at.toggle(key="present").set_value(on).run()
        assert not at.exception
        assert at.slider(key="pg_k").value == 3 and at.number_input(key="pg_h0_2").value == 0.25
        assert at.sidebar.selectbox(key="signal").value == "Doppler"
        assert at.sidebar.selectbox(key="wavelet").value == "db2"
        assert at.sidebar.selectbox(key="model").value == MODEL
        assert at.sidebar.number_input(key=f"layer_{MODEL}").value == 1
        assert at.session_state["session_models"][MODEL] is entry
    at.switch_page("app_pages/1_Wavelets.py").run()
    at.selectbox(key="wv_name").set_value("sym4").run()
    at.toggle(key="present").set_value(True).run()
    assert at.selectbox(key="wv_name").value == "sym4"


def test_a_visit_to_home_keeps_the_sidebar_choices():
    """Home draws no pickers; what the user chose in them is still there on the next page that does."""
    torch.manual_seed(0)
    entry = ModelEntry(MODEL, MultiresNet(ModelConfig(d_model=2, n_layers=2, seq_len=32)), {}, "trained")
    at = open_app("app_pages/3_Coefficient_tree.py", session_models={MODEL: entry}, model=MODEL)
    at.sidebar.selectbox(key="signal").set_value("Doppler").run()
    at.sidebar.select_slider(key="signal_length").set_value(1024).run()
    at.sidebar.selectbox(key="wavelet").set_value("db2").run()
    at.sidebar.number_input(key=f"layer_{MODEL}").set_value(1).run()
    at.switch_page("app_pages/0_Home.py").run()
    assert not at.exception and not at.sidebar.selectbox, "Home draws no pickers"
    at.radio(key="home_strategy").set_value("uniform").run()  # a rerun on Home, too
    at.switch_page("app_pages/3_Coefficient_tree.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="model").value == MODEL
    assert at.sidebar.selectbox(key="signal").value == "Doppler"
    assert at.sidebar.select_slider(key="signal_length").value == 1024
    assert at.sidebar.selectbox(key="wavelet").value == "db2"
    assert at.sidebar.number_input(key=f"layer_{MODEL}").value == 1
