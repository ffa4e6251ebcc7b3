"""Home: what MultiresConv is, the paper's Figure 2 to play with, and a guided path through the app."""

from __future__ import annotations

import streamlit as st

from multires import kept_cells, max_uniform_memory, memory_slots
from multires.figures.style import STRATEGY_LABELS
from multires.figures.tree import cell_label, dilated_tree_figure

TOY_N, TOY_DEPTH, TOY_K = 16, 4, 2  # small enough that every node stays readable

st.title("Wavelet Memory Explorer")
st.markdown(
    """
**MultiresConv** is the sequence layer of *Sequence Modeling with Multiresolution Convolutional Memory*
(Jiaxin Shi, Ke Alexander Wang & Emily B. Fox, ICML 2023, [arXiv:2305.01638](https://arxiv.org/abs/2305.01638)).
Each channel runs the input through a **causal dilated convolution tree**: level *l* applies the same two
short filters, a lowpass **h0** and a highpass **h1**, with dilation 2<sup>l−1</sup>, producing an
*approximation* a<sub>l</sub> (which feeds the next level) and a *detail* b<sub>l</sub>. Because h0 and h1
are shared across levels they act like a learnable wavelet filter bank, and the tree is a stationary
wavelet transform of the past. At every time step **TREESELECT** keeps only a few of these coefficients as
the layer's memory (the paper's *resolution fading* keeps one per level: recent past sharp, distant past
blurred) and mixes them linearly. The whole layer is therefore one long causal convolution, cheap to compute.
""",
    unsafe_allow_html=True,
)

st.header("The tree at a glance (the paper's Figure 2)")
st.markdown(
    f"A toy tree: **N = {TOY_N}** samples, depth **J = {TOY_DEPTH}**, filters of **k = {TOY_K}** taps. "
    "Move the time step and switch the strategy to see which coefficients become the memory."
)
controls = st.columns([3, 2, 3], gap="large")
with controls[0]:
    n = st.slider("Time step n", 0, TOY_N - 1, TOY_N - 1, key="home_n",
                  help="The memory is read at this time; nodes after n do not exist yet (faded).")
with controls[1]:
    strategy = st.radio("TREESELECT strategy", ["fading", "uniform"], key="home_strategy",
                        format_func=lambda s: STRATEGY_LABELS[s], horizontal=True,
                        help="Resolution fading keeps a_J[n], b_J[n], …, b_1[n]; uniform spreads M slots "
                             "evenly over each level's decimated grid.")
with controls[2]:
    largest = max_uniform_memory(TOY_DEPTH, TOY_K)
    memory_size = st.slider("Memory size M (uniform)", 1, largest, 8, key="home_memory_size",
                            disabled=strategy != "uniform",
                            help=f"Number of slots the uniform rule keeps (1..{largest}).")

if strategy == "fading":
    slots = memory_slots("fading", TOY_DEPTH, TOY_K)
else:
    slots = memory_slots("uniform", TOY_DEPTH, TOY_K, memory_size=int(memory_size))
cells = kept_cells(slots, int(n))

st.plotly_chart(dilated_tree_figure(TOY_N, TOY_DEPTH, TOY_K, int(n), cells, strategy), key="home_tree")
st.caption(
    "Each node combines k = 2 nodes of the level below, spaced by the dilation: blue edges are the shared "
    "lowpass h0, orange edges the shared highpass h1. Outlined nodes are the memory at time n; the coloured "
    "edges are everything computed to produce them."
)
summary = st.columns([1, 4], vertical_alignment="center")
summary[0].metric("Slots kept at n", len(cells), help="Slots whose time n − lag is before 0 are not kept yet.")
summary[1].markdown(
    f"**Memory at n = {int(n)}:** " + ", ".join(f"{cell_label(slot)}[{t}]" for slot, t in cells)
    if cells else "The memory is empty: every slot still points before time 0."
)

st.header("A guided path")
st.markdown("Each page uses the sidebar's model, layer, channel, signal and fixed wavelet, so you can follow one "
            "example all the way through.")
GUIDE = [
    ("app_pages/1_Wavelets.py", "Wavelets", ":material/waves:",
     "What a wavelet is: the mother wavelet, its dilated and shifted family, and why that family is orthonormal."),
    ("app_pages/2_Filters.py", "Filters", ":material/tune:",
     "The h0/h1 a model learned next to a fixed wavelet: taps, frequency response, how wavelet-like they are."),
    ("app_pages/3_Coefficient_tree.py", "Coefficient tree", ":material/account_tree:",
     "The whole tree of a signal (or your own upload): which levels carry which structure."),
    ("app_pages/4_TREESELECT.py", "TREESELECT memory", ":material/memory:",
     "Which coefficients each strategy keeps, how much of the past they can rebuild, and what that costs."),
    ("app_pages/5_Train.py", "Train", ":material/model_training:",
     "Train a small MultiresConv on the CPU and watch its filters and memory selection change."),
    ("app_pages/6_Compare.py", "Compare", ":material/leaderboard:",
     "Learned vs fixed wavelets and the strategies side by side, on accuracy and memory."),
]
for step, (path, label, icon, what) in enumerate(GUIDE, start=1):
    link, text = st.columns([1, 3], vertical_alignment="center")
    with link:
        st.page_link(path, label=f"{step}. {label}", icon=icon)
    text.markdown(what)
