"""The lesson's first steps: the tree, where a signal lives in scale, and what resolution fading and uniform
remember (:mod:`ui.lesson_frame` says what a step is).

Answers that depend on data (which level holds the energy, which rule recalls a lag better) are computed
from the same data the chart shows, never written in by hand.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires import default_depth, memory_slots, wavelet_filters
from multires.figures.style import TREE_SELECT_LABELS
from ui.charts import show
from ui.figure_cache import cached_figure
from ui.lesson_frame import HOME, TREE_PAGE, TREESELECT, Question, height, step
from ui.pickers import cached_signal
from ui.reveal import shown

__all__ = ["energy_step", "fading_recall_step", "footprint_step", "tree_step", "uniform_step"]

TREE_SIGNAL, TREE_LENGTH = "ECG", 512
MEMORY_DEPTH, MEMORY_K = 6, 2  # the memory steps' tree: 64 past samples, Haar
FOOTPRINT_LENGTHS = 2 ** np.arange(4, 15)
ASKED_LENGTH = 4096  # "how many numbers at N = 4096?"


# --- 1. the tree ----------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=2)
def _toy_tree(height: int):
    from multires.figures.dilated_tree import tree_animation_figure

    return tree_animation_figure(16, 4, 2, memory_slots("fading", 4, 2), "fading", impulse_at=2, height=height)


@step("Two filters, one tree", HOME, "Home")
def tree_step() -> Question:
    """MultiresConv remembers a sequence through a tree built from just two short filters: at each level the
    lowpass h0 keeps the slow part (a) and the highpass h1 the detail (b), and the coloured cells are what
    the memory keeps at step n. Press ▶ Play to watch an impulse climb the tree."""
    show(_toy_tree(height(455)), key="lesson_chart_tree")
    return Question(
        "How many different filters does the whole tree use, over all its levels?",
        ["two: h0 and h1, the same at every level", "two per level (2J in all)", "one per node of the tree"],
        "two: h0 and h1, the same at every level",
        "Every level applies the same lowpass h0 (blue edges) and highpass h1 (orange edges) to the level below; "
        "only the spacing between the inputs doubles from level to level (the dilation 2<sup>l−1</sup>).")


# --- 2. where a signal lives in scale ---------------------------------------------------------------


@step("Where a signal lives in scale", TREE_PAGE, "Coefficient tree", signal=TREE_SIGNAL, length=TREE_LENGTH)
def energy_step() -> Question:
    """The same tree on a real signal ({signal}, {length} samples, Haar): each bar is one level's share of the
    energy, coarsest a<sub>J</sub> on the left, finest detail b<sub>1</sub> on the right."""
    from ui.trees import energy_figure, energy_shares, heatmap_figure

    x = cached_signal(TREE_SIGNAL, TREE_LENGTH)
    h0, h1 = wavelet_filters("haar")
    depth = default_depth(x.size, 2)
    labels, shares = energy_shares(x, h0, h1, depth)
    answer = labels[int(np.argmax(shares))]
    show(cached_figure(heatmap_figure, x, h0, h1, depth, f"The tree of {TREE_SIGNAL} (Haar, J = {depth}), rows scaled "
                       "separately", height=height(360)), key="lesson_chart_tree_heatmap")

    def bars() -> None:
        show(cached_figure(energy_figure, x, h0, h1, depth, f"Energy per level · {TREE_SIGNAL}, Haar, J = {depth}",
                           height=height(340), highlight=answer), key="lesson_chart_energy")

    return Question(
        f"Each row is scaled to its own largest value, so the picture does not tell you directly: which level holds "
        f"the largest share of the {TREE_SIGNAL} signal's energy?",
        labels, answer,
        f"{answer} holds {100 * shares.max():.0f} % of it (outlined in yellow below). Slow, smooth parts of a signal "
        "land in a<sub>J</sub> and the coarse details; sharp edges and noise in b<sub>1</sub>, b<sub>2</sub>.", bars)


# --- 3. and 4. resolution fading ---------------------------------------------------------------------


@step("Fading keeps about log₂ N numbers", TREESELECT, "TREESELECT memory (Cost)")
def footprint_step() -> Question:
    """Storing the whole past costs N numbers and the whole tree N·(J + 1); resolution fading keeps one cell
    per level, J + 1 numbers, and J only grows like log₂ N."""
    from multires.analysis.footprint import footprint
    from multires.figures.treeselect import footprint_figure

    fp = footprint(FOOTPRINT_LENGTHS, depth=None, memory_size=8, kernel_size=2)
    series = {"full history": fp["full_history_per_step"], "tree": fp["tree_total"]}
    if shown("lesson_q_footprint"):  # fading's line is the answer
        series["fading"] = fp["fading_per_step"]
    labels = {"full history": "full history (N)", "tree": "whole undecimated tree (N·(J+1))",
              "fading": "resolution fading (J+1)"}
    fig = cached_figure(footprint_figure, FOOTPRINT_LENGTHS, series, labels, height=height(400))
    show(fig, key="lesson_chart_footprint")
    depth = default_depth(ASKED_LENGTH, 2)
    answer = str(depth + 1)
    options = [answer, str(ASKED_LENGTH // 64), f"{ASKED_LENGTH:,}", f"{ASKED_LENGTH * (depth + 1):,}"]
    return Question(
        f"A sequence of N = {ASKED_LENGTH:,} samples (k = 2 taps): how many numbers does resolution fading keep "
        "per step?", options, answer,
        f"J + 1 = {depth + 1}: the tree needs J = {depth} levels for its coarsest cell to see all {ASKED_LENGTH:,} "
        "samples, so J grows like log₂ N, and fading keeps one cell per level (plus a<sub>J</sub>). Its line is now "
        "on the chart: nearly flat, far below the other two.")


def _memory_slots() -> dict[str, list]:
    budget = MEMORY_DEPTH + 1
    return {"fading": memory_slots("fading", MEMORY_DEPTH, MEMORY_K),
            "uniform": memory_slots("uniform", MEMORY_DEPTH, MEMORY_K, memory_size=budget)}


def _memory_r2(rules: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
    """White-noise recall per lag of each rule on the lesson's Haar tree, at fading's budget (J + 1 cells)."""
    from ui.treeselect_data import capacities, slot_key

    h0, h1 = wavelet_filters("haar")
    budget = MEMORY_DEPTH + 1
    keys = tuple((rule, slot_key(_memory_slots()[rule])) for rule in rules)
    lags, r2 = capacities(h0, h1, keys, MEMORY_DEPTH, 2**MEMORY_DEPTH)
    labels = {"fading": f"resolution fading (J + 1 = {budget})", "uniform": f"uniform (M = {budget})"}
    return lags, r2, labels


def _kept_cells_chart(rules: tuple[str, ...], key: str) -> None:
    """TREESELECT's key chart: the last samples of the lesson signal's tree with each rule's kept cells outlined."""
    from multires import kept_cells
    from multires.figures.cells import cell_coords
    from multires.figures.tree import tree_heatmap
    from ui.trees import tree_window

    x = cached_signal(TREE_SIGNAL, TREE_LENGTH)
    h0, h1 = wavelet_filters("haar")
    n, window = x.size - 1, 2**MEMORY_DEPTH
    first = n - window - 1
    rows = tree_window(x, h0, h1, MEMORY_DEPTH, first, n)
    kept = {rule: cell_coords(kept_cells(_memory_slots()[rule], n)) for rule in rules}
    show(cached_figure(tree_heatmap, rows, f"The tree over the last {window} samples, memory kept at n = {n}",
                       kept=kept, n=n, x_range=(first - 0.5, n + 10.5), start=first, height=height(360)), key=key)


@step("What fading remembers", TREESELECT, "TREESELECT memory (Kept cells)")
def fading_recall_step() -> Question:
    """Fading's memory at step n: one cell per level, all at lag 0 (green squares). b<sub>1</sub>[n] reads the
    last 2 samples, b<sub>2</sub>[n] the last 4, …, a<sub>6</sub>[n] the last 64."""
    from multires.figures.treeselect import capacity_figure

    _kept_cells_chart(("fading",), "lesson_chart_fading_cells")
    lags, r2, labels = _memory_r2(("fading",))
    exact = [int(lag) for lag, v in zip(lags, r2["fading"]) if v > 0.99]
    newest = f"the newest {len(exact)} (τ = {', '.join(map(str, exact))})"

    def recall() -> None:
        show(cached_figure(capacity_figure, lags, r2, labels, height=height(360), width_px=1000),
             key="lesson_chart_fading")

    return Question(
        f"Fading keeps these J + 1 = {MEMORY_DEPTH + 1} cells, all at lag 0, about the last {2**MEMORY_DEPTH} samples. "
        "Which past samples can a readout recover exactly from them?",
        [f"only {newest}", f"every one of the last {2**MEMORY_DEPTH}", "only the oldest ones"],
        f"only {newest}",
        "b<sub>l</sub>[n] mixes the last 2<sup>l</sup> samples, so the fine cells pin down the newest samples and "
        "every older sample is known only through averages over longer and longer spans: below, the share of "
        "x[n − τ] a readout recovers (R², white-noise input) halves with each level. The recent past sharply, the "
        "distant past as a blur.", recall)


# --- 5. uniform ----------------------------------------------------------------------------------------


@step("Uniform: the same budget, spread out", TREESELECT, "TREESELECT memory (Kept cells)")
def uniform_step() -> Question:
    """Uniform keeps as many cells as fading, but on each level's grid of lags, coarsest levels first (pink
    squares): some of them lie back in the past instead of all at n."""
    from multires.figures.treeselect import capacity_figure

    _kept_cells_chart(("fading", "uniform"), "lesson_chart_uniform_cells")
    lags, r2, labels = _memory_r2(("fading", "uniform"))
    lead = r2["uniform"] - r2["fading"]
    asked = int(lags[int(np.flatnonzero(lead == lead.max())[-1])])  # where uniform leads most (the farthest such lag)
    f_value, u_value = float(r2["fading"][asked]), float(r2["uniform"][asked])
    answer = ("uniform" if u_value > f_value + 1e-6 else TREE_SELECT_LABELS["fading"] if f_value > u_value + 1e-6
              else "both the same")

    def recall() -> None:
        show(cached_figure(capacity_figure, lags, r2, labels, height=height(360), width_px=1000,
                           mark_lag=(asked, f"τ = {asked}")), key="lesson_chart_uniform")
        from ui.uniform_test import show_uniform_test

        show_uniform_test("lesson_uniform_test")  # the measured task, as TREESELECT and Compare show it

    return Question(
        f"Same budget, {MEMORY_DEPTH + 1} cells each (green: fading, pink: uniform). A task needs x[n − {asked}], "
        "far back. Which memory recovers more of it?",
        ["uniform", TREE_SELECT_LABELS["fading"], "both the same"], answer,
        f"At τ = {asked}: uniform R² {u_value:.2f}, fading {f_value:.2f}. Uniform's cells sit on each level's grid "
        f"of lags, so its share stays level far into the past (R² {float(r2['uniform'][0]):.2f} at τ = 0, still "
        f"{u_value:.2f} at τ = {asked}); fading's share halves with every level. So uniform wins on tasks that need "
        f"the distant past in detail, fading on tasks that need the newest samples exactly "
        f"(R² {float(r2['fading'][0]):.0f} at τ = 0). Below the recall chart: a task built to test this, trained with "
        "both rules at equal budgets over seeds.", recall)
