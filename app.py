"""Wavelet Memory Explorer — ``streamlit run app.py``.

This entry point is the frame around every page: page config, the navigation, and the sidebar
pickers (model, layer, channel, signal, comparison wavelet) that all pages share.
"""

from __future__ import annotations

import streamlit as st

from ui import run_timing, runtime

run_started = run_timing.start()  # off unless WME_RUN_TIMES is set (the capacity benchmark)
runtime.limit_torch_threads()  # before anything imports torch
runtime.await_module("pandas")  # another session may be importing pandas right now: Plotly must not see it half-done

from ui import links, models, pickers, presentation, training_runner  # noqa: E402 - torch-free: torch loads after the first page
from ui.safe_text import plain  # noqa: E402

# The favicon is a file served by this server (/media/...): a Material icon as page icon made the browser fetch
# it from fonts.gstatic.com on every page load, and an emoji loads Streamlit's emoji table (0.2-0.6 s of cold start).
st.set_page_config(page_title="Wavelet Memory Explorer", page_icon=str(models.ROOT / "assets" / "icon.png"),
                   layout="wide")

HOME = st.Page("app_pages/0_Home.py", title="Home", icon=":material/home:", default=True)
PAGES = [
    HOME,
    st.Page("app_pages/8_Lesson.py", url_path="lesson", title="Lesson path", icon=":material/school:"),
    st.Page("app_pages/1_Wavelets.py", url_path="wavelets", title="Wavelets", icon=":material/waves:"),
    st.Page("app_pages/2_Filters.py", url_path="filters", title="Filters", icon=":material/tune:"),
    st.Page("app_pages/2b_Playground.py", url_path="playground", title="Wavelet playground", icon=":material/science:"),
    st.Page("app_pages/3_Coefficient_tree.py", url_path="tree", title="Coefficient tree", icon=":material/account_tree:"),
    st.Page("app_pages/4_TREESELECT.py", url_path="treeselect", title="TREESELECT memory", icon=":material/memory:"),
    st.Page("app_pages/5_Train.py", url_path="train", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/6_Compare.py", url_path="compare", title="Compare", icon=":material/leaderboard:"),
    st.Page("app_pages/7_Study.py", url_path="study", title="Study", icon=":material/query_stats:"),
]
page = st.navigation(PAGES)

links.apply_query_params()
presentation.presentation_layout()  # before anything is drawn: the sidebar's initial state and page fonts
# A training run that finished in the background joins the session's models (and is selected)
# before the sidebar is drawn, whichever page the user is on.
training_runner.collect_finished()
notices = st.container()  # the link's problems, above the page even when the pickers come after it


def sidebar_controls(show_pickers: bool) -> None:
    """The presentation switch, then the pickers every page shares (pages read them through
    ``pickers.selection()``); a page that reads none (Home) keeps their values without drawing them."""
    presentation.presentation_toggle()
    if show_pickers:
        with st.sidebar:
            st.caption("Shared by every page")
        entry = pickers.model_picker()
        layer, channel = pickers.layer_channel_picker(entry)
        signal_name, signal = pickers.signal_picker()
        wavelet = pickers.wavelet_picker()
        pickers.set_selection(pickers.Selection(entry, layer, channel, signal_name, signal, wavelet))
    else:
        pickers.keep_picker_choices()
        st.sidebar.caption("The model, signal and wavelet pickers are on the pages that use them.")
    for problem in links.query_problems():
        notices.warning(f"Ignored a link parameter: {plain(problem)}.", icon=":material/link_off:")


# Home reads no picker: its chart is sent first (the browser starts fetching Plotly then) and, unless
# the session's link set a picker, Home draws none (the pickers' widgets measured about a second of
# the browser's work before the chart on a 2-core machine). Every other page draws the pickers first.
if page is HOME:
    page.run()
    sidebar_controls(show_pickers=links.pickers_on_home())
else:
    sidebar_controls(show_pickers=True)
    page.run()
links.share_view()
runtime.start_preloading()  # once per server, after the first page: pandas now, torch and the model code later
runtime.freeze_long_lived_objects()  # keeps Streamlit's post-run full GC from stalling the server
run_timing.finish(run_started, page.url_path)
