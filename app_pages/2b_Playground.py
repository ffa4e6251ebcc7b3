"""Wavelet playground: type the taps of h0 (and h1), see at once whether they make a wavelet."""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires.figures.filters import frequency_response_figure
from multires.figures.tree import tree_heatmap
from multires.figures.wavelets import mother_wavelet_figure
from multires.filters import cascade, filter_diagnostics, frequency_response, normalize_filters, quadrature_mirror
from multires.playground import (
    MAX_TAPS,
    MIN_TAPS,
    PRESETS,
    TapsError,
    cascade_diverges,
    parse_taps,
    playground_pair,
    preset_pair,
)
from multires.wavelets import wavelet_filters
from ui import state
from ui.charts import show

LEARNED = "the selected model's learned filters"
PRESET_OPTIONS = [*PRESETS, LEARNED]
DERIVE, EDIT = "derive", "edit"
CASCADE_LEVEL = 8
N_FREQS = 257
PASS, CLOSE = 1e-6, 0.05  # |value - ideal| counted as a pass / as close
TAPS_PER_ROW = 4
SAVED = "pg_saved"  # the taps outlive a visit to another page (widget state does not)


def tap_key(band: str, i: int) -> str:
    return f"pg_{band}_{i}"


def set_taps(h0: np.ndarray, h1: np.ndarray, mode: str | None = None) -> None:
    """Callback helper: put a pair into the tap widgets (and the h1 mode)."""
    st.session_state["pg_k"] = int(h0.size)
    for i in range(h0.size):
        st.session_state[tap_key("h0", i)] = float(h0[i])
        st.session_state[tap_key("h1", i)] = float(h1[i])
    if mode is not None:
        st.session_state["pg_mode"] = mode


def current_taps(band: str) -> np.ndarray:
    return np.array([st.session_state.get(tap_key(band, i), 0.0) for i in range(st.session_state["pg_k"])])


def load_preset() -> None:
    preset = st.session_state["pg_preset"]
    st.session_state.pop("pg_problem", None)
    if preset == LEARNED:
        sel = state.selection()
        raw_h0, raw_h1 = state.model_filters(sel.entry, sel.layer, sel.channel)
        if not MIN_TAPS <= raw_h0.size <= MAX_TAPS:
            st.session_state["pg_problem"] = (f"{sel.entry.name} has {raw_h0.size} taps per filter; the playground "
                                              f"takes {MIN_TAPS} to {MAX_TAPS}.")
            return
        try:
            h0, h1, _ = normalize_filters(raw_h0, raw_h1)
        except ValueError as err:  # an all-zero learned filter
            st.session_state["pg_problem"] = f"The learned pair cannot be used: {err}."
            return
        set_taps(h0, h1, EDIT)  # a learned h1 is its own, not the mirror of h0
    elif preset == "random pair":
        st.session_state["pg_seed"] = st.session_state.get("pg_seed", 0) + 1
        set_taps(*preset_pair("random pair", int(st.session_state["pg_k"]), st.session_state["pg_seed"]), EDIT)
    else:
        set_taps(*preset_pair(preset))


def resize() -> None:
    """k changed: keep the first taps, pad with zeros."""
    k = int(st.session_state["pg_k"])
    for band in ("h0", "h1"):
        for i in range(k):
            st.session_state.setdefault(tap_key(band, i), 0.0)


def mode_changed() -> None:
    if st.session_state["pg_mode"] == EDIT:  # start editing from the mirror of the current h0
        set_taps(current_taps("h0"), quadrature_mirror(current_taps("h0")))


def paste() -> None:
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


def tap_inputs(band: str, k: int) -> None:
    for start in range(0, k, TAPS_PER_ROW):
        cols = st.columns(TAPS_PER_ROW)
        for i in range(start, min(start + TAPS_PER_ROW, k)):
            cols[i - start].number_input(f"{band}[{i}]", step=0.05, format="%.4f", key=tap_key(band, i))


def verdict(value: float, ideal: float) -> str:
    error = abs(value - ideal)
    if error < PASS:
        return ":green-badge[:material/check: yes]"
    if error < CLOSE:
        return ":orange-badge[:material/warning: nearly]"
    return ":red-badge[:material/close: no]"


def mark(value: float | None, ideal: float) -> str:
    """✓ at the ideal, ≈ close to it, ✗ far from it, – when there is nothing to compare."""
    if value is None:
        return "–"
    error = abs(value - ideal)
    return "✓" if error < PASS else ("≈" if error < CLOSE else "✗")


@st.cache_data(show_spinner=False, max_entries=32)
def tree_rows(x: np.ndarray, h0: np.ndarray, h1: np.ndarray) -> list[tuple[str, np.ndarray]]:
    from multires import coefficient_tree, default_depth

    return coefficient_tree(x, h0, h1, depth=default_depth(x.size, h0.size)).rows()


# --- state: first visit, or back from another page -------------------------------------------
for key, value in st.session_state.get(SAVED, {}).items():
    st.session_state.setdefault(key, value)
if "pg_k" not in st.session_state:
    st.session_state["pg_preset"] = "db2"
    set_taps(*wavelet_filters("db2"), DERIVE)
st.session_state.setdefault("pg_mode", DERIVE)

st.title("Wavelet playground: make your own h0, h1")
st.markdown("Set the taps of the lowpass **h0**; the highpass **h1** follows by the quadrature-mirror rule "
            "h1[n] = (−1)<sup>n</sup> h0[k−1−n] (or edit it too). Every check, curve and tree below updates at once.",
            unsafe_allow_html=True)

controls, chart = st.columns([2, 3], gap="large")
with controls:
    c1, c2 = st.columns([3, 2])
    c1.selectbox("Start from", PRESET_OPTIONS, key="pg_preset", on_change=load_preset,
                 help="Haar, db2, db3, sym4: orthonormal wavelets (k = 2, 4, 6, 8). A random pair is drawn like "
                      "MultiresConv's random init. The learned filters are the sidebar's model/layer/channel, "
                      "normalised (sum h0 = √2).")
    c2.slider("Taps k", MIN_TAPS, MAX_TAPS, key="pg_k", on_change=resize,
              help="Filter length. Odd k never gives an orthonormal pair: try it.")
    if st.session_state["pg_preset"] in ("random pair", LEARNED):
        st.button("Load it again" if st.session_state["pg_preset"] == LEARNED else "New random pair",
                  key="pg_reload", on_click=load_preset)
    k = int(st.session_state["pg_k"])
    tap_inputs("h0", k)
    st.radio("Highpass h1", [DERIVE, EDIT], key="pg_mode", on_change=mode_changed, horizontal=True,
             format_func={DERIVE: "mirror of h0", EDIT: "edit h1 too"}.get)
    if st.session_state["pg_mode"] == EDIT:
        tap_inputs("h1", k)
    st.text_input("Or paste h0 taps", key="pg_paste", on_change=paste, placeholder="e.g. 0.48, 0.84, 0.22, -0.13")

st.session_state[SAVED] = {key: st.session_state[key] for key in
                           ["pg_k", "pg_mode", "pg_preset", *(tap_key(b, i) for b in ("h0", "h1") for i in range(k))]
                           if key in st.session_state}
problem = st.session_state.pop("pg_problem", None)
if problem:
    controls.warning(problem, icon=":material/error:")
try:
    h0, h1 = playground_pair(current_taps("h0"), current_taps("h1") if st.session_state["pg_mode"] == EDIT else None)
except TapsError as err:
    chart.error(f"{err}. The charts come back as soon as the taps are valid.", icon=":material/error:")
    st.stop()

diag = filter_diagnostics(h0, h1)
x, phi, psi = cascade(h0, h1, level=CASCADE_LEVEL)
diverges = cascade_diverges(phi, psi)
with chart:
    fig = mother_wavelet_figure(x, phi, psi, "your filters", height=380)
    if diverges:
        fig.update_yaxes(range=[-5, 5])
    show(fig, key="pg_cascade")
    st.caption("The cascade (pywt.Wavelet.wavefun, pair rescaled to sum h0 = √2) iterates your filters: a wavelet "
               "needs a bounded ψ with equal area above and below 0; the checks below say if the pair is orthonormal.")
    if diverges:
        st.warning("The cascade does not settle to a bounded function (values beyond ±20, axis clipped to ±5): "
                   "these taps do not define a wavelet.", icon=":material/warning:")
    worst = max(diag.orthonormality_error, diag.perfect_reconstruction_error)
    st.markdown(f"**Orthonormal wavelet pair?** {verdict(worst, 0.0)} largest error {worst:.2g}"
                + (f" · nearest named wavelet **{diag.nearest_wavelet}** (distance {diag.nearest_distance:.3f})"
                   if diag.nearest_wavelet else " · no orthogonal wavelet has this length"))

checks, response, tree = st.tabs(["Checks", "Frequency response", f"Coefficient tree of {state.selection().signal_name}"])
with checks:
    rows = [r for r in diag.rows() if r["ideal"] is not None]
    st.table({"check": [r["quantity"] for r in rows],
              "value": ["—" if r["value"] is None else f"{r['value']:.6f}" for r in rows],  # odd k: no nearest
              "ok?": [mark(r["value"], r["ideal"]) for r in rows],
              "ideal": [f"{r['ideal']:.4f}" for r in rows],
              "what it means": [r["meaning"] for r in rows]})
    st.caption("Each line is one property of a wavelet filter pair (multires.filters.filter_diagnostics): ✓ at the "
               f"ideal (within {PASS:g}), ≈ within {CLOSE:g}, ✗ further. Haar, db2, db3 and sym4 hit every ideal.")
with response:
    freqs, lo, _ = frequency_response(h0, N_FREQS)
    _, hi, _ = frequency_response(h1, N_FREQS)
    near = wavelet_filters(diag.nearest_wavelet) if diag.nearest_wavelet else None
    fixed = None if near is None else (frequency_response(near[0], N_FREQS)[1], frequency_response(near[1], N_FREQS)[1])
    show(frequency_response_figure(freqs, (lo, hi), fixed, "yours", diag.nearest_wavelet or ""), key="pg_response")
    st.caption("Gain of h0 (blue) and h1 (orange) from slow (0) to fastest (0.5 cycles/sample): a wavelet pair "
               "splits the band, h0 passes 0 and blocks 0.5, h1 the reverse. Dashed: the nearest named wavelet.")
with tree:
    signal = state.selection().signal
    show(tree_heatmap(tree_rows(signal, h0, h1), f"Coefficient tree of {state.selection().signal_name} with your filters"),
         key="pg_tree")
    st.caption("Rows a_J (top) to b_1 (bottom), time left to right, each row scaled to its largest |value|: "
               "a good lowpass/highpass split puts slow trends in the top rows and sharp events in b_1.")
