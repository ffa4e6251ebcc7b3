"""Session state: the only place pages and ``ui`` components read and write ``st.session_state``, through
small helpers (:func:`get`, :func:`put`, :func:`once_per`, ...), and the session's uploaded signal.

What lives elsewhere: the models (shipped, trained, uploaded) in :mod:`ui.models`, the sidebar's pickers
and the pages' :func:`ui.pickers.selection` in :mod:`ui.pickers`, the link's parameters in :mod:`ui.links`,
presentation mode in :mod:`ui.presentation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

UPLOADED = "Uploaded signal"


def uploaded_signal() -> dict[str, Any] | None:
    """This session's uploaded signal, ``{"name": ..., "values": ...}``, or None before one is stored."""
    return st.session_state.get("uploaded_signal")


def use_uploaded_signal(name: str, values: np.ndarray) -> None:
    """Store an uploaded signal as this session's and select it in the sidebar's Signal picker.

    Call it from a widget callback (``on_change`` / ``on_click``): callbacks run before the next run
    draws the sidebar, the one moment the picker's ``"signal"`` state may still be set.
    """
    st.session_state["uploaded_signal"] = {"name": str(name), "values": np.asarray(values, dtype=np.float64)}
    st.session_state["signal"] = UPLOADED


# --- a page's own keys: pages read and write session state only through these -----------------


def get(key: str, default: Any = None) -> Any:
    """The session's value for ``key`` (a page's widget or its own note), or ``default``."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    """Set ``key`` (a widget's value only from a callback, or before the widget is drawn)."""
    st.session_state[key] = value


def drop(key: str) -> Any:
    """Forget ``key``; returns what it held (``None`` if nothing)."""
    return st.session_state.pop(key, None)


def has(key: str) -> bool:
    return key in st.session_state


def keep_valid(key: str, options: list, default: Any) -> Any:
    """Before a choice widget is drawn: reset its value to ``default`` unless it is one of ``options``."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return st.session_state[key]


def once_per(key: str, identity: Any) -> bool:
    """True the first time ``identity`` is seen under ``key`` (then remembered), e.g. to process an upload once."""
    if st.session_state.get(key) == identity:
        return False
    st.session_state[key] = identity
    return True
