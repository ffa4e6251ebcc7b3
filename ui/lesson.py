"""The lesson path: the app's story in order, one step per screen — a page's key chart, one sentence,
one predict-then-reveal question.

Every chart is drawn by the figure builder of the page it comes from (nothing here is a new chart);
what the path adds is the order and the questions. Answers that depend on data (which level holds
the energy, which rule recalls a lag better, whether the learned selection won) are computed from
the same data the chart shows, never written in by hand.

A step is a function that draws its chart and returns its :class:`Question`; its docstring is the
sentence the student reads, and the ``@_step`` above it gives its title and the page the chart comes
from and adds it to :data:`STEPS` (the lesson's order is the order of this file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import streamlit as st

from multires import default_depth, memory_slots, wavelet_filters
from multires.figures.style import TREE_SELECT_LABELS
from ui import pickers
from ui.charts import presenting, show
from ui.figure_cache import Named, cached_figure
from ui.models import model_filters, shipped_models
from ui.reveal import shown

__all__ = ["LESSON_MODELS", "Question", "STEPS", "Step", "step_from_link"]

#: The shipped models the lesson shows (the sidebar's model stands in for any that is missing).
LESSON_MODELS = {"default": "digits-fading-haar", "learned": "digits-learned8-haar"}
TREE_SIGNAL, TREE_LENGTH = "ECG", 512
MEMORY_DEPTH, MEMORY_K = 6, 2  # the memory steps' tree: 64 past samples, Haar
FOOTPRINT_LENGTHS = 2 ** np.arange(4, 15)
ASKED_LENGTH = 4096  # "how many numbers at N = 4096?"


@dataclass(frozen=True)
class Question:
    """A predict-then-reveal question: options, the right one, why, and (optionally) the chart that shows the
    answer, drawn only on reveal (a chart that shows the answer before the guess would make it no question)."""

    prompt: str
    options: list[str]
    answer: str
    why: str
    answer_chart: Callable[[], None] | None = None


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # the page the chart comes from: "app_pages/<file>.py"
    page_label: str
    sentence: str
    draw: Callable[[], Question]  # draws the chart, returns the question


def _height(normal: int) -> int:
    """Chart height: shorter when presenting, so the chart stays above the fold at 1280 x 720."""
    return min(normal, 300) if presenting() else normal


def _entry(role: str) -> Any:
    """A shipped lesson model, or the sidebar's model when it is not shipped with this copy of the app."""
    return shipped_models().get(LESSON_MODELS[role]) or pickers.selection().entry


HOME, TREE_PAGE, FILTERS = "app_pages/0_Home.py", "app_pages/3_Coefficient_tree.py", "app_pages/2_Filters.py"
TREESELECT, COMPARE = "app_pages/4_TREESELECT.py", "app_pages/6_Compare.py"
STEPS: list[Step] = []  # in lesson order: filled by @_step below


def _step(title: str, page: str, page_label: str, **values: Any) -> Callable[[Callable[[], Question]], Callable]:
    """Make the decorated function the lesson's next step (see :class:`Step`). Its docstring is the step's
    sentence (shown to the student), with ``{name}`` filled in from ``values``."""

    def add(draw: Callable[[], Question]) -> Callable[[], Question]:
        if not draw.__doc__:
            raise RuntimeError(f"lesson step {draw.__name__} has no docstring (its sentence): run Python without -OO")
        sentence = " ".join(draw.__doc__.split()).format(**values)
        STEPS.append(Step(title, page, page_label, sentence, draw))
        return draw

    return add


# --- 1. the tree ----------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=2)
def _toy_tree(height: int):
    from multires.figures.dilated_tree import tree_animation_figure

    return tree_animation_figure(16, 4, 2, memory_slots("fading", 4, 2), "fading", impulse_at=2, height=height)


@_step("Two filters, one tree", HOME, "Home")
def _tree_step() -> Question:
    """MultiresConv remembers a sequence through a tree built from just two short filters: at each level the
    lowpass h0 keeps the slow part (a) and the highpass h1 the detail (b), and the coloured cells are what
    the memory keeps at step n. Press ▶ Play to watch an impulse climb the tree."""
    show(_toy_tree(_height(455)), key="lesson_chart_tree")
    return Question(
        "How many different filters does the whole tree use, over all its levels?",
        ["two: h0 and h1, the same at every level", "two per level (2J in all)", "one per node of the tree"],
        "two: h0 and h1, the same at every level",
        "Every level applies the same lowpass h0 (blue edges) and highpass h1 (orange edges) to the level below; "
        "only the spacing between the inputs doubles from level to level (the dilation 2<sup>l−1</sup>).")


# --- 2. where a signal lives in scale ---------------------------------------------------------------


@_step("Where a signal lives in scale", TREE_PAGE, "Coefficient tree", signal=TREE_SIGNAL, length=TREE_LENGTH)
def _energy_step() -> Question:
    """The same tree on a real signal ({signal}, {length} samples, Haar): each bar is one level's share of the
    energy, coarsest a<sub>J</sub> on the left, finest detail b<sub>1</sub> on the right."""
    from ui.trees import energy_figure, energy_shares, heatmap_figure

    x = pickers.cached_signal(TREE_SIGNAL, TREE_LENGTH)
    h0, h1 = wavelet_filters("haar")
    depth = default_depth(x.size, 2)
    labels, shares = energy_shares(x, h0, h1, depth)
    answer = labels[int(np.argmax(shares))]
    show(cached_figure(heatmap_figure, x, h0, h1, depth, f"The tree of {TREE_SIGNAL} (Haar, J = {depth}), rows scaled "
                       "separately", height=_height(360)), key="lesson_chart_tree_heatmap")

    def bars() -> None:
        show(cached_figure(energy_figure, x, h0, h1, depth, f"Energy per level · {TREE_SIGNAL}, Haar, J = {depth}",
                           height=_height(340), highlight=answer), key="lesson_chart_energy")

    return Question(
        f"Each row is scaled to its own largest value, so the picture does not tell you directly: which level holds "
        f"the largest share of the {TREE_SIGNAL} signal's energy?",
        labels, answer,
        f"{answer} holds {100 * shares.max():.0f} % of it (outlined in yellow below). Slow, smooth parts of a signal "
        "land in a<sub>J</sub> and the coarse details; sharp edges and noise in b<sub>1</sub>, b<sub>2</sub>.", bars)


# --- 3. and 4. resolution fading ---------------------------------------------------------------------


@_step("Fading keeps about log₂ N numbers", TREESELECT, "TREESELECT memory (Cost)")
def _footprint_step() -> Question:
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
    fig = cached_figure(footprint_figure, FOOTPRINT_LENGTHS, series, labels, height=_height(400))
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
    import hashlib

    from multires import kept_cells
    from multires.figures.cells import cell_coords
    from multires.figures.tree import tree_heatmap
    from ui.trees import tree_rows

    x = pickers.cached_signal(TREE_SIGNAL, TREE_LENGTH)
    h0, h1 = wavelet_filters("haar")
    n, window = x.size - 1, 2**MEMORY_DEPTH
    first = n - window - 1
    rows = Named((hashlib.sha256(x.tobytes()).hexdigest(), "lesson", first),
                 [(label, values[first : n + 1]) for label, values in tree_rows(x, h0, h1, MEMORY_DEPTH)])
    kept = {rule: cell_coords(kept_cells(_memory_slots()[rule], n)) for rule in rules}
    show(cached_figure(tree_heatmap, rows, f"The tree over the last {window} samples, memory kept at n = {n}",
                       kept=kept, n=n, x_range=(first - 0.5, n + 10.5), start=first, height=_height(360)), key=key)


@_step("What fading remembers", TREESELECT, "TREESELECT memory (Kept cells)")
def _fading_recall_step() -> Question:
    """Fading's memory at step n: one cell per level, all at lag 0 (green squares). b<sub>1</sub>[n] reads the
    last 2 samples, b<sub>2</sub>[n] the last 4, …, a<sub>6</sub>[n] the last 64."""
    from multires.figures.treeselect import capacity_figure

    _kept_cells_chart(("fading",), "lesson_chart_fading_cells")
    lags, r2, labels = _memory_r2(("fading",))
    exact = [int(lag) for lag, v in zip(lags, r2["fading"]) if v > 0.99]
    newest = f"the newest {len(exact)} (τ = {', '.join(map(str, exact))})"

    def recall() -> None:
        show(cached_figure(capacity_figure, lags, r2, labels, height=_height(360), width_px=1000),
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


@_step("Uniform: the same budget, spread out", TREESELECT, "TREESELECT memory (Kept cells)")
def _uniform_step() -> Question:
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
        show(cached_figure(capacity_figure, lags, r2, labels, height=_height(360), width_px=1000,
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


# --- 6. learned vs Haar filters ---------------------------------------------------------------------------


@_step("Learned filters vs Haar", FILTERS, "Filters")
def _filters_step() -> Question:
    """A trained model's h0 and h1 (left, normalised) beside the Haar pair it started from (right): one bar per
    tap, h0 blue, h1 orange."""
    from multires.analysis.cascade import normalize_filters
    from multires.analysis.filters import filter_diagnostics
    from multires.figures.filters import taps_figure

    entry = _entry("default")
    raw_h0, raw_h1 = model_filters(entry, 0, 0)
    h0, h1, _ = normalize_filters(raw_h0, raw_h1)
    fixed = wavelet_filters("haar")
    show(cached_figure(taps_figure, (h0, h1), fixed, f"learned · {entry.name}, layer 0, channel 0", "fixed · haar",
                       height=_height(380)), key="lesson_chart_filters")
    diag = filter_diagnostics(h0, h1)
    near = (f"the nearest named wavelet is {diag.nearest_wavelet} at distance {diag.nearest_distance:.3f} "
            "(0 = identical, 1.41 = orthogonal)" if diag.nearest_wavelet else "no named wavelet has this length")
    answer = "h0, h1 and their shifts by 2 are still (nearly) orthonormal, and a named wavelet is close"
    return Question(
        "Training moved these filters away from Haar. How can you tell whether a learned pair is still "
        "wavelet-like?",
        [answer, "its taps are all positive", "its taps are still exactly Haar's"], answer,
        f"For this channel the orthonormality error is {diag.orthonormality_error:.3g} (0 for an exact wavelet "
        f"pair) and {near}. The Filters page shows the same checks for any channel, and the cascade φ, ψ they "
        "stand for.")


# --- 7. one convolution ---------------------------------------------------------------------------------------


@_step("The whole layer is one long convolution", TREESELECT, "TREESELECT memory (One long convolution)")
def _convolution_step() -> Question:
    """Top: the layer's impulse response K[m], how much x[n − m] moves y[n]. Below: what each kept cell adds to
    it."""
    from multires.figures.treeselect import kernel_figure
    from ui.treeselect_data import kernel_view

    entry = _entry("default")
    view = kernel_view(entry, 0, 0)
    fig = cached_figure(kernel_figure, view.kernel, view.contributions, view.labels, view.skip)
    if presenting():
        fig = _shorter(fig)
    show(fig, key="lesson_chart_kernel")
    answer = "every kept cell reads a fixed lag of a linear tree, so y = K * x for one kernel K"
    return Question(
        "Why can the whole layer be computed as one long convolution, with one FFT?",
        [answer, "because h0 and h1 have only a few taps", "because the memory keeps few numbers"], answer,
        f"Each row is one kept cell: its weight times its impulse response, shifted by its lag. Added up (with the "
        f"skip weight at m = 0) they give K exactly (largest mismatch {view.residual:.1e}), and a convolution of "
        "length N costs O(N log N) with the FFT.")


def _shorter(fig):
    import plotly.graph_objects as go

    fig = go.Figure(fig)
    fig.update_layout(height=330)
    return fig


# --- 8. and 9. learned TREESELECT ------------------------------------------------------------------------------


@_step("What learned TREESELECT chose", TREESELECT, "TREESELECT memory (Learned choice)")
def _learned_choice_step() -> Question:
    """A model that learned its own selection: training scored every candidate cell and kept each channel's top
    M. One column per channel, one row per cell some channel kept."""
    from ui.treeselect_data import learned_selection, selection_figure

    entry = _entry("learned")
    conv = entry.net.convs[0]
    if conv.tree_select != "learned":
        st.info("No model with a learned selection is shipped with this copy of the app: train one on the Train "
                "page with the TREESELECT rule *learned*.", icon=":material/info:")
        return Question("Skip this step: there is no learned selection to look at.", ["skip"], "skip", "")
    m = conv.memory_size
    fig = cached_figure(selection_figure, learned_selection(list(conv.slots), conv.slot_mask.numpy()), 0,
                        f"What each channel of layer 0 kept (M = {m} of {len(conv.slots)} candidates)", conv.depth,
                        int(conv.h0.shape[-1]))
    if presenting():
        fig = _shorter(fig)
    show(fig, key="lesson_chart_learned")
    distinct = conv.distinct_slots()
    options = sorted({m, distinct, m * entry.config.d_model})
    return Question(
        f"Each channel keeps M = {m} cells. How many different cells does the layer read, over all its channels?",
        [str(o) for o in options], str(distinct),
        f"{distinct}: the channels did not agree on one set of {m}; they split the tree (the bars count how many "
        f"channels kept each cell). So at M = {m} per channel the layer reads {distinct} distinct coefficients, "
        "more than fading's J + 1 or uniform's M — keep that in mind when comparing scores.")


@_step("Is the learned selection better?", COMPARE, "Compare")
def _learned_better_step() -> Question:
    """The shipped digits models' test accuracy: colour = TREESELECT rule, shape = how the filters started."""
    from multires.figures.compare import score_ranges_figure
    from ui.compare_data import model_rows, model_tables

    models = {name: e for name, e in shipped_models().items() if e.metrics.get("task") == "digits"}
    if not models:
        st.info("No digits models are shipped with this copy of the app.", icon=":material/info:")
        return Question("Skip this step: there are no models to compare.", ["skip"], "skip", "")
    rows = model_rows(models)
    _, groups = model_tables(rows)
    digits = groups["digits"]
    show(cached_figure(score_ranges_figure, Named((rows.name, "lesson"), digits), "digits: test accuracy per model",
                       "test accuracy (fraction correct)", {}, True, compact=presenting()), key="lesson_chart_compare")
    best = {s: float(digits[digits["TREESELECT rule"] == s]["mean"].max()) for s in ("fading", "uniform", "learned")
            if (digits["TREESELECT rule"] == s).any()}
    distinct = {s: int(digits[digits["TREESELECT rule"] == s]["distinct coefficients / layer"].max()) for s in best}
    if "learned" not in best or "fading" not in best:
        return Question("Skip this step: the learned or fading model is missing.", ["skip"], "skip", "")
    better = best["learned"] > best["fading"] + 0.005
    yes, no = "yes, clearly higher", "no: about the same or lower"
    return Question(
        "Is the learned selection better than resolution fading on digits?",
        [yes, no], yes if better else no,
        f"Best learned {best['learned']:.3f} vs best fading {best['fading']:.3f}"
        + (f" (uniform {best['uniform']:.3f})" if "uniform" in best else "")
        + f", one seed each, so a gap this small is weak evidence either way. Learning the selection did not beat "
          f"fading here, although its layer reads {distinct['learned']} distinct cells against fading's "
          f"{distinct['fading']}. (The axis is zoomed: its label says where it starts.)")


def step_from_link(value: str | None) -> tuple[int, str | None]:
    """The step (1-based) a link's ``?step=`` asks for, and a problem to report when it is not a step.

    >>> step_from_link("3"), step_from_link(None)
    ((3, None), (1, None))
    >>> step_from_link("99")[1]
    'step=99 is not a step of the lesson (1..9); showing step 1'
    """
    if value is None:
        return 1, None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if 1 <= number <= len(STEPS):
        return number, None
    return 1, f"step={value} is not a step of the lesson (1..{len(STEPS)}); showing step 1"
