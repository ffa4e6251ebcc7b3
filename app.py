"""Wavelet Memory Explorer — ``streamlit run app.py``.

This entry point is the frame around every page: page config, the navigation, and the sidebar
pickers (model, layer, channel, signal, comparison wavelet) that all pages share.
"""

from __future__ import annotations

import os

import streamlit as st
import torch

from ui import state, training_runner


@st.cache_resource
def _configure_torch() -> int:
    """Set PyTorch's CPU threads once per server process (not per session or per request)."""
    # One intra-op thread: sessions train concurrently, and on a busy 2-core machine two OpenMP
    # threads per op measured up to 17x slower than one (spin-waiting on a contended core).
    threads = int(os.environ.get("WME_TORCH_THREADS", 1))
    torch.set_num_threads(threads)
    return threads


st.set_page_config(page_title="Wavelet Memory Explorer", page_icon="〰️", layout="wide")
_configure_torch()

PAGES = [
    st.Page("app_pages/0_Home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/1_Wavelets.py", url_path="wavelets", title="Wavelets", icon=":material/waves:"),
    st.Page("app_pages/2_Filters.py", url_path="filters", title="Filters", icon=":material/tune:"),
    st.Page("app_pages/3_Coefficient_tree.py", url_path="tree", title="Coefficient tree", icon=":material/account_tree:"),
    st.Page("app_pages/4_TREESELECT.py", url_path="treeselect", title="TREESELECT memory", icon=":material/memory:"),
    st.Page("app_pages/5_Train.py", url_path="train", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/6_Compare.py", url_path="compare", title="Compare", icon=":material/leaderboard:"),
]
page = st.navigation(PAGES)

state.apply_query_params()
# A training run that finished in the background joins the session's models (and is selected)
# before the sidebar is drawn, whichever page the user is on.
collected = training_runner.collect_finished()
if collected is not None and collected.result is not None:
    st.session_state["train_result_model"] = collected.name
with st.sidebar:
    st.caption("Shared by every page")
entry = state.model_picker()
layer, channel = state.layer_channel_picker(entry)
signal_name, signal = state.signal_picker()
wavelet = state.wavelet_picker()
for problem in state.query_problems():
    st.warning(f"Ignored a link parameter: {problem}.", icon=":material/link_off:")

state.set_selection(state.Selection(entry, layer, channel, signal_name, signal, wavelet))
page.run()
state.share_view()
state.freeze_long_lived_objects()  # keeps Streamlit's post-run full GC from stalling the server
