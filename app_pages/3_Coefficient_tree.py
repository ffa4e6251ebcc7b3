"""Coefficient tree: the whole multiresolution tree of a signal, learned filters beside a fixed wavelet."""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires import default_depth, wavelet_filters
from multires.figures.tree import signal_figure
from ui import defaults, models, pickers
from ui.charts import presenting, show
from ui.figure_cache import cached_figure
from ui.reduced import csv_bytes, show_chart
from ui.reveal import predict_then_reveal, verdict
from ui.safe_text import figure_text, plain
from ui.signal_upload import upload_panel
from ui.trees import (
    TreeSide,
    energy_figure,
    energy_shares,
    heatmap_figure,
    side_by_side,
    traces_figure,
    tree_columns,
    tree_rows,
)

MAX_DEPTH = 14

# --- page ------------------------------------------------------------------------------------

st.title("The coefficient tree")
st.markdown(
    "J + 1 numbers per time step: details b<sub>1</sub> (fastest changes) … b<sub>J</sub> (slowest) and a<sub>J</sub> "
    "(with Haar: 2<sup>J/2</sup> × the mean of the last 2<sup>J</sup> samples). Left **learned** filters, right a "
    "**fixed wavelet**.",
    unsafe_allow_html=True,
)

sel = pickers.selection()
pickers.member_picker(sel.entry)  # a seed ensemble: which of its models sel.entry.net is
x = np.asarray(sel.signal, dtype=np.float64)
n_samples = x.size
model_h0, model_h1 = models.model_filters(sel.entry, sel.layer, sel.channel)
wave_h0, wave_h1 = wavelet_filters(sel.wavelet)
model_depth = sel.entry.net.convs[sel.layer].depth

controls = st.columns([2, 2, 3], gap="large", vertical_alignment="bottom")
with controls[0]:
    top_depth = min(MAX_DEPTH, max(default_depth(n_samples, 2), 1))
    depth = int(st.slider("Tree depth J", 1, top_depth, min(top_depth, default_depth(n_samples, model_h0.size)),
                          key="tree_depth",
                          help="Number of levels. The default is the smallest J whose coarsest level sees the "
                               f"whole signal; the model's layer itself uses J = {model_depth}."))
with controls[1]:
    normalize = st.toggle("Scale rows separately", value=True, key="tree_normalize",
                          help="Coarse levels have much larger coefficients than fine ones; scaling each row "
                               "keeps the fine details visible. Hover always shows the true value.")
with controls[2]:
    st.markdown(f"**{plain(sel.signal_name)}**, {n_samples} samples · learned filters: k = {model_h0.size} · "
                f"{sel.wavelet}: k = {wave_h0.size}")
if not presenting():  # presenting, the key chart needs the line: the note is one switch away
    st.caption(plain(defaults.model_note(sel.entry)))

sides = [TreeSide("model", f"Learned: {figure_text(sel.entry.name)}, layer {sel.layer}, channel {sel.channel}",
                  "learned filters", model_h0, model_h1),
         TreeSide("wavelet", f"Fixed wavelet: {sel.wavelet}", sel.wavelet, wave_h0, wave_h1)]
tabs = st.tabs(["Trees side by side", "Each level over time", "Energy per level", "Predict, then reveal",
                "Your own signal"])

with tabs[0]:
    side_by_side(x, sides, depth, heatmap_figure, "{heading}", "tree_heatmap", "tree", normalize_rows=normalize,
                 height=min(360, 90 + (26 if presenting() else 24) * (depth + 1)))
    st.caption("Rows are levels (coarsest a<sub>J</sub> at the top, finest b<sub>1</sub> at the bottom), columns are "
               "time; red is positive, dark grey negative, white near 0. Look for where edges and bursts light up each "
               "level; coarse rows fade in from the left because the causal tree assumes zeros before t = 0.",
               unsafe_allow_html=True)
    show_chart(cached_figure(signal_figure, x, figure_text(sel.signal_name), height=200), key="tree_signal",
               exact=lambda: {"t": np.arange(x.size), "x": x}, file_name="signal.csv")
    st.caption("The signal both trees decompose (sidebar: Signal, or your upload on the last tab).")

with tabs[1]:
    side_by_side(x, sides, depth, traces_figure, "Each level over time · {short}", "tree_traces", "tree_levels")
    st.caption("The same rows as curves on a shared time axis: fine levels wiggle fast, coarse levels move slowly.")

row_labels, shares = energy_shares(x, wave_h0, wave_h1, depth)
with tabs[3]:
    answer = row_labels[int(np.argmax(shares))]
    asked = predict_then_reveal(
        "tree_q_level", row_labels, context=(sel.signal_name, n_samples, sel.wavelet, depth),
        prompt=f"#### Which level holds the largest share of this signal's energy (tree of the fixed wavelet "
               f"{sel.wavelet}, J = {depth})?")
    revealed = answer if asked.shown else None
    if asked.shown:
        right = asked.guess == answer
        verdict(right, f"{answer} holds the most: {100 * shares.max():.0f} % of the energy"
                + ("." if right else f"; you guessed {asked.guess or 'nothing'}.") + " The Energy tab outlines it too.")
        show(cached_figure(energy_figure, x, wave_h0, wave_h1, depth, f"Energy per level · {sel.wavelet}",
                           highlight=answer),
             key="tree_q_level_figure")
        st.caption("Slow, smooth signals live in a_J and the coarse details; noise and sharp edges in b1, b2.")

with tabs[2]:
    row = st.columns(2, gap="large")
    for column, side in zip(row, sides):
        with column:
            show(cached_figure(energy_figure, x, side.h0, side.h1, depth, f"Energy per level · {side.short}",
                               highlight=revealed if side.key == "wavelet" else None), key=f"tree_energy_{side.key}")
            safe_name = "".join(c if c.isalnum() else "_" for c in f"{sel.signal_name}_{side.key}")
            st.download_button(f"Download coefficients (CSV, {depth + 1} levels × {n_samples} samples)",
                               lambda side=side: csv_bytes(tree_columns(x, tree_rows(x, side.h0, side.h1, depth))),
                               file_name=f"tree_{safe_name}.csv", mime="text/csv", on_click="ignore",
                               key=f"tree_download_{side.key}", icon=":material/download:")
    st.caption("Each level's Σc² / 2^l as a share of their total (level l of the undecimated tree interleaves the "
               "level-l DWT coefficients of 2^l shifts of the signal; dividing by 2^l averages over the shifts). For an orthogonal wavelet these energies add up to ‖x‖², up to the "
               "zero padding at the start, so the bars split the signal's energy by scale; learned filters need not "
               "conserve energy. Where does this signal live in scale?")

with tabs[4]:
    upload_panel()
