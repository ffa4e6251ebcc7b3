"""The TREESELECT page's tabs, each drawn from the page's :class:`ui.treeselect_view.TreeselectView`: the kept
cells, what the memory remembers, two predict-then-reveal questions, the learned choice, the cost, and the
layer as one long convolution.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires import kept_cells, memory_slots
from multires.analysis.footprint import footprint
from multires.analysis.memory import memory_span, reconstruction_error_by_lag
from multires.figures.cells import cell_coords, cell_label
from multires.figures.style import TREE_SELECT_COLORS, TREE_SELECT_LABELS
from multires.figures.tree import tree_heatmap
from multires.figures.treeselect import (
    capacity_figure,
    footprint_figure,
    guess_overlay,
    kernel_figure,
    reconstruction_figure,
)
from multires.options import MAX_ANALYSED_WINDOW
from multires.treeselect import receptive_field
from ui import state
from ui.charts import presenting, show
from ui.figure_cache import cached_figure
from ui.reduced import show_chart
from ui.reveal import predict_then_reveal
from ui.safe_text import plain
from ui.treeselect_data import (
    MAX_SELECTION_ROWS,
    capacities,
    kernel_view,
    learned_selection,
    reconstructions,
    selection_figure,
    slot_key,
)
from ui.treeselect_view import TreeselectView, rule_line

__all__ = ["cost_tab", "kept_cells_tab", "kernel_tab", "learned_tab", "questions_tab", "remembers_tab"]

FOOTPRINT_LENGTHS = 2 ** np.arange(4, 15)  # N = 16 .. 16384
#: A lag counts as "forgotten" once the memory loses more than this fraction of it (white noise).
FORGET_THRESHOLD = 0.1
QUESTION_LAGS = 16  # lags offered by the "which lag is forgotten first" question
QUESTION_CELLS = 16  # uniform cells offered by the "which cells" question


def answer_figure(rows: list[tuple[str, np.ndarray]], title: str, answer: list[tuple[str, int]],
                  guess: list[tuple[str, int]], n: int, x_range: tuple[float, float], first: int):
    """The tree with the cells uniform keeps outlined and the student's guesses marked."""
    fig = tree_heatmap(rows, title, kept={"uniform": answer}, n=n, x_range=x_range, start=first)
    return guess_overlay(fig, guess, answer)


def window_columns(rows: list[tuple[str, np.ndarray]], first: int) -> dict[str, np.ndarray]:
    """Exact values of a window of the tree: time and every level."""
    return {"t": first + np.arange(rows[0][1].size), **{label: values for label, values in rows}}


# --- Kept cells -----------------------------------------------------------------------------------


def _tree_chart(v: TreeselectView) -> None:
    """The tree around n with each rule's kept cells outlined; a click on a kept cell inspects it."""
    n, first, picked, span = v.n, v.first, v.picked, v.focus_span
    shown_rows = v.tree_rows()
    focus = (cell_label(picked[1]), picked[2], *span) if picked else None
    event = show_chart(cached_figure(tree_heatmap, shown_rows,
                                     f"The tree over the last {n + 1 - first} samples, memory kept at n = {n}",
                                     kept={s: cell_coords(c) for s, c in v.analysis.cells.items()}, n=n,
                                     x_range=v.x_range, start=first, focus=focus, height=330 if presenting() else None),
                       key="ts_tree_heatmap", exact=lambda: window_columns(shown_rows.value, first),
                       file_name="treeselect_window.csv", on_select="rerun", selection_mode="points")
    clicked = [(p.get("y"), p.get("x")) for p in (event.selection.points if event else [])]
    by_cell = {(cell_label(slot), t): key for key, (_, slot, t) in v.choices.items()}
    hit = next((by_cell[c] for c in clicked if c in by_cell), None)
    if hit is not None and state.once_per("_ts_clicked", clicked):
        state.put("ts_cell", hit)
        st.rerun()
    st.caption("Squares outline the cells each rule keeps at n (colour = rule, with a white rim; nested squares "
               "= kept by several). Cells: red positive, dark grey negative, white near 0. "
               "Click a kept cell, or pick one below, to shade the span of the past it reads. "
               f"Tree: {v.source} (k = {v.k} taps), depth J = {v.depth} (the layer's), on the sidebar signal "
               f"**{plain(v.signal_name)}** ({v.x.size} samples); Options: other filters, fewer rules.")


def _rule_columns(v: TreeselectView) -> None:
    """Per rule: its colour, how many cells it keeps at n, the rule in one line and the cells themselves."""
    for column, (rule, kept) in zip(st.columns(len(v.rules)), v.analysis.cells.items()):
        with column:
            st.markdown(f"<span style='color:{TREE_SELECT_COLORS[rule]}; font-weight:600'>■ {v.labels[rule]}</span>",
                        unsafe_allow_html=True)
            st.metric(f"Cells kept at n · {TREE_SELECT_LABELS[rule]}", len(kept),
                      help="Slots whose time n − lag falls before 0 are not available yet.")
            st.markdown(rule_line(rule, v.rules[rule], v.depth, v.k, list(v.conv.slots) if rule == "learned" else None),
                        unsafe_allow_html=True)
            nbsp = "\u00a0"  # with the minus sign below, keeps "b4[n−16] (t = 495)" on one line
            st.markdown(" · ".join(f"**{str(s).replace('-', '−')}**" + (f"{nbsp}(t{nbsp}={nbsp}{t})" if s.lag else "")
                                   for s, t in kept)
                        if kept else "*none yet*", help="Each slot, and the time it reads when it lags behind n.")


def kept_cells_tab(v: TreeselectView) -> None:
    """The tree with the kept cells, the rules side by side, and the inspected cell."""
    _tree_chart(v)
    _rule_columns(v)
    choices, picked, span = v.choices, v.picked, v.focus_span
    st.selectbox("Inspect a kept cell", [None, *choices], key="ts_cell",
                 format_func=lambda c: "— none —" if c is None else
                 f"{TREE_SELECT_LABELS[choices[c][0]]}: {choices[c][1]} (t = {choices[c][2]})",
                 help="Shades the samples this cell depends on here, on the reconstruction, and its row in the "
                      "slot contributions of the layer's kernel.")
    if picked:
        st.markdown(f"**{picked[1]}** at t = {picked[2]} reads x[{span[0]}..{span[1]}]: "
                    f"{span[1] - span[0] + 1} samples (level {picked[1].level}: "
                    f"(k−1)(2<sup>{picked[1].level}</sup>−1)+1 = {receptive_field(picked[1].level, v.k)}).",
                    unsafe_allow_html=True)


# --- What it remembers ----------------------------------------------------------------------------


def remembers_tab(v: TreeselectView) -> None:
    """The minimum-norm reconstruction of the past from each memory, and its recall per lag."""
    analysed, window, note = v.analysis.analysed, v.analysis.window, v.analysis.note
    analysed_keys = tuple((rule, slot_key(slots)) for rule, slots in analysed.items())
    t, x_window, recon = reconstructions(v.x, v.n, v.h0, v.h1, analysed_keys, v.depth, window)
    lags, r2 = capacities(v.h0, v.h1, analysed_keys, v.depth, window)
    if not analysed:
        st.info(f"Every kept slot reads further back than the {window} samples this page analyses.{note}")
        return
    left, right = st.columns(2, gap="large")
    with left:
        show_chart(cached_figure(reconstruction_figure, t, x_window, recon, v.n, v.labels, span=v.focus_span),
                   key="ts_reconstruction", exact=lambda: {"t": t, "x": x_window, **recon},
                   file_name="treeselect_reconstruction.csv")
        st.caption("Grey: the signal over the samples the memory depends on; coloured: the minimum-norm signal that "
                   "gives the same memory. Where a curve follows grey the memory remembers; where it is flat it keeps "
                   "only an average." + note)
    with right:
        show_chart(cached_figure(capacity_figure, lags, r2, v.labels), key="ts_capacity",
                   exact=lambda: {"lag": lags, **r2}, file_name="treeselect_capacity.csv")
        st.caption("For white-noise input: the fraction of x[n − τ] a linear readout recovers from the memory (1 = exact, "
                   "0 = forgotten). The reconstruction error per lag is 1 − this curve; the legend's total is at most "
                   "the number of slots.")
    for column, rule in zip(st.columns(len(analysed)), analysed):
        rmse = float(np.sqrt(np.mean((recon[rule] - x_window) ** 2)))
        column.metric(f"Reconstruction RMSE · {TREE_SELECT_LABELS[rule]}", f"{rmse:.3g}",
                      help="Root-mean-square error of the reconstruction on this window.")


# --- Predict, then reveal ---------------------------------------------------------------------------


def _cells_question(v: TreeselectView) -> None:
    """Which cells will uniform keep at a given M? The answer outlined on the tree, the guesses marked."""
    depth, k, n = v.depth, v.k, v.n
    st.markdown(f"#### 1. Which cells will uniform keep at a given M? (J = {depth}, k = {k})")
    offered = sorted(  # the first cells of the uniform grid, and every level's newest cell (the classic wrong guess)
        {*memory_slots("uniform", depth, k, memory_size=min(v.largest_m, QUESTION_CELLS)),
         *memory_slots("fading", depth, k)},
        key=lambda s: (s.band != "approx", -s.level, s.lag))
    ask, answer_column = st.columns([1, 3], gap="medium")
    question_m = int(ask.select_slider("M in the question", list(range(2, min(10, v.largest_m) + 1)),
                                       value=min(6, v.largest_m), key="ts_q_cells_m"))
    with answer_column:
        asked = predict_then_reveal("ts_q_cells", [str(s) for s in offered], multi=True, context=(question_m, depth, k),
                                    label=f"Your guess: the {question_m} slots uniform keeps")
    if not asked.shown:
        return
    guess = asked.guess
    answer = memory_slots("uniform", depth, k, memory_size=question_m)
    right, guessed = {str(s) for s in answer}, set(guess)
    if guessed == right:
        st.success(f"Right: uniform keeps {', '.join(map(str, answer))}.")
    else:
        st.warning(f"Not quite. Uniform keeps {', '.join(map(str, answer))}."
                   + (f" Not kept: {', '.join(sorted(guessed - right))}." if guessed - right else "")
                   + (f" Missed: {', '.join(s for s in map(str, answer) if s not in guessed)}." if right - guessed else ""))
    st.markdown("Why: " + rule_line("uniform", answer, depth, k), unsafe_allow_html=True)
    by_name = {str(s): s for s in offered}
    show_chart(cached_figure(answer_figure, v.tree_rows(), f"The answer at n = {n}: uniform with M = {question_m}",
                             cell_coords(kept_cells(answer, n)),
                             cell_coords(kept_cells([by_name[g] for g in guess], n)), n, v.x_range, v.first),
               key="ts_q_cells_figure")
    st.caption("Outlined: the cells uniform keeps. White dots: your guesses it keeps; black crosses: guesses it "
               "does not.")


def _lag_question(v: TreeselectView) -> None:
    """Which lag will resolution fading forget first? Answered from fading's recall with the tree's filters."""
    depth, k = v.depth, v.k
    st.markdown("#### 2. Which lag will resolution fading forget first?")
    fading = memory_slots("fading", depth, k)
    st.markdown(f"Counting a lag τ as forgotten once the memory loses more than {FORGET_THRESHOLD:.0%} of x[n − τ] "
                "(white-noise input, the tree's current filters).")
    asked = predict_then_reveal("ts_q_lag", list(range(QUESTION_LAGS)), label="Your guess: the first forgotten lag τ",
                                context=(v.entry.name, v.layer, v.channel, v.use_wavelet, depth))
    if not asked.shown:
        return
    lag_guess = asked.guess
    fading_window = min(memory_span(fading, depth, k), MAX_ANALYSED_WINDOW)
    lag_axis, error = reconstruction_error_by_lag(
        v.h0, v.h1, [slot for slot in fading if memory_span([slot], depth, k) <= fading_window], depth,
        window=fading_window)
    forgotten = np.flatnonzero(error > FORGET_THRESHOLD)
    if not forgotten.size:
        st.info("With these filters fading forgets no lag within its span.")
        return
    answer_lag = int(lag_axis[forgotten[0]])
    verdict = st.success if lag_guess == answer_lag else st.warning
    verdict(f"Fading first forgets τ = {answer_lag} (it loses {error[answer_lag]:.0%} of it)"
            + ("." if lag_guess == answer_lag else f"; you guessed τ = {lag_guess}."))
    st.markdown("Why: fading keeps one cell per level at lag 0, and b<sub>l</sub>[n] mixes the last "
                "(k−1)(2<sup>l</sup>−1)+1 samples. J + 1 numbers can pin down only the newest few samples "
                f"exactly (here τ < {answer_lag}); older ones are known only through averages over longer and "
                "longer spans.", unsafe_allow_html=True)
    show_chart(cached_figure(capacity_figure, lag_axis, {"fading": 1.0 - error}, v.labels,
                             mark_lag=(answer_lag, f"first forgotten: τ = {answer_lag}")),
               key="ts_q_lag_figure")
    st.caption("Fading's R² per lag (1 − reconstruction error); the dotted line is the answer.")


def questions_tab(v: TreeselectView) -> None:
    """Two predict-then-reveal questions: which cells uniform keeps, which lag fading forgets first."""
    _cells_question(v)
    _lag_question(v)


# --- Learned choice, Cost, One long convolution ------------------------------------------------------


def learned_tab(v: TreeselectView) -> None:
    """What each channel of a learned layer kept, and the learned rule in one line."""
    conv, entry, layer, channel = v.conv, v.entry, v.layer, v.channel
    if conv.tree_select != "learned":
        st.info(f"Model {plain(entry.name)} keeps a fixed rule ({TREE_SELECT_LABELS[conv.tree_select]}) and no model "
                "with a learned selection is available: train one on the Train page with the TREESELECT rule "
                "*learned*.")
        return
    most_rows = MAX_SELECTION_ROWS  # rows bounded like every analysis of the memory
    kept_rows = int(conv.slot_mask.numpy().any(axis=0).sum())
    show(cached_figure(selection_figure, learned_selection(list(conv.slots), conv.slot_mask.numpy()), channel,
                       f"What each channel of layer {layer} kept (M = {len(v.model_slots)} of "
                       f"{len(conv.slots)} candidates)", v.depth, int(conv.h0.shape[-1])),
         key="ts_selection_matrix")
    st.caption(f"One column per channel, one row per slot some channel kept; the bars count channels. Channel "
               f"{channel} (outlined) is the one on the other tabs. Look for the slots most channels agree on."
               + (f" Showing the {most_rows} of {kept_rows} kept slots nearest the present (the page draws at "
                  f"most {most_rows} rows, to stay quick)." if kept_rows > most_rows else ""))
    st.markdown(f"**The learned rule ({plain(entry.name)}, layer {layer}).** "
                + rule_line("learned", v.model_slots, v.depth, v.k, list(conv.slots)),
                unsafe_allow_html=True)


def cost_tab(v: TreeselectView) -> None:
    """Numbers held per output step against the sequence length, for every memory."""
    fp = footprint(FOOTPRINT_LENGTHS, depth=None, memory_size=v.memory_size, kernel_size=v.k)
    series = {"full history": fp["full_history_per_step"], "tree": fp["tree_total"],
              "fading": fp["fading_per_step"], "uniform": fp["uniform_per_step"]}
    fp_labels = {"full history": "full history (N)", "tree": "whole undecimated tree (N·(J+1))",
                 "fading": "resolution fading (J+1)", "uniform": f"uniform (M = {v.memory_size})"}
    if "learned" in v.rules:
        series["learned"] = np.full(FOOTPRINT_LENGTHS.shape, len(v.rules["learned"]))
        fp_labels["learned"] = f"learned (M = {len(v.rules['learned'])})"
    show(cached_figure(footprint_figure, FOOTPRINT_LENGTHS, series, fp_labels, current_n=v.x.size), key="ts_footprint")
    st.caption("Numbers held to produce one output at step N (J grows like log₂ N so the tree covers the sequence): "
               "the full history grows linearly, the stored tree like N log N, fading logarithmically, uniform and "
               "learned not at all.")


def kernel_tab(v: TreeselectView) -> None:
    """The layer's impulse response K and what each kept slot adds to it."""
    layer, channel, entry, picked = v.layer, v.channel, v.entry, v.picked
    st.markdown(f"Every slot reads a fixed lag, so the layer is a causal convolution y = K * x. Layer {layer}, channel "
                f"{channel} of **{plain(entry.name)}** ({TREE_SELECT_LABELS[v.conv.tree_select]}), always with its "
                "learned filters. Each heatmap row is one kept slot: its weight times its impulse response, shifted by "
                "its lag.")
    view = kernel_view(entry, layer, channel)
    kernel, contributions, slot_labels = view.kernel, view.contributions, view.labels
    row = view.slots.index(picked[1]) if picked and picked[1] in view.slots else None
    show_chart(cached_figure(kernel_figure, kernel, contributions, slot_labels, view.skip, highlight_row=row),
               key="ts_kernel", exact=lambda: {"m": np.arange(kernel.size), "K": kernel,
                                               **dict(zip(slot_labels, contributions))},
               file_name="treeselect_kernel.csv")
    st.caption("Top: the impulse response K[m] (how much x[n − m] moves y[n]). Bottom: what each slot adds (red "
               "positive, dark grey negative); the columns "
               f"plus the skip weight at m = 0 sum to K (largest mismatch {view.residual:.1e})."
               + (f" Drawn up to m = {kernel.size - 1} (the page's analysis limit); the kernel reaches "
                  "further." if view.cut else "")
               + (f" Showing the {len(view.slots)} of {view.total_slots} slots nearest the present (the page draws "
                  f"at most {len(view.slots)} rows here, to stay quick); K on top sums all of them."
                  if view.total_slots > len(view.slots) else "")
               + (f" Outlined: the inspected cell's slot {picked[1]}." if row is not None else ""))
