"""Session state of the wavelet playground page: the taps widgets, presets and their callbacks.

The taps live in widget keys ``pg_h0_<i>`` / ``pg_h1_<i>`` (``pg_k`` taps each) so the page's
number inputs show them; callbacks write there before the next run draws the widgets. A copy is
kept under :data:`SAVED`, because Streamlit drops a widget's state when its page is left, and a
student coming back should find the filters they built. Messages for the page go to ``pg_problem``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires.analysis.cascade import normalize_filters
from multires.analysis.filters import quadrature_mirror
from multires.analysis.playground import MAX_TAPS, MIN_TAPS, TapsError, parse_taps, preset_pair
from multires.options import TAP_PRESETS
from multires.wavelets import wavelet_filters
from ui import models, pickers

__all__ = [
    "CUSTOM", "DERIVE", "EDIT", "LEARNED", "PRESET_OPTIONS", "SAVED", "current_taps", "h1_mode", "load_preset",
    "mark_custom", "mode_changed", "paste", "pop_problem", "preset", "resize", "restore", "save", "set_taps",
    "tap_count", "tap_key",
]

LEARNED = "the selected model's learned filters"
#: What "Start from" says once the taps were typed, pasted or resized: they are no longer the preset.
CUSTOM = "your own taps"
PRESET_OPTIONS = [*TAP_PRESETS, LEARNED, CUSTOM]
DERIVE, EDIT = "derive", "edit"  # h1 from the quadrature-mirror rule / typed in
SAVED = "pg_saved"
_DEFAULT = "db2"


def tap_key(band: str, i: int) -> str:
    """Widget key of tap ``i`` of ``band`` ("h0" or "h1")."""
    return f"pg_{band}_{i}"


def set_taps(h0: np.ndarray, h1: np.ndarray, mode: str | None = None) -> None:
    """Put a pair into the tap widgets (and set the h1 mode); call from a callback or before drawing."""
    st.session_state["pg_k"] = int(h0.size)
    for i in range(h0.size):
        st.session_state[tap_key("h0", i)] = float(h0[i])
        st.session_state[tap_key("h1", i)] = float(h1[i])
    if mode is not None:
        st.session_state["pg_mode"] = mode


def current_taps(band: str) -> np.ndarray:
    """The ``pg_k`` taps of ``band`` as the widgets hold them."""
    return np.array([st.session_state.get(tap_key(band, i), 0.0) for i in range(st.session_state["pg_k"])])


def h1_mode() -> str:
    return st.session_state["pg_mode"]


def preset() -> str:
    """What "Start from" shows: a preset, the learned filters, or :data:`CUSTOM` once the taps were edited."""
    return st.session_state["pg_preset"]


def tap_count() -> int:
    return int(st.session_state["pg_k"])


def mark_custom() -> None:
    """Callback of every tap input (and of paste and resize): the taps are now the student's own."""
    st.session_state["pg_preset"] = CUSTOM


def restore() -> None:
    """Start of the page: bring back the saved taps, or start from db2 with h1 derived."""
    for key, value in st.session_state.get(SAVED, {}).items():
        st.session_state.setdefault(key, value)
    if "pg_k" not in st.session_state:
        st.session_state["pg_preset"] = _DEFAULT
        set_taps(*wavelet_filters(_DEFAULT), DERIVE)
    st.session_state.setdefault("pg_mode", DERIVE)


def save() -> None:
    """After the widgets are drawn: keep a copy that outlives a visit to another page."""
    k = int(st.session_state["pg_k"])
    keys = ["pg_k", "pg_mode", "pg_preset", *(tap_key(b, i) for b in ("h0", "h1") for i in range(k))]
    st.session_state[SAVED] = {key: st.session_state[key] for key in keys if key in st.session_state}


def pop_problem() -> str | None:
    """The message a callback left for this run (a refused paste, an unusable learned pair)."""
    return st.session_state.pop("pg_problem", None)


def _learned_pair() -> tuple[np.ndarray, np.ndarray]:
    sel = pickers.selection()
    raw_h0, raw_h1 = models.model_filters(sel.entry, sel.layer, sel.channel)
    if not MIN_TAPS <= raw_h0.size <= MAX_TAPS:
        raise TapsError(f"{sel.entry.name} has {raw_h0.size} taps per filter; the playground takes "
                        f"{MIN_TAPS} to {MAX_TAPS}")
    try:
        h0, h1, _ = normalize_filters(raw_h0, raw_h1)
    except ValueError as err:  # an all-zero learned filter
        raise TapsError(f"the learned pair cannot be used: {err}") from err
    return h0, h1


def load_preset() -> None:
    """Callback of the preset picker and of its "again" button."""
    preset = st.session_state["pg_preset"]
    st.session_state.pop("pg_problem", None)
    if preset == LEARNED:
        try:
            set_taps(*_learned_pair(), EDIT)  # a learned h1 is its own, not the mirror of h0
        except TapsError as err:
            st.session_state["pg_problem"] = f"{err}."
    elif preset == CUSTOM:  # nothing to load: the taps on screen are already the student's own
        return
    elif preset == "random pair":
        st.session_state["pg_seed"] = st.session_state.get("pg_seed", 0) + 1
        set_taps(*preset_pair("random pair", int(st.session_state["pg_k"]), st.session_state["pg_seed"]), EDIT)
    else:
        set_taps(*preset_pair(preset))


def resize() -> None:
    """Callback of the k slider: keep the first taps, pad with zeros."""
    mark_custom()
    for band in ("h0", "h1"):
        for i in range(int(st.session_state["pg_k"])):
            st.session_state.setdefault(tap_key(band, i), 0.0)


def mode_changed() -> None:
    """Callback of the h1 mode: editing starts from the mirror of the current h0."""
    if st.session_state["pg_mode"] == EDIT:
        h0 = current_taps("h0")
        set_taps(h0, quadrature_mirror(h0))


def paste() -> None:
    """Callback of the paste box: valid taps replace h0 (h1 derived); bad ones leave a message."""
    text = st.session_state.get("pg_paste", "").strip()
    if not text:
        return
    try:
        h0 = parse_taps(text, "h0")
    except TapsError as err:
        st.session_state["pg_problem"] = f"Pasted taps ignored: {err}."
        return
    st.session_state.pop("pg_problem", None)
    set_taps(h0, quadrature_mirror(h0), DERIVE)
    mark_custom()
