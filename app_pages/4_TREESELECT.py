"""TREESELECT memory: which tree coefficients each strategy keeps, what they remember, what they cost."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from multires import coefficient_tree, kept_cells, max_uniform_memory, memory_slots, slot_filters, wavelet_filters
from multires.figures.style import STRATEGY_COLORS, STRATEGY_LABELS
from multires.figures.tree import cell_coords, tree_heatmap
from multires.figures.treeselect import (
    capacity_figure,
    footprint_figure,
    kernel_figure,
    reconstruction_error_figure,
    reconstruction_figure,
)
from multires.memory import footprint, memory_capacity, memory_span, reconstruct_past, reconstruction_error_by_lag
from multires.treeselect import Slot
from ui import state

FOOTPRINT_LENGTHS = 2 ** np.arange(4, 15)  # N = 16 .. 16384

SlotKey = tuple[tuple[str, int, int], ...]  # hashable slots for st.cache_data


def _key(slots: list[Slot]) -> SlotKey:
    return tuple((s.band, s.level, s.lag) for s in slots)


def _slots(key: SlotKey) -> list[Slot]:
    return [Slot(*s) for s in key]


@st.cache_data(show_spinner=False, max_entries=32)
def tree_rows(x: np.ndarray, h0: np.ndarray, h1: np.ndarray, depth: int) -> list[tuple[str, np.ndarray]]:
    return coefficient_tree(x, h0, h1, depth=depth).rows()


@st.cache_data(show_spinner=False, max_entries=64)
def lag_profiles(h0: np.ndarray, h1: np.ndarray, slots: SlotKey, depth: int, window: int):
    """Reconstruction error and memory capacity per lag (they depend on the filters, not the signal)."""
    lags, error = reconstruction_error_by_lag(h0, h1, _slots(slots), depth, window=window)
    _, r2 = memory_capacity(h0, h1, _slots(slots), depth, max_lag=window - 1)
    return lags, error, r2


@st.cache_data(show_spinner=False, max_entries=64)
def past_reconstruction(x: np.ndarray, n: int, h0: np.ndarray, h1: np.ndarray, slots: SlotKey, depth: int,
                        window: int):
    return reconstruct_past(x, n, h0, h1, _slots(slots), depth, window=window)


@st.cache_data(show_spinner=False, max_entries=32)
def slot_contributions(h0: np.ndarray, h1: np.ndarray, slots: SlotKey, weights: np.ndarray, depth: int,
                       length: int) -> np.ndarray:
    """``w_s`` times each slot's impulse response (lag included), zero-padded to ``length``: (S, length)."""
    g = slot_filters(torch.from_numpy(h0)[None], torch.from_numpy(h1)[None], _slots(slots), depth)[0].numpy()
    g = np.pad(g, ((0, 0), (0, max(0, length - g.shape[1]))))[:, :length]
    return weights[:, None] * g


sel = state.selection()
entry, layer, channel = sel.entry, sel.layer, sel.channel
conv = entry.net.convs[layer]
depth = conv.depth
x = np.asarray(sel.signal, dtype=np.float64)
n_samples = x.size

st.title("TREESELECT: which coefficients become the memory")
st.markdown(
    "At every time step *n* the layer keeps only a few coefficients of its tree, read at fixed lags behind *n*, "
    "and mixes them linearly. Here you see **which** cells each strategy keeps, **what** the kept cells still know "
    "about the past, and **how much** memory that costs."
)

# --- page controls ---------------------------------------------------------------------------
top = st.columns([4, 3, 3], gap="large")
with top[0]:
    use_wavelet = st.toggle(f"Build the tree from the fixed wavelet ({sel.wavelet})",
                            key="ts_use_wavelet",
                            help="The sidebar's fixed wavelet replaces the learned h0/h1 for the tree, the "
                                 "reconstruction and the capacity. The layer's kernel below always uses the model.")
if use_wavelet:
    h0, h1 = wavelet_filters(sel.wavelet)
    source = f"the fixed wavelet **{sel.wavelet}**"
else:
    h0, h1 = state.model_filters(entry, layer, channel)
    source = f"the learned h0/h1 of model **{entry.name}**, layer {layer}, channel {channel}"
k = int(h0.size)
largest_m = max_uniform_memory(depth, k)
default_m = int(min(conv.memory_size or depth + 1, largest_m))
with top[1]:
    n = int(st.slider("Time step n (samples)", 0, n_samples - 1, n_samples - 1, key="ts_n",
                      help="The memory is read at this time step of the sidebar's signal."))
with top[2]:
    memory_size = int(st.slider("Memory size M (uniform)", 1, largest_m, default_m, key="ts_memory_size",
                                help=f"Slots the uniform rule keeps, 1..{largest_m}. The default matches "
                                     f"{'the model' if conv.memory_size else 'resolution fading (J + 1)'}."))

strategies: dict[str, list[Slot]] = {
    "fading": memory_slots("fading", depth, k),
    "uniform": memory_slots("uniform", depth, k, memory_size=memory_size),
}
labels = {"fading": f"resolution fading (J + 1 = {depth + 1})", "uniform": f"uniform (M = {memory_size})"}
if conv.tree_select == "learned":
    learned_slots, _ = entry.net.memory(layer, channel)
    strategies["learned"] = learned_slots
    labels["learned"] = f"learned by the model (M = {len(learned_slots)})"
shown = st.multiselect("Strategies to compare", list(strategies), default=list(strategies),
                       format_func=lambda s: STRATEGY_LABELS[s],
                       # its own state when a learned selection is on offer, so it starts with every strategy
                       key="ts_strategies_learned" if "learned" in strategies else "ts_strategies")
strategies = {s: slots for s, slots in strategies.items() if s in shown}
if conv.tree_select != "learned":
    st.caption(f"Model {entry.name} uses tree_select = \"{conv.tree_select}\", so there is no learned selection to "
               "show; train one with tree_select = \"learned\" on the Train page.")
st.markdown(f"The tree is computed with {source} (k = {k} taps), depth **J = {depth}** (the model layer's depth), "
            f"on the sidebar signal **{sel.signal_name}** ({n_samples} samples).")
if not strategies:
    st.info("Pick at least one strategy above.")
    st.stop()

# --- the kept cells on the tree --------------------------------------------------------------
st.header("Kept cells on the tree")
rows = tree_rows(x, h0, h1, depth)
cells = {s: kept_cells(slots, n) for s, slots in strategies.items()}
spans = {s: memory_span(slots, depth, k) for s, slots in strategies.items()}
window = max(spans.values())
zoom = st.toggle("Zoom on the memory window", value=True, key="ts_zoom",
                 help="Show only the samples the memory at n depends on (and a little after).")
if zoom:  # only the window the memory depends on (never pooled, so every cell stays visible)
    first = max(0, n - window - 1)
    shown_rows = [(label, values[first : n + 1]) for label, values in rows]
    x_range = (first - 0.5, n + max(3, window // 6) + 0.5)
else:
    first, shown_rows, x_range = 0, rows, None
st.plotly_chart(
    tree_heatmap(shown_rows, f"Coefficient tree with the memory kept at n = {n}",
                 kept={s: cell_coords(c) for s, c in cells.items()}, n=n, x_range=x_range, start=first),
    key="ts_tree_heatmap",
)
st.caption("Outlined squares are the cells each strategy keeps at time n (colour = strategy, nested squares = kept "
           "by several): fading reads one cell per level at n, uniform spreads its cells back along each level.")
kept_columns = st.columns(len(strategies))
for column, (strategy, kept) in zip(kept_columns, cells.items()):
    with column:
        color = STRATEGY_COLORS[strategy]
        st.markdown(f"<span style='color:{color}; font-weight:600'>■ {labels[strategy]}</span>",
                    unsafe_allow_html=True)
        st.metric(f"Cells kept at n · {STRATEGY_LABELS[strategy]}", len(kept),
                  help="Slots whose time n − lag falls before 0 are not available yet.")
        nbsp = "\u00a0"  # with the minus sign below, keeps "b4[n−16] (t = 495)" on one line
        st.markdown(" · ".join(f"**{str(s).replace('-', '−')}**" + (f"{nbsp}(t{nbsp}={nbsp}{t})" if s.lag else "")
                               for s, t in kept)
                    if kept else "*none yet*", help="Each slot, and the time it reads when it lags behind n.")

# --- what the memory remembers ---------------------------------------------------------------
st.header("What the memory remembers")
recon, errors, capacities = {}, {}, {}
t = x_window = None
for strategy, slots in strategies.items():
    key = _key(slots)
    t, x_window, x_hat = past_reconstruction(x, n, h0, h1, key, depth, window)
    recon[strategy] = x_hat
    lags, errors[strategy], capacities[strategy] = lag_profiles(h0, h1, key, depth, window)
left, right = st.columns(2, gap="large")
with left:
    st.plotly_chart(reconstruction_figure(t, x_window, recon, n, labels), key="ts_reconstruction")
    st.caption("Grey: the signal over the last samples the memory depends on; coloured: the shortest signal consistent "
               "with each memory. Where a curve follows grey the memory remembers, where it flattens it has only an average.")
with right:
    st.plotly_chart(reconstruction_error_figure(lags, errors, labels), key="ts_reconstruction_error")
    st.caption("For white-noise input: 0 means x[n − τ] is recovered exactly, 1 means it is forgotten. Fading is exact "
               "only for the newest samples; uniform spreads its error evenly over the window.")
metric_columns = st.columns(len(strategies))
for column, strategy in zip(metric_columns, strategies):
    rmse = float(np.sqrt(np.mean((recon[strategy] - x_window) ** 2)))
    column.metric(f"Reconstruction RMSE · {STRATEGY_LABELS[strategy]}", f"{rmse:.3g}",
                  help="Root-mean-square error of the reconstruction on this window.")

left, right = st.columns(2, gap="large")
with left:
    st.plotly_chart(capacity_figure(lags, capacities, labels), key="ts_capacity")
    st.caption("R² of the best linear readout of x[n − τ] from the memory (white noise in). The total in the legend "
               "is the memory capacity: at most the number of slots.")
with right:
    fp = footprint(FOOTPRINT_LENGTHS, depth=None, memory_size=memory_size, kernel_size=k)
    series = {"full history": fp["full_history_per_step"], "tree": fp["tree_total"],
              "fading": fp["fading_per_step"], "uniform": fp["uniform_per_step"]}
    fp_labels = {"full history": "full history (N)", "tree": "whole undecimated tree (N·(J+1))",
                 "fading": "resolution fading (J+1)", "uniform": f"uniform (M = {memory_size})"}
    if "learned" in strategies:
        series["learned"] = np.full(FOOTPRINT_LENGTHS.shape, len(strategies["learned"]))
        fp_labels["learned"] = f"learned (M = {len(strategies['learned'])})"
    st.plotly_chart(footprint_figure(FOOTPRINT_LENGTHS, series, fp_labels, current_n=n_samples), key="ts_footprint")
    st.caption("Numbers held to produce one output at step N (J grows like log₂ N so the tree covers the sequence): "
               "the full history grows linearly, the stored tree faster still, fading logarithmically, uniform not at all.")

# --- the layer as one long convolution -------------------------------------------------------
st.header("The layer as one long convolution")
st.markdown(
    f"Every slot reads a fixed lag, so the model's layer is a causal convolution y = K * x. Below: layer {layer}, "
    f"channel {channel} of **{entry.name}** (tree_select = \"{conv.tree_select}\"), always with its learned filters. "
    "Each row of the heatmap is one kept slot: its weight times its impulse response, shifted by its lag."
)
model_h0, model_h1 = state.model_filters(entry, layer, channel)
kernel = entry.net.kernel(layer, channel)
kept_slots, weights = entry.net.memory(layer, channel)
# K is as long as the longest candidate slot; past the kept slots' reach it is zero, so cut it there
reach = memory_span(kept_slots, depth, model_h0.size) if kept_slots else 1
kernel = kernel[: min(kernel.size, reach + max(2, reach // 16))]
contributions = slot_contributions(model_h0, model_h1, _key(kept_slots), weights[:-1], depth, kernel.size)
slot_labels = [f"{s}  (w = {w:+.2f})" for s, w in zip(kept_slots, weights[:-1])]
st.plotly_chart(kernel_figure(kernel, contributions, slot_labels, float(weights[-1])), key="ts_kernel")
residual = float(np.abs(contributions.sum(axis=0) + np.eye(1, kernel.size)[0] * weights[-1] - kernel).max())
st.caption(f"Top: the impulse response K[m] (how much x[n − m] moves y[n]). Bottom: what each slot adds; the columns "
           f"plus the skip weight at m = 0 sum to K (largest mismatch {residual:.1e}).")
