"""Presentation mode: for a projector, the sidebar folds away, text grows and each page's key chart fits on
a 1280 x 720 screen (the figures themselves are enlarged by :func:`ui.charts.show`).

The switch is a sidebar toggle whose state is mirrored into the URL as ``present=1`` (:mod:`ui.links`).
"""

from __future__ import annotations

import streamlit as st

__all__ = ["PRESENT_KEY", "presentation_layout", "presentation_toggle", "presenting"]

#: Session-state key of the presentation-mode toggle (mirrored into the URL as ``present=1``).
PRESENT_KEY = "present"


def presenting() -> bool:
    """True when the user turned presentation mode on."""
    return bool(st.session_state.get(PRESENT_KEY, False))


#: Page text, captions and headings enlarged for a projector, and less empty space above the
#: title so each page's key chart stays above the fold at 1280 x 720 (figures: ui.charts.show).
_PRESENTATION_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.9rem; padding-bottom: 1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; line-height: 1.45; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.2rem; padding: 0 0 0.4rem 0; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 1.6rem; }
[data-testid="stMainBlockContainer"] label p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] button[role="tab"] p { font-size: 1.2rem; }
[data-testid="stMetricValue"] { font-size: 2rem; }
/* the back row reads what is in the boxes too: dropdowns, their lists, number and text inputs, slider values */
[data-testid="stMainBlockContainer"] [data-baseweb="select"] div,
[data-testid="stMainBlockContainer"] input, [data-testid="stMainBlockContainer"] textarea,
[data-testid="stMainBlockContainer"] [data-testid="stSliderThumbValue"],
[data-testid="stMainBlockContainer"] [data-testid="stSliderTickBarMin"],
[data-testid="stMainBlockContainer"] [data-testid="stSliderTickBarMax"] { font-size: 1.1rem; }
[data-baseweb="popover"] li, [data-baseweb="popover"] [role="option"] { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] { color: rgba(49, 51, 63, 0.85); }
[data-testid="stMainBlockContainer"] [data-testid="stExpander"] summary p { font-size: 1.15rem; }
</style>
"""


def presentation_layout() -> None:
    """Start of every run: collapse the sidebar and enlarge the page text when presenting.

    Only layout changes: every widget is still drawn with the same key, so switching presentation
    mode on or off keeps the session's models and every choice made on the pages.
    """
    st.set_page_config(initial_sidebar_state="collapsed" if presenting() else "auto")
    if presenting():
        st.html(_PRESENTATION_CSS)


def presentation_toggle() -> bool:
    """Sidebar: the presentation-mode switch (mirrored into the URL as ``present=1``)."""
    return st.sidebar.toggle(
        "Presentation mode", key=PRESENT_KEY,
        help="For a projector: the sidebar folds away, fonts grow, each page's key chart fits on a 1280×720 "
             "screen. Open the sidebar (top-left arrow) to change the model or signal, or to switch it off.",
    )
