"""TREESELECT memory: which tree coefficients each TREESELECT rule keeps, what they remember, what they cost.

The page draws its controls; what they select is built by :mod:`ui.treeselect_view` and drawn, tab by tab,
by :mod:`ui.treeselect_tabs`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires.figures.style import TREE_SELECT_LABELS
from ui import defaults, links, pickers
from ui import treeselect_tabs as tabs
from ui import treeselect_view as view
from ui.charts import presenting
from ui.class_question import class_question
from ui.safe_text import plain
from ui.uniform_test import show_uniform_test

st.title("TREESELECT: what the memory keeps")
st.markdown("At every step *n* the layer keeps a few cells of its tree, at fixed lags behind *n*, and mixes them "
            "linearly.")

sel = pickers.selection()
notice = st.container()
top = st.columns([3, 3, 3, 1.7], gap="medium", vertical_alignment="bottom")
with top[0]:
    entry = view.page_model(sel.entry, notice)
with notice:
    pickers.member_picker(entry)  # a seed ensemble: which of its models entry.net is
layer = min(sel.layer, entry.config.n_layers - 1)
channel = min(sel.channel, entry.config.d_model - 1)
conv = entry.net.convs[layer]
x = np.asarray(sel.signal, dtype=np.float64)
n_samples = x.size
if not presenting():  # presenting, the key chart needs the line: the note is one switch away
    st.caption(plain(defaults.model_note(entry)))

# --- page controls ---------------------------------------------------------------------------
with top[3].popover("Options", icon=":material/settings:", use_container_width=True):
    use_wavelet = st.toggle(f"Build the tree from the fixed wavelet ({sel.wavelet})", key="ts_use_wavelet",
                            help="The sidebar's fixed wavelet replaces the learned h0/h1 for the tree, the "
                                 "reconstruction and the capacity. The layer's kernel always uses the model.")
    rules_slot = st.empty()
h0, h1, source = view.tree_filters(entry, layer, channel, use_wavelet, sel.wavelet)
largest_m, default_m = view.memory_sizes(entry, layer, int(h0.size))
view.prepare_time_step(n_samples)
with top[1]:  # the value comes from session state only (a value= as well made Streamlit warn for linked n)
    n = int(st.slider("Time step n (samples)", 0, n_samples - 1, key="ts_n",
                      help="The memory is read at this time step of the sidebar's signal (shared links keep it as n)."))
links.share_time_step(n)
with top[2]:
    memory_size = int(st.slider("Memory size M (uniform)", 1, largest_m, default_m, key="ts_memory_size",
                                help=f"Slots the uniform rule keeps, 1..{largest_m}. The default matches "
                                     f"{'the model' if conv.memory_size else 'resolution fading (J + 1)'}."))
model_slots, _ = entry.net.memory(layer, channel)
rules, labels = view.rules_on_offer(conv, model_slots, int(h0.size), memory_size)
with rules_slot.container():
    shown = st.multiselect("Rules to compare", list(rules), default=list(rules),
                           format_func=lambda s: TREE_SELECT_LABELS[s],
                           # its own state when a learned selection is on offer, so it starts with every rule
                           key="ts_strategies_learned" if "learned" in rules else "ts_strategies")
rules = {s: slots for s, slots in rules.items() if s in shown}
if not rules:
    st.info("Pick at least one rule under Options.")
    st.stop()

analysis = view.analyse(rules, conv.depth, int(h0.size), n)
choices, picked, focus_span = view.inspected_cell(analysis.cells, int(h0.size))  # the inspected cell (linked views)
shown_view = view.TreeselectView(entry, layer, channel, x, sel.signal_name, h0, h1, source, use_wavelet, n,
                                 memory_size, largest_m, rules, labels, model_slots, analysis, choices, picked,
                                 focus_span)

DRAW_TAB = {"Kept cells": tabs.kept_cells_tab, "What it remembers": tabs.remembers_tab,
            "Predict, then reveal": tabs.questions_tab, "Learned choice": tabs.learned_tab, "Cost": tabs.cost_tab,
            "One long convolution": tabs.kernel_tab}
for tab, draw in zip(st.tabs(list(DRAW_TAB)), DRAW_TAB.values()):
    with tab:
        draw(shown_view)

show_uniform_test("ts_uniform_test")  # when uniform wins: the distant-windows comparison (ui/uniform_test.py)

class_question(entry, key="ts_class")
