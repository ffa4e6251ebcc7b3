"""Home: what MultiresConv is, the paper's Figure 2 in motion, and a guided path through the app."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from multires import max_uniform_memory, memory_slots
from multires.figures.dilated_tree import tree_animation_figure  # not .tree: no plotly.subplots yet
from multires.figures.style import TREE_SELECT_LABELS
from ui import state
from ui.charts import presenting, show

TOY_N, TOY_DEPTH, TOY_K = 16, 4, 2  # small enough that every node stays readable
DEFAULT_RULE, DEFAULT_MEMORY, DEFAULT_IMPULSE = "fading", 8, 2  # the controls' first values

st.title("Wavelet Memory Explorer")
st.markdown(
    "**MultiresConv** (Shi, Wang & Fox, ICML 2023, [arXiv:2305.01638](https://arxiv.org/abs/2305.01638)) remembers "
    "a sequence through a **tree of two shared filters**, and keeps only a few of its numbers at each step. "
    "Press **▶ Play** to watch the memory move with time."
)


@st.cache_resource(show_spinner=False, max_entries=64)
def tree_animation(rule: str, memory_size: int, impulse_at: int) -> go.Figure:
    """The animated toy tree (0.4 s to build, 16 frames): shared by every session and never mutated
    (``ui.charts.show`` copies a figure before enlarging it for presentation mode)."""
    chosen = memory_slots(rule, TOY_DEPTH, TOY_K, memory_size=None if rule == "fading" else memory_size)
    return tree_animation_figure(TOY_N, TOY_DEPTH, TOY_K, chosen, rule, impulse_at=impulse_at, height=455)


figure_column, controls = st.columns([5, 1.35], gap="medium")
# The chart is sent before the controls beside it are drawn: the browser starts fetching Plotly (its
# largest script, ~1 s to load on a 2-core machine) when the first chart arrives, so the first chart
# goes out first. Its inputs are the controls' current values (session state, or their defaults).
rule = state.get("home_strategy", DEFAULT_RULE)
memory_size = int(state.get("home_memory_size", DEFAULT_MEMORY))
impulse_at = int(state.get("home_impulse", DEFAULT_IMPULSE))
with figure_column:
    show(tree_animation(rule, memory_size if rule == "uniform" else 0, impulse_at), key="home_tree")
with controls:
    rule = st.radio("TREESELECT rule", ["fading", "uniform"], key="home_strategy",
                        format_func=lambda s: TREE_SELECT_LABELS[s],
                        help="Which coefficients of the tree become the memory at each time step.")
    largest = max_uniform_memory(TOY_DEPTH, TOY_K)
    memory_size = int(st.slider("Memory size M (uniform)", 1, largest, DEFAULT_MEMORY, key="home_memory_size",
                                disabled=rule != "uniform",
                                help=f"Number of slots the uniform rule keeps (1..{largest})."))
    impulse_at = int(st.slider("Impulse at t₀", 0, TOY_N - 1, DEFAULT_IMPULSE, key="home_impulse",
                               help="An input x that is 1 at t₀ and 0 elsewhere: yellow halos mark every node "
                                    "that still depends on it."))

if rule == "fading":
    slots = memory_slots("fading", TOY_DEPTH, TOY_K)
    rule = (f"**Resolution fading** keeps one cell per tree row, all at lag 0: a{TOY_DEPTH}[n], b{TOY_DEPTH}[n], …, "
            f"b1[n], that is J + 1 = {TOY_DEPTH + 1} numbers (one detail per level plus the coarsest approximation). "
            "b1[n] sees the last 2 samples, b2[n] the last 4, …: the recent past finely, the distant past coarsely.")
else:
    slots = memory_slots("uniform", TOY_DEPTH, TOY_K, memory_size=memory_size)
    rule = (f"**Uniform** fills M = {memory_size} slots coarsest first: a{TOY_DEPTH}[n], b{TOY_DEPTH}[n], then level l at "
            "lags 0, 2<sup>l</sup>, 2·2<sup>l</sup>, … (the level's decimated grid, 2, 4, 8 … slots for k = 2) until M "
            "are used, so at small M the finest levels get none. With M = 2<sup>J</sup> = 16 it is the ordinary "
            "Haar DWT of the last 16 samples.")


with controls:
    st.caption("Blue edges: the shared lowpass h0; orange: the shared highpass h1 (coloured: what computes the memory). "
               "Circles: the memory at n; boxes at the bottom: the memory list. Yellow: nodes that still hold the "
               "impulse.")
st.caption(
    f"A toy tree: N = {TOY_N} samples, J = {TOY_DEPTH} levels, k = {TOY_K} taps; each node combines k nodes of the level "
    "below, spaced by the dilation. Press ▶ Play and watch the yellow impulse climb: the fine levels forget it first, "
    "the coarse ones hold it longest.",
)
st.markdown(rule, unsafe_allow_html=True)

with st.expander("What the layer computes, in five lines", expanded=not presenting()):
    st.markdown(
        """
* Level *l* applies a lowpass **h0** and a highpass **h1** (the same two short filters at every level) with dilation
  2<sup>l−1</sup> to the approximation a<sub>l−1</sub> (a<sub>0</sub> = x), giving a<sub>l</sub> and the detail b<sub>l</sub>.
* The tree is *undecimated*: every level has one coefficient per time step, J + 1 rows of N numbers in all.
  With a fixed orthogonal wavelet (Haar, db2, …) it is a causal stationary wavelet transform of the past; learned
  filters need not be an exact wavelet pair (the Filters page measures how close they are).
* With Haar filters a<sub>J</sub>[n] = 2<sup>J/2</sup> × the mean of the last 2<sup>J</sup> samples (zeros before t = 0),
  and b<sub>l</sub>[n] = 2<sup>−l/2</sup> × (sum of the older half − sum of the newer half) of the last 2<sup>l</sup> samples.
* **TREESELECT** keeps a few cells at fixed lags behind n as the memory z<sub>n</sub>; the output is
  y[n] = Σ<sub>s</sub> w<sub>s</sub> z<sub>n,s</sub> + w<sub>skip</sub> x[n].
* Every slot reads a fixed lag of a linear tree, so the whole layer is one causal convolution y = K * x, computed with
  one FFT in O(N log N).
""",
        unsafe_allow_html=True,
    )

st.header("A guided path")
st.markdown("Every page of the app, in menu order. The pages share the sidebar's model, layer, channel, signal and "
            "fixed wavelet, so you can follow one example all the way through.")
GUIDE = [
    ("app_pages/8_Lesson.py", "Lesson path", ":material/school:",
     "The story in nine steps, one key chart and one question each; the step is in the address, so a class can "
     "follow one link."),
    ("app_pages/1_Wavelets.py", "Wavelets", ":material/waves:",
     "What a wavelet is: the mother wavelet, its dilated and shifted family, and why that family is orthonormal."),
    ("app_pages/2_Filters.py", "Filters", ":material/tune:",
     "The h0/h1 a model learned next to a fixed wavelet: taps, frequency response, how wavelet-like they are."),
    ("app_pages/2b_Playground.py", "Wavelet playground", ":material/science:",
     "Type your own h0 (and h1) taps and see at once whether they make a wavelet pair."),
    ("app_pages/3_Coefficient_tree.py", "Coefficient tree", ":material/account_tree:",
     "The whole tree of a signal (or your own upload): which levels carry which structure."),
    ("app_pages/4_TREESELECT.py", "TREESELECT memory", ":material/memory:",
     "Which coefficients each TREESELECT rule keeps, how much of the past they can rebuild, and what that costs."),
    ("app_pages/5_Train.py", "Train", ":material/model_training:",
     "Train a small MultiresConv on the CPU and watch its filters and memory selection change."),
    ("app_pages/6_Compare.py", "Compare", ":material/leaderboard:",
     "Learned vs fixed wavelets and the TREESELECT rules side by side, on accuracy and memory."),
    ("app_pages/7_Study.py", "Study", ":material/query_stats:",
     "Sweeps over seeds (shipped, or upload your own): which TREESELECT rule, budget and filter start win."),
]
for step, (path, label, icon, what) in enumerate(GUIDE, start=1):  # one element per page: a light first load
    st.page_link(path, label=f"**{step}. {label}** — {what}", icon=icon)
