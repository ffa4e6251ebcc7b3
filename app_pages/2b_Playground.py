"""Wavelet playground: type the taps of h0 (and h1), see at once whether they make a wavelet."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from multires.analysis.cascade import cascade
from multires.analysis.filters import filter_diagnostics, frequency_response
from multires.analysis.playground import MAX_TAPS, MIN_TAPS, TapsError, cascade_diverges, playground_pair
from multires.figures.filters import frequency_response_figure
from multires.figures.tree import tree_heatmap
from multires.figures.wavelets import mother_wavelet_figure
from multires.treeselect import default_depth
from multires.wavelets import wavelet_filters
from ui import pickers
from ui import playground_state as pg
from ui.charts import show
from ui.figure_cache import cached_figure
from ui.reduced import show_chart
from ui.safe_text import figure_text, plain
from ui.trees import tree_rows

CASCADE_LEVEL = 8
N_FREQS = 257
PASS, CLOSE = 1e-6, 0.05  # |value - ideal| counted as a pass / as close
TAPS_PER_ROW = 4


def tap_inputs(band: str, k: int) -> None:
    for start in range(0, k, TAPS_PER_ROW):
        cols = st.columns(TAPS_PER_ROW)
        for i in range(start, min(start + TAPS_PER_ROW, k)):
            cols[i - start].number_input(f"{band}[{i}]", step=0.05, format="%.4f", key=pg.tap_key(band, i),
                                         on_change=pg.mark_custom)


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


@st.cache_data(show_spinner=False, max_entries=64)
def analyse(h0: np.ndarray, h1: np.ndarray):
    """Diagnostics (with the nearest-wavelet search) and the cascade of a pair, once per pair of taps."""
    return filter_diagnostics(h0, h1), cascade(h0, h1, level=CASCADE_LEVEL)


def cascade_chart(x: np.ndarray, phi: np.ndarray, psi: np.ndarray, diverges: bool):
    """φ and ψ of the user's pair; a diverging cascade is clipped to ±5."""
    fig = mother_wavelet_figure(x, phi, psi, "your filters", height=380)
    if diverges:
        fig.update_yaxes(range=[-5, 5])
    return fig


def draw_results(h0: np.ndarray, h1: np.ndarray, chart: DeltaGenerator, verdict_box: DeltaGenerator) -> None:
    """The cascade beside the controls, the verdict under them, then checks, response and tree in tabs."""
    diag, (x, phi, psi) = analyse(h0, h1)
    diverges = cascade_diverges(phi, psi)
    with chart:
        show_chart(cached_figure(cascade_chart, x, phi, psi, diverges), key="pg_cascade",
                   exact=lambda: {"t": x, "phi": phi, "psi": psi}, file_name="playground_phi_psi.csv")
        st.caption("The cascade (the pair rescaled so h0 sums to √2, then applied again and again) iterates your filters: a wavelet "
                   "needs a bounded ψ with equal area above and below 0; the checks below say if the pair is orthonormal.")
        if diverges:
            st.warning("The cascade does not settle to a bounded function (values beyond ±20, axis clipped to ±5): "
                       "these taps do not define a wavelet.", icon=":material/warning:")
    worst = max(diag.orthonormality_error, diag.perfect_reconstruction_error)
    with verdict_box:
        st.markdown(f"**Orthonormal wavelet pair?** {verdict(worst, 0.0)} largest error {worst:.2g}"
                    + (f" · nearest named wavelet **{diag.nearest_wavelet}** (distance {diag.nearest_distance:.3f})"
                       if diag.nearest_wavelet else " · no orthogonal wavelet has this length"))

    checks, response, tree = st.tabs(["Checks", "Frequency response", f"Coefficient tree of {plain(pickers.selection().signal_name)}"])
    with checks:
        rows = [r for r in diag.rows() if r["ideal"] is not None]
        st.table({"check": [r["quantity"] for r in rows],
                  "value": ["—" if r["value"] is None else f"{r['value']:.6f}" for r in rows],  # odd k: no nearest
                  "ok?": [mark(r["value"], r["ideal"]) for r in rows],
                  "ideal": [f"{r['ideal']:.4f}" for r in rows],
                  "what it means": [r["meaning"] for r in rows]})
        st.caption("Each line is one property of a wavelet filter pair: ✓ at the "
                   f"ideal (within {PASS:g}), ≈ within {CLOSE:g}, ✗ further. Haar, db2, db3 and sym4 hit every ideal.")
    with response:
        freqs, lo, _ = frequency_response(h0, N_FREQS)
        _, hi, _ = frequency_response(h1, N_FREQS)
        near = wavelet_filters(diag.nearest_wavelet) if diag.nearest_wavelet else None
        fixed = None if near is None else (frequency_response(near[0], N_FREQS)[1], frequency_response(near[1], N_FREQS)[1])
        show(cached_figure(frequency_response_figure, freqs, (lo, hi), fixed, "yours", diag.nearest_wavelet or ""),
             key="pg_response")
        st.caption("Gain of h0 (blue) and h1 (orange) from slow (0) to fastest (0.5 cycles/sample): a wavelet pair "
                   "splits the band, h0 passes 0 and blocks 0.5, h1 the reverse. Dashed: the nearest named wavelet.")
    with tree:
        signal = pickers.selection().signal
        rows = tree_rows(signal, h0, h1, default_depth(signal.size, h0.size))
        show_chart(cached_figure(tree_heatmap, rows, f"Coefficient tree of {figure_text(pickers.selection().signal_name)} with your filters"),
                   key="pg_tree", file_name="playground_tree.csv",
                   exact=lambda: {"t": np.arange(signal.size), "x": signal, **dict(rows)})
        st.caption("Rows a_J (top) to b_1 (bottom), time left to right, each row scaled to its largest |value|: "
                   "a good lowpass/highpass split puts slow trends in the top rows and sharp events in b_1.")


pg.restore()
st.title("Wavelet playground: make your own h0, h1")
st.markdown("Set the taps of the lowpass **h0**; the highpass **h1** follows by the quadrature-mirror rule "
            "h1[n] = (−1)<sup>n</sup> h0[k−1−n] (or edit it too). Every check, curve and tree below updates at once.",
            unsafe_allow_html=True)

controls, chart = st.columns([2, 3], gap="large")
with controls:
    c1, c2 = st.columns([3, 2])
    c1.selectbox("Start from", pg.PRESET_OPTIONS, key="pg_preset", on_change=pg.load_preset,
                 help="Haar, db2, db3, sym4: orthonormal wavelets (k = 2, 4, 6, 8). A random pair is drawn like "
                      "MultiresConv's random init. The learned filters are the sidebar's model/layer/channel, "
                      "normalised (sum h0 = √2). It shows “your own taps” once you type, paste or resize them.")
    c2.slider("Taps k", MIN_TAPS, MAX_TAPS, key="pg_k", on_change=pg.resize,
              help="Filter length. Odd k never gives an orthonormal pair: try it.")
    if pg.preset() in ("random pair", pg.LEARNED):
        st.button("Load it again" if pg.preset() == pg.LEARNED else "New random pair",
                  key="pg_reload", on_click=pg.load_preset)
    k = pg.tap_count()
    tap_inputs("h0", k)
    st.radio("Highpass h1", [pg.DERIVE, pg.EDIT], key="pg_mode", on_change=pg.mode_changed, horizontal=True,
             format_func={pg.DERIVE: "mirror of h0", pg.EDIT: "edit h1 too"}.get)
    if pg.h1_mode() == pg.EDIT:
        tap_inputs("h1", k)
    st.text_input("Or paste h0 taps", key="pg_paste", on_change=pg.paste, placeholder="e.g. 0.48, 0.84, 0.22, -0.13")

pg.save()
problem = pg.pop_problem()
if problem:
    controls.warning(plain(problem), icon=":material/error:")
try:
    pair = playground_pair(pg.current_taps("h0"), pg.current_taps("h1") if pg.h1_mode() == pg.EDIT else None)
except TapsError as err:
    chart.error(plain(f"{err}. The charts come back as soon as the taps are valid."), icon=":material/error:")
else:
    draw_results(*pair, chart, controls)
