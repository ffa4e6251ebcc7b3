"""A view as a link: the URL's query string sets the pickers when a session starts, and mirrors the view.

:func:`apply_query_params` reads the link once per session, keeping what is valid and reporting the rest
(:func:`query_problems`, shown by ``app.py`` above the page); :func:`share_view` writes the current
view back into the URL on every run, so the address bar is always a link to what is on screen.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from multires import discrete_wavelet_names
from multires.options import MAX_SIGNAL_LENGTH, SIGNAL_NAMES
from multires.plaintext import quote
from ui import defaults
from ui.models import all_models
from ui.presentation import PRESENT_KEY, presenting
from ui.safe_text import plain

__all__ = ["LINK_SETS_PICKERS", "PICKER_LINK_PARAMS", "apply_query_params", "link_time_step", "pickers_on_home",
           "query_problems", "report_link_problem", "share_time_step", "share_view", "take_link_index"]

_QUERY_KEYS = ("model", "layer", "channel", "signal", "n", "wavelet", "present")
#: Link parameters that set a picker, and the session flag saying the session's link had one.
PICKER_LINK_PARAMS = ("model", "signal", "wavelet", "layer", "channel", "n")
LINK_SETS_PICKERS = "_link_sets_pickers"
#: The whole numbers a link may carry, and their generic range (a page checks them against what it shows).
_INDEX_LIMITS = (("layer", 15), ("channel", 511), ("n", MAX_SIGNAL_LENGTH))
_PROBLEMS_KEY = "_query_problems"


def _int_param(value: str, low: int, high: int) -> int | None:
    """``value`` as a whole number in ``low..high`` written with ASCII digits (``int`` also reads
    Unicode digits such as ``١``, which no link of this app writes), else None."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        return None
    number = int(text)
    return number if low <= number <= high else None


def _named_choices(params: Any) -> list[str]:
    """Apply the link's model, signal, wavelet and presentation switch; returns the problems."""
    problems = []
    if "model" in params:  # the models' headers are read only when asked (Home's first chart needs none)
        if params["model"] in all_models():
            st.session_state["model"] = params["model"]
        else:
            problems.append(f"model {quote(params['model'])} is not available")
    if "signal" in params:
        if params["signal"] in SIGNAL_NAMES or params["signal"] in defaults.real_signal_names():
            st.session_state["signal"] = params["signal"]
        else:
            problems.append(f"signal {quote(params['signal'])} is not one of the built-in signals")
    if "wavelet" in params:
        if params["wavelet"] in discrete_wavelet_names():
            st.session_state["wavelet"] = params["wavelet"]
        else:
            problems.append(f"wavelet {quote(params['wavelet'])} is not a discrete PyWavelets wavelet")
    if "present" in params:
        if params["present"] in ("0", "1"):
            st.session_state[PRESENT_KEY] = params["present"] == "1"
        else:
            problems.append(f"present={quote(params['present'])} must be 1 (presentation mode) or 0")
    return problems


def _indices(params: Any) -> list[str]:
    """Keep the link's layer, channel and time step for the controls they set; returns the problems."""
    problems = []
    for key, high in _INDEX_LIMITS:
        if key in params:
            value = _int_param(params[key], 0, high)
            if value is None:
                problems.append(f"{key}={quote(params[key])} must be a whole number in 0..{high}")
            else:
                st.session_state[f"query_{key}"] = value
    return problems


def _tidy_url(params: Any, problems: list[str]) -> None:
    """The URL keeps only what was applied, once each (repeated keys: the last won)."""
    for key in _QUERY_KEYS:
        if key not in params:
            continue
        if any(problem.startswith((f"{key} ", f"{key}=")) for problem in problems):
            del st.query_params[key]
        elif len(params.get_all(key)) > 1:
            st.query_params[key] = params[key]


def apply_query_params() -> None:
    """Once per session: take the view from the URL, ignoring (and reporting) bad values."""
    if st.session_state.get("_query_applied"):
        return
    st.session_state["_query_applied"] = True
    params = st.query_params
    # A session opened by a link that sets a picker shows the pickers on every page, Home too.
    st.session_state[LINK_SETS_PICKERS] = any(key in params for key in PICKER_LINK_PARAMS)
    problems = _named_choices(params) + _indices(params)
    _tidy_url(params, problems)
    if problems:
        st.session_state[_PROBLEMS_KEY] = problems


def query_problems() -> list[str]:
    """The link's bad parameters, once, as plain text (show them through ``ui.safe_text.plain``)."""
    return st.session_state.pop(_PROBLEMS_KEY, [])


def report_link_problem(problem: str) -> None:
    """Add a problem found later (a link's value that the model shown does not have) to :func:`query_problems`."""
    st.session_state.setdefault(_PROBLEMS_KEY, []).append(problem)


def take_link_index(key: str) -> int | None:
    """A link's ``layer`` or ``channel``, once (it passed the generic range check; None when the link had none)."""
    return st.session_state.pop(f"query_{key}", None)


def link_time_step(n_samples: int) -> int | None:
    """A link's ``n`` (time step), once, for the page whose control it sets (TREESELECT).

    ``n`` passed the generic 0..MAX_SIGNAL_LENGTH check when the session started; it must also be a
    time step of the signal shown, else it is reported like any other bad link value.
    """
    value = take_link_index("n")
    if value is None or value < n_samples:
        return value
    st.warning(plain(f"Ignored a link parameter: n={value} is not a time step of this signal (0..{n_samples - 1})."),
               icon=":material/link_off:")
    return None


def share_time_step(n: int) -> None:
    """Mirror the page's time step into the URL as ``n`` (read back by :func:`link_time_step`)."""
    st.session_state["_n"] = int(n)


def share_view(**extra: Any) -> None:
    """Mirror the current view into the URL so it can be shared."""
    values = {k: st.session_state.get(k) for k in ("model", "signal", "wavelet")}
    values.update({k: st.session_state.get(f"_{k}") for k in ("layer", "channel", "n")})
    values.update(extra)
    for key, value in values.items():
        if value is not None and str(st.query_params.get(key)) != str(value):
            st.query_params[key] = str(value)
    if presenting():
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def pickers_on_home() -> bool:
    """Whether Home draws the sidebar pickers: only for a session opened by a link that sets one
    (so the link's choices are shown and checked at once). Home reads no picker, and without them
    the browser draws its chart sooner."""
    return bool(st.session_state.get(LINK_SETS_PICKERS, False))
