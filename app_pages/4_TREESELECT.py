"""TREESELECT memory: which tree coefficients each TREESELECT rule keeps, what they remember, what they cost."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from multires import kept_cells, max_uniform_memory, memory_slots, wavelet_filters
from multires.analysis.footprint import footprint
from multires.analysis.memory import (
    cell_span,
    memory_span,
    nearest_slots,
    reconstruction_error_by_lag,
    shared_analysed_slots,
)
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
from multires.treeselect import Slot, receptive_field
from ui import defaults, links, pickers, state
from ui.charts import presenting, show
from ui.class_question import class_question
from ui.figure_cache import Named, cached_figure
from ui.models import ModelEntry, all_models, model_filters
from ui.reduced import show_chart
from ui.reveal import predict_then_reveal
from ui.safe_text import plain
from ui.trees import tree_rows
from ui.treeselect_data import (
    MAX_SELECTION_ROWS,
    capacities,
    kernel_view,
    learned_selection,
    reconstructions,
    selection_figure,
    slot_key,
)
from ui.uniform_test import show_uniform_test

FOOTPRINT_LENGTHS = 2 ** np.arange(4, 15)  # N = 16 .. 16384
#: A lag counts as "forgotten" once the memory loses more than this fraction of it (white noise).
FORGET_THRESHOLD = 0.1
QUESTION_LAGS = 16  # lags offered by the "which lag is forgotten first" question
QUESTION_CELLS = 16  # uniform cells offered by the "which cells" question

def page_model(sidebar: ModelEntry, notice) -> ModelEntry:
    """The sidebar's model if it learned a selection, else a page-level pick defaulting to a shipped learned one.

    A page that overrides the sidebar's choice says so beside the picker, where the eye already is.
    """
    models = all_models()
    learned = [name for name, e in models.items() if e.config.tree_select == "learned" and name != sidebar.name]
    if sidebar.config.tree_select == "learned" or not learned:
        st.markdown(f"Model: **{plain(sidebar.name)}** (the sidebar's)")
        return sidebar
    options = learned + [sidebar.name]
    default = defaults.default_learned_model(options)
    name = st.selectbox("Model (this page only)", options, index=default,
                        key=f"ts_model_{sidebar.name}",
                        help="Pick the sidebar's model here to use it on this page too.")
    if name != sidebar.name:  # one line above the controls, where the eye already is
        notice.markdown(f":orange-badge[:material/swap_horiz: Not the sidebar's model] This page shows "
                        f"**{plain(name)}**, which learned its own selection; the sidebar's **{plain(sidebar.name)}** "
                        f"keeps a fixed rule ({TREE_SELECT_LABELS[sidebar.config.tree_select]}).")
    return models[name]


def candidate_line(candidates: list[Slot]) -> str:
    """The learned rule's candidate cells, level by level, as they are: e.g. "b1 at lags 0, 2, 4"."""
    by_row: dict[str, list[int]] = {}
    for slot in candidates:
        by_row.setdefault(f"{'a' if slot.band == 'approx' else 'b'}{slot.level}", []).append(slot.lag)
    return "; ".join(f"{row} at lag{'s' if len(lags) > 1 else ''} {', '.join(map(str, sorted(lags)))}"
                     for row, lags in by_row.items())


def rule_line(rule: str, slots: list[Slot], depth: int, k: int, candidates: list[Slot] | None = None) -> str:
    """The rule in one line, with this page's numbers."""
    if rule == "fading":
        return (f"One cell per level, all at lag 0: a{depth}[n], b{depth}[n], …, b1[n], so J + 1 = {depth + 1} numbers. "
                f"b<sub>l</sub>[n] reads the last (k−1)(2<sup>l</sup>−1)+1 samples: fine levels the recent past, "
                "coarse levels the distant past.")
    if rule == "uniform":
        finest = min((s.level for s in slots if s.band == "detail"), default=depth + 1)
        starved = (f" At M = {len(slots)} the finer levels b{finest - 1}…b1 get nothing: the coarse levels use the budget "
                   "first." if finest > 1 else "")
        return (f"M = {len(slots)} slots on each level's decimated grid, coarsest first: a{depth}[n], b{depth}[n], then "
                f"b<sub>l</sub> at lags 0, 2<sup>l</sup>, 2·2<sup>l</sup>, … ({k}, {3 * k - 2}, {7 * k - 6}, … slots per "
                f"level) until M are used.{starved}")
    offered = (f"the {len(candidates)} candidate cells ({candidate_line(candidates)})" if candidates
               else "its candidate cells")
    return (f"Training scored {offered} by |w<sub>s</sub>|·‖g<sub>s</sub>‖ (weight × norm of its impulse "
            f"response) and pruned each channel to its top M = {len(slots)}.")


def answer_figure(rows: list[tuple[str, np.ndarray]], title: str, answer: list[tuple[str, int]],
                  guess: list[tuple[str, int]], n: int, x_range: tuple[float, float], first: int):
    """The tree with the cells uniform keeps outlined and the student's guesses marked."""
    fig = tree_heatmap(rows, title, kept={"uniform": answer}, n=n, x_range=x_range, start=first)
    return guess_overlay(fig, guess, answer)


def window_columns(rows: list[tuple[str, np.ndarray]], first: int) -> dict[str, np.ndarray]:
    """Exact values of a window of the tree: time and every level."""
    return {"t": first + np.arange(rows[0][1].size), **{label: values for label, values in rows}}


st.title("TREESELECT: what the memory keeps")
st.markdown("At every step *n* the layer keeps a few cells of its tree, at fixed lags behind *n*, and mixes them "
            "linearly.")

sel = pickers.selection()
notice = st.container()
top = st.columns([3, 3, 3, 1.7], gap="medium", vertical_alignment="bottom")
with top[0]:
    entry = page_model(sel.entry, notice)
with notice:
    pickers.member_picker(entry)  # a seed ensemble: which of its models entry.net is
layer = min(sel.layer, entry.config.n_layers - 1)
channel = min(sel.channel, entry.config.d_model - 1)
conv = entry.net.convs[layer]
depth = conv.depth
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
if use_wavelet:
    h0, h1 = wavelet_filters(sel.wavelet)
    source = f"the fixed wavelet **{sel.wavelet}**"
else:
    h0, h1 = model_filters(entry, layer, channel)
    source = f"the learned h0/h1 of model **{plain(entry.name)}**, layer {layer}, channel {channel}"
k = int(h0.size)
largest_m = min(max_uniform_memory(depth, k), MAX_ANALYSED_WINDOW)  # more slots than samples analysed: no use
default_m = int(min(conv.memory_size or depth + 1, largest_m))
if state.once_per("_ts_m_source", (entry.name, layer, k)):  # M's default belongs to the model shown
    state.drop("ts_memory_size")
linked_n = links.link_time_step(n_samples)  # a shared link's ?n=..., once
if linked_n is not None:
    state.put("ts_n", linked_n)
elif not 0 <= state.get("ts_n", -1) <= n_samples - 1:  # first visit, or a shorter signal now
    state.put("ts_n", n_samples - 1)
with top[1]:  # the value comes from session state only (a value= as well made Streamlit warn for linked n)
    n = int(st.slider("Time step n (samples)", 0, n_samples - 1, key="ts_n",
                      help="The memory is read at this time step of the sidebar's signal (shared links keep it as n)."))
links.share_time_step(n)
with top[2]:
    memory_size = int(st.slider("Memory size M (uniform)", 1, largest_m, default_m, key="ts_memory_size",
                                help=f"Slots the uniform rule keeps, 1..{largest_m}. The default matches "
                                     f"{'the model' if conv.memory_size else 'resolution fading (J + 1)'}."))

rules: dict[str, list[Slot]] = {
    "fading": memory_slots("fading", depth, k),
    "uniform": memory_slots("uniform", depth, k, memory_size=memory_size),
}
labels = {"fading": f"resolution fading (J + 1 = {depth + 1})", "uniform": f"uniform (M = {memory_size})"}
model_slots, model_weights = entry.net.memory(layer, channel)
if conv.tree_select == "learned":
    rules["learned"] = model_slots
    labels["learned"] = f"learned by the model (M = {len(model_slots)})"
with rules_slot.container():
    shown = st.multiselect("Rules to compare", list(rules), default=list(rules),
                           format_func=lambda s: TREE_SELECT_LABELS[s],
                           # its own state when a learned selection is on offer, so it starts with every rule
                           key="ts_strategies_learned" if "learned" in rules else "ts_strategies")
rules = {s: slots for s, slots in rules.items() if s in shown}
if not rules:
    st.info("Pick at least one rule under Options.")
    st.stop()

cells = {s: kept_cells(slots, n) for s, slots in rules.items()}
full_window = max(memory_span(slots, depth, k) for slots in rules.values())
window = min(full_window, MAX_ANALYSED_WINDOW)  # a page never analyses more past samples than this
#: What "What it remembers" analyses: with a capped window, only the slots that read inside it.
analysed = {s: [slot for slot in slots if memory_span([slot], depth, k) <= window] for s, slots in rules.items()}
analysed = {s: slots for s, slots in analysed.items() if slots}
# The analyses' work grows as slots² x window (multires.analysis.memory.max_analysed_slots), and the rules shown
# share one bound: past it a page keeps each memory's slots nearest the present and says so, so no legal
# checkpoint costs much more than the shipped models.
most_slots = shared_analysed_slots({s: len(slots) for s, slots in analysed.items()}, window)
reduced_slots = {s: len(slots) for s, slots in analysed.items() if len(slots) > most_slots[s]}
analysed = {s: nearest_slots(slots, depth, k, most_slots[s]) for s, slots in analysed.items()}
slot_note = "".join(f" The {rule} memory keeps {count} slots here; the page analyses the {most_slots[rule]} "
                    "nearest the present (the work grows with the square of the slots)."
                    for rule, count in reduced_slots.items())
cap_note = slot_note + (f" This memory reaches {full_window} samples back; the page analyses only the last {window} (to stay "
            "quick), leaving out the slots that read further." if full_window > window else "")

# --- the inspected cell (linked views) -------------------------------------------------------
choices = {f"{s}:{slot}": (s, slot, t) for s, kept in cells.items() for slot, t in kept}
if state.get("ts_cell") not in choices:
    state.drop("ts_cell")
picked = choices.get(state.get("ts_cell"))
focus_span = cell_span(picked[1], picked[2], k) if picked else None

tabs = st.tabs(["Kept cells", "What it remembers", "Predict, then reveal", "Learned choice", "Cost",
                "One long convolution"])

with tabs[0]:
    rows = tree_rows(x, h0, h1, depth)
    first = max(0, n - window - 1)
    # the window of the tree the charts draw, named by its inputs: hashing 2 filters and a digest of x is cheaper
    # than hashing the J + 1 rows on every rerun
    shown_rows = Named((hashlib.sha256(x.tobytes()).hexdigest(), h0.tobytes(), h1.tobytes(), depth, first, n),
                       [(label, values[first : n + 1]) for label, values in rows])
    x_range = (first - 0.5, n + max(3, window // 6) + 0.5)
    focus = (cell_label(picked[1]), picked[2], *focus_span) if picked else None
    event = show_chart(cached_figure(tree_heatmap, shown_rows,
                                     f"The tree over the last {n + 1 - first} samples, memory kept at n = {n}",
                                     kept={s: cell_coords(c) for s, c in cells.items()}, n=n, x_range=x_range,
                                     start=first, focus=focus, height=330 if presenting() else None),
                       key="ts_tree_heatmap", exact=lambda: window_columns(shown_rows.value, first),
                       file_name="treeselect_window.csv", on_select="rerun", selection_mode="points")
    clicked = [(p.get("y"), p.get("x")) for p in (event.selection.points if event else [])]
    by_cell = {(cell_label(slot), t): key for key, (_, slot, t) in choices.items()}
    hit = next((by_cell[c] for c in clicked if c in by_cell), None)
    if hit is not None and state.once_per("_ts_clicked", clicked):
        state.put("ts_cell", hit)
        st.rerun()
    st.caption("Squares outline the cells each rule keeps at n (colour = rule, with a white rim; nested squares "
               "= kept by several). Cells: red positive, dark grey negative, white near 0. "
               "Click a kept cell, or pick one below, to shade the span of the past it reads. "
               f"Tree: {source} (k = {k} taps), depth J = {depth} (the layer's), on the sidebar signal "
               f"**{plain(sel.signal_name)}** ({n_samples} samples); Options: other filters, fewer rules.")
    kept_columns = st.columns(len(rules))
    for column, (rule, kept) in zip(kept_columns, cells.items()):
        with column:
            st.markdown(f"<span style='color:{TREE_SELECT_COLORS[rule]}; font-weight:600'>■ {labels[rule]}</span>",
                        unsafe_allow_html=True)
            st.metric(f"Cells kept at n · {TREE_SELECT_LABELS[rule]}", len(kept),
                      help="Slots whose time n − lag falls before 0 are not available yet.")
            st.markdown(rule_line(rule, rules[rule], depth, k, list(conv.slots) if rule == "learned" else None),
                        unsafe_allow_html=True)
            nbsp = "\u00a0"  # with the minus sign below, keeps "b4[n−16] (t = 495)" on one line
            st.markdown(" · ".join(f"**{str(s).replace('-', '−')}**" + (f"{nbsp}(t{nbsp}={nbsp}{t})" if s.lag else "")
                                   for s, t in kept)
                        if kept else "*none yet*", help="Each slot, and the time it reads when it lags behind n.")
    st.selectbox("Inspect a kept cell", [None, *choices], key="ts_cell",
                 format_func=lambda c: "— none —" if c is None else
                 f"{TREE_SELECT_LABELS[choices[c][0]]}: {choices[c][1]} (t = {choices[c][2]})",
                 help="Shades the samples this cell depends on here, on the reconstruction, and its row in the "
                      "slot contributions of the layer's kernel.")
    if picked:
        st.markdown(f"**{picked[1]}** at t = {picked[2]} reads x[{focus_span[0]}..{focus_span[1]}]: "
                    f"{focus_span[1] - focus_span[0] + 1} samples (level {picked[1].level}: "
                    f"(k−1)(2<sup>{picked[1].level}</sup>−1)+1 = {receptive_field(picked[1].level, k)}).",
                    unsafe_allow_html=True)

with tabs[1]:
    analysed_keys = tuple((rule, slot_key(slots)) for rule, slots in analysed.items())
    t, x_window, recon = reconstructions(x, n, h0, h1, analysed_keys, depth, window)
    lags, r2 = capacities(h0, h1, analysed_keys, depth, window)
    if not analysed:
        st.info(f"Every kept slot reads further back than the {window} samples this page analyses.{cap_note}")
    else:
        left, right = st.columns(2, gap="large")
        with left:
            show_chart(cached_figure(reconstruction_figure, t, x_window, recon, n, labels, span=focus_span),
                       key="ts_reconstruction", exact=lambda: {"t": t, "x": x_window, **recon},
                       file_name="treeselect_reconstruction.csv")
            st.caption("Grey: the signal over the samples the memory depends on; coloured: the minimum-norm signal that "
                       "gives the same memory. Where a curve follows grey the memory remembers; where it is flat it keeps "
                       "only an average." + cap_note)
        with right:
            show_chart(cached_figure(capacity_figure, lags, r2, labels), key="ts_capacity",
                       exact=lambda: {"lag": lags, **r2}, file_name="treeselect_capacity.csv")
            st.caption("For white-noise input: the fraction of x[n − τ] a linear readout recovers from the memory (1 = exact, "
                       "0 = forgotten). The reconstruction error per lag is 1 − this curve; the legend's total is at most "
                       "the number of slots.")
        metric_columns = st.columns(len(analysed))
        for column, rule in zip(metric_columns, analysed):
            rmse = float(np.sqrt(np.mean((recon[rule] - x_window) ** 2)))
            column.metric(f"Reconstruction RMSE · {TREE_SELECT_LABELS[rule]}", f"{rmse:.3g}",
                          help="Root-mean-square error of the reconstruction on this window.")

with tabs[2]:
    st.markdown(f"#### 1. Which cells will uniform keep at a given M? (J = {depth}, k = {k})")
    offered = sorted(  # the first cells of the uniform grid, and every level's newest cell (the classic wrong guess)
        {*memory_slots("uniform", depth, k, memory_size=min(largest_m, QUESTION_CELLS)), *memory_slots("fading", depth, k)},
        key=lambda s: (s.band != "approx", -s.level, s.lag))
    ask, answer_column = st.columns([1, 3], gap="medium")
    question_m = int(ask.select_slider("M in the question", list(range(2, min(10, largest_m) + 1)),
                                       value=min(6, largest_m), key="ts_q_cells_m"))
    with answer_column:
        asked = predict_then_reveal("ts_q_cells", [str(s) for s in offered], multi=True, context=(question_m, depth, k),
                                    label=f"Your guess: the {question_m} slots uniform keeps")
    guess = asked.guess
    if asked.shown:
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
        show_chart(cached_figure(answer_figure, shown_rows, f"The answer at n = {n}: uniform with M = {question_m}",
                                 cell_coords(kept_cells(answer, n)),
                                 cell_coords(kept_cells([by_name[g] for g in guess], n)), n, x_range, first),
                   key="ts_q_cells_figure")
        st.caption("Outlined: the cells uniform keeps. White dots: your guesses it keeps; black crosses: guesses it "
                   "does not.")

    st.markdown("#### 2. Which lag will resolution fading forget first?")
    fading = memory_slots("fading", depth, k)
    st.markdown(f"Counting a lag τ as forgotten once the memory loses more than {FORGET_THRESHOLD:.0%} of x[n − τ] "
                "(white-noise input, the tree's current filters).")
    asked_lag = predict_then_reveal("ts_q_lag", list(range(QUESTION_LAGS)), label="Your guess: the first forgotten lag τ",
                                    context=(entry.name, layer, channel, use_wavelet, depth))
    lag_guess = asked_lag.guess
    if asked_lag.shown:
        fading_window = min(memory_span(fading, depth, k), MAX_ANALYSED_WINDOW)
        lag_axis, error = reconstruction_error_by_lag(
            h0, h1, [slot for slot in fading if memory_span([slot], depth, k) <= fading_window], depth,
            window=fading_window)
        forgotten = np.flatnonzero(error > FORGET_THRESHOLD)
        answer_lag = int(lag_axis[forgotten[0]]) if forgotten.size else None
        if answer_lag is None:
            st.info("With these filters fading forgets no lag within its span.")
        else:
            verdict = st.success if lag_guess == answer_lag else st.warning
            verdict(f"Fading first forgets τ = {answer_lag} (it loses {error[answer_lag]:.0%} of it)"
                    + ("." if lag_guess == answer_lag else f"; you guessed τ = {lag_guess}."))
            st.markdown("Why: fading keeps one cell per level at lag 0, and b<sub>l</sub>[n] mixes the last "
                        "(k−1)(2<sup>l</sup>−1)+1 samples. J + 1 numbers can pin down only the newest few samples "
                        f"exactly (here τ < {answer_lag}); older ones are known only through averages over longer and "
                        "longer spans.", unsafe_allow_html=True)
            show_chart(cached_figure(capacity_figure, lag_axis, {"fading": 1.0 - error}, labels,
                                     mark_lag=(answer_lag, f"first forgotten: τ = {answer_lag}")),
                       key="ts_q_lag_figure")
            st.caption("Fading's R² per lag (1 − reconstruction error); the dotted line is the answer.")

with tabs[3]:
    if conv.tree_select != "learned":
        st.info(f"Model {plain(entry.name)} keeps a fixed rule ({TREE_SELECT_LABELS[conv.tree_select]}) and no model "
                "with a learned selection is available: train one on the Train page with the TREESELECT rule "
                "*learned*.")
    else:
        most_rows = MAX_SELECTION_ROWS  # rows bounded like every analysis of the memory
        kept_rows = int(conv.slot_mask.numpy().any(axis=0).sum())
        show(cached_figure(selection_figure, learned_selection(list(conv.slots), conv.slot_mask.numpy()), channel,
                           f"What each channel of layer {layer} kept (M = {len(model_slots)} of "
                           f"{len(conv.slots)} candidates)", depth, int(conv.h0.shape[-1])),
             key="ts_selection_matrix")
        st.caption(f"One column per channel, one row per slot some channel kept; the bars count channels. Channel "
                   f"{channel} (outlined) is the one on the other tabs. Look for the slots most channels agree on."
                   + (f" Showing the {most_rows} of {kept_rows} kept slots nearest the present (the page draws at "
                      f"most {most_rows} rows, to stay quick)." if kept_rows > most_rows else ""))
        st.markdown(f"**The learned rule ({plain(entry.name)}, layer {layer}).** "
                    + rule_line("learned", model_slots, depth, k, list(conv.slots)),
                    unsafe_allow_html=True)

with tabs[4]:
    fp = footprint(FOOTPRINT_LENGTHS, depth=None, memory_size=memory_size, kernel_size=k)
    series = {"full history": fp["full_history_per_step"], "tree": fp["tree_total"],
              "fading": fp["fading_per_step"], "uniform": fp["uniform_per_step"]}
    fp_labels = {"full history": "full history (N)", "tree": "whole undecimated tree (N·(J+1))",
                 "fading": "resolution fading (J+1)", "uniform": f"uniform (M = {memory_size})"}
    if "learned" in rules:
        series["learned"] = np.full(FOOTPRINT_LENGTHS.shape, len(rules["learned"]))
        fp_labels["learned"] = f"learned (M = {len(rules['learned'])})"
    show(cached_figure(footprint_figure, FOOTPRINT_LENGTHS, series, fp_labels, current_n=n_samples), key="ts_footprint")
    st.caption("Numbers held to produce one output at step N (J grows like log₂ N so the tree covers the sequence): "
               "the full history grows linearly, the stored tree like N log N, fading logarithmically, uniform and "
               "learned not at all.")

with tabs[5]:
    st.markdown(f"Every slot reads a fixed lag, so the layer is a causal convolution y = K * x. Layer {layer}, channel "
                f"{channel} of **{plain(entry.name)}** ({TREE_SELECT_LABELS[conv.tree_select]}), always with its learned filters. "
                "Each heatmap row is one kept slot: its weight times its impulse response, shifted by its lag.")
    view = kernel_view(entry, layer, channel)
    kernel, contributions, slot_labels, kernel_cut = view.kernel, view.contributions, view.labels, view.cut
    row = view.slots.index(picked[1]) if picked and picked[1] in view.slots else None
    show_chart(cached_figure(kernel_figure, kernel, contributions, slot_labels, view.skip, highlight_row=row),
               key="ts_kernel", exact=lambda: {"m": np.arange(kernel.size), "K": kernel,
                                               **dict(zip(slot_labels, contributions))},
               file_name="treeselect_kernel.csv")
    residual = view.residual
    st.caption("Top: the impulse response K[m] (how much x[n − m] moves y[n]). Bottom: what each slot adds (red "
               "positive, dark grey negative); the columns "
               f"plus the skip weight at m = 0 sum to K (largest mismatch {residual:.1e})."
               + (f" Drawn up to m = {kernel.size - 1} (the page's analysis limit); the kernel reaches "
                  "further." if kernel_cut else "")
               + (f" Showing the {len(view.slots)} of {view.total_slots} slots nearest the present (the page draws "
                  f"at most {len(view.slots)} rows here, to stay quick); K on top sums all of them."
                  if view.total_slots > len(view.slots) else "")
               + (f" Outlined: the inspected cell's slot {picked[1]}." if row is not None else ""))

show_uniform_test("ts_uniform_test")  # when uniform wins: the distant-windows comparison (ui/uniform_test.py)

class_question(entry, key="ts_class")
