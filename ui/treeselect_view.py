"""What the TREESELECT page shows, from its controls: the model, the tree's filters, the rules compared, what
each keeps at step n and the part of it the page analyses, and the inspected cell.

The page draws the controls and calls these; :mod:`ui.treeselect_tabs` draws the tabs from the
:class:`TreeselectView` they build. The cached computations behind the charts are in :mod:`ui.treeselect_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from multires import kept_cells, max_uniform_memory, memory_slots, wavelet_filters
from multires.analysis.memory import cell_span, memory_span, nearest_slots, shared_analysed_slots
from multires.figures.style import TREE_SELECT_LABELS
from multires.options import MAX_ANALYSED_WINDOW
from multires.treeselect import Slot
from ui import defaults, links, state
from ui.figure_cache import Named
from ui.models import ModelEntry, all_models, model_filters
from ui.safe_text import plain
from ui.trees import tree_window

__all__ = ["Analysis", "Cell", "TreeselectView", "analyse", "candidate_line", "inspected_cell", "memory_sizes",
           "page_model", "prepare_time_step", "rule_line", "rules_on_offer", "tree_filters"]

#: A kept cell a student can inspect: its rule, its slot and the time it reads.
Cell = tuple[str, Slot, int]


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


def tree_filters(entry: ModelEntry, layer: int, channel: int, use_wavelet: bool,
                 wavelet: str) -> tuple[np.ndarray, np.ndarray, str]:
    """The tree's filters h0, h1 (the fixed wavelet's, or the model's learned ones) and where they come from."""
    if use_wavelet:
        h0, h1 = wavelet_filters(wavelet)
        return h0, h1, f"the fixed wavelet **{wavelet}**"
    h0, h1 = model_filters(entry, layer, channel)
    return h0, h1, f"the learned h0/h1 of model **{plain(entry.name)}**, layer {layer}, channel {channel}"


def memory_sizes(entry: ModelEntry, layer: int, k: int) -> tuple[int, int]:
    """The uniform rule's largest M on this page and its default (the model's M, else fading's J + 1).

    The default belongs to the model shown: a new model, layer or filter length resets the slider to it.
    """
    conv = entry.net.convs[layer]
    largest = min(max_uniform_memory(conv.depth, k), MAX_ANALYSED_WINDOW)  # more slots than samples analysed: no use
    if state.once_per("_ts_m_source", (entry.name, layer, k)):
        state.drop("ts_memory_size")
    return largest, int(min(conv.memory_size or conv.depth + 1, largest))


def prepare_time_step(n_samples: int) -> None:
    """Before the time-step slider is drawn: a shared link's ``?n=...`` (once), else keep ``n`` on the signal."""
    linked_n = links.link_time_step(n_samples)
    if linked_n is not None:
        state.put("ts_n", linked_n)
    elif not 0 <= state.get("ts_n", -1) <= n_samples - 1:  # first visit, or a shorter signal now
        state.put("ts_n", n_samples - 1)


def rules_on_offer(conv: Any, model_slots: list[Slot], k: int,
                   memory_size: int) -> tuple[dict[str, list[Slot]], dict[str, str]]:
    """Every rule the page can compare (fading, uniform at ``memory_size``, the model's learned one) and its label."""
    depth = conv.depth
    rules = {"fading": memory_slots("fading", depth, k),
             "uniform": memory_slots("uniform", depth, k, memory_size=memory_size)}
    labels = {"fading": f"resolution fading (J + 1 = {depth + 1})", "uniform": f"uniform (M = {memory_size})"}
    if conv.tree_select == "learned":
        rules["learned"] = model_slots
        labels["learned"] = f"learned by the model (M = {len(model_slots)})"
    return rules, labels


@dataclass(frozen=True)
class Analysis:
    """What the rules shown keep at step n, and the part of it the page analyses."""

    cells: dict[str, list[tuple[Slot, int]]]  # per rule: each kept slot and the time it reads
    window: int  # past samples analysed (at most MAX_ANALYSED_WINDOW)
    analysed: dict[str, list[Slot]]  # per rule: the slots analysed (inside the window, within the work bound)
    note: str  # what the page left out, for the captions ("" when nothing)


def analyse(rules: dict[str, list[Slot]], depth: int, k: int, n: int) -> Analysis:
    """The cells each rule keeps at ``n`` and what the page analyses of them.

    The analyses' work grows as slots² x window (:func:`multires.analysis.memory.max_analysed_slots`), and
    the rules shown share one bound: past it the page keeps each memory's slots nearest the present and
    says so, so no legal checkpoint costs much more than the shipped models.
    """
    cells = {s: kept_cells(slots, n) for s, slots in rules.items()}
    full_window = max(memory_span(slots, depth, k) for slots in rules.values())
    window = min(full_window, MAX_ANALYSED_WINDOW)  # a page never analyses more past samples than this
    # with a capped window, only the slots that read inside it
    analysed = {s: [slot for slot in slots if memory_span([slot], depth, k) <= window] for s, slots in rules.items()}
    analysed = {s: slots for s, slots in analysed.items() if slots}
    most_slots = shared_analysed_slots({s: len(slots) for s, slots in analysed.items()}, window)
    reduced_slots = {s: len(slots) for s, slots in analysed.items() if len(slots) > most_slots[s]}
    analysed = {s: nearest_slots(slots, depth, k, most_slots[s]) for s, slots in analysed.items()}
    note = "".join(f" The {rule} memory keeps {count} slots here; the page analyses the {most_slots[rule]} "
                   "nearest the present (the work grows with the square of the slots)."
                   for rule, count in reduced_slots.items())
    note += (f" This memory reaches {full_window} samples back; the page analyses only the last {window} (to stay "
             "quick), leaving out the slots that read further." if full_window > window else "")
    return Analysis(cells, window, analysed, note)


def inspected_cell(cells: dict[str, list[tuple[Slot, int]]], k: int) -> tuple[dict[str, Cell], Cell | None,
                                                                            tuple[int, int] | None]:
    """The kept cells on offer to inspect (by their picker key), the one inspected and the span of the past it
    reads (a cell no rule keeps any more is forgotten)."""
    choices = {f"{s}:{slot}": (s, slot, t) for s, kept in cells.items() for slot, t in kept}
    if state.get("ts_cell") not in choices:
        state.drop("ts_cell")
    picked = choices.get(state.get("ts_cell"))
    return choices, picked, cell_span(picked[1], picked[2], k) if picked else None


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


@dataclass(frozen=True)
class TreeselectView:
    """Everything the TREESELECT tabs draw from: the page's controls and what they select."""

    entry: ModelEntry
    layer: int
    channel: int
    x: np.ndarray  # the sidebar's signal
    signal_name: str
    h0: np.ndarray  # the tree's filters (fixed wavelet or learned)
    h1: np.ndarray
    source: str  # where h0, h1 come from, for captions
    use_wavelet: bool
    n: int  # the time step
    memory_size: int  # uniform's M
    largest_m: int
    rules: dict[str, list[Slot]]  # the rules shown
    labels: dict[str, str]
    model_slots: list[Slot]  # the layer's own memory (channel ``channel``)
    analysis: Analysis
    choices: dict[str, Cell]  # the kept cells on offer to inspect
    picked: Cell | None  # the inspected cell
    focus_span: tuple[int, int] | None  # the past it reads

    @property
    def conv(self) -> Any:
        return self.entry.net.convs[self.layer]

    @property
    def depth(self) -> int:
        return self.conv.depth

    @property
    def k(self) -> int:
        return int(self.h0.size)

    @property
    def first(self) -> int:
        """The first time step the tree charts draw (the analysed window before ``n``)."""
        return max(0, self.n - self.analysis.window - 1)

    @property
    def x_range(self) -> tuple[float, float]:
        return (self.first - 0.5, self.n + max(3, self.analysis.window // 6) + 0.5)

    def tree_rows(self) -> Named:
        """The window of the tree the charts draw (:func:`ui.trees.tree_window`)."""
        return tree_window(self.x, self.h0, self.h1, self.depth, self.first, self.n)
