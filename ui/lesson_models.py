"""The lesson's last steps: learned filters against Haar, the layer as one long convolution, and the learned
TREESELECT selection (:mod:`ui.lesson_frame` says what a step is).

Answers that depend on data (whether the learned selection won, how many cells the layer reads) are
computed from the same data the chart shows, never written in by hand.
"""

from __future__ import annotations

import streamlit as st

from multires import wavelet_filters
from ui.charts import presenting, show
from ui.figure_cache import Named, cached_figure
from ui.lesson_frame import COMPARE, FILTERS, TREESELECT, Question, height, lesson_model, shorter, step
from ui.models import model_filters, shipped_models

__all__ = ["convolution_step", "filters_step", "learned_better_step", "learned_choice_step"]


# --- 6. learned vs Haar filters ---------------------------------------------------------------------------


@step("Learned filters vs Haar", FILTERS, "Filters")
def filters_step() -> Question:
    """A trained model's h0 and h1 (left, normalised) beside the Haar pair it started from (right): one bar per
    tap, h0 blue, h1 orange."""
    from multires.analysis.cascade import normalize_filters
    from multires.analysis.filters import filter_diagnostics
    from multires.figures.filters import taps_figure

    entry = lesson_model("default")
    raw_h0, raw_h1 = model_filters(entry, 0, 0)
    h0, h1, _ = normalize_filters(raw_h0, raw_h1)
    fixed = wavelet_filters("haar")
    show(cached_figure(taps_figure, (h0, h1), fixed, f"learned · {entry.name}, layer 0, channel 0", "fixed · haar",
                       height=height(380)), key="lesson_chart_filters")
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


@step("The whole layer is one long convolution", TREESELECT, "TREESELECT memory (One long convolution)")
def convolution_step() -> Question:
    """Top: the layer's impulse response K[m], how much x[n − m] moves y[n]. Below: what each kept cell adds to
    it."""
    from multires.figures.treeselect import kernel_figure
    from ui.treeselect_data import kernel_view

    entry = lesson_model("default")
    view = kernel_view(entry, 0, 0)
    fig = cached_figure(kernel_figure, view.kernel, view.contributions, view.labels, view.skip)
    if presenting():
        fig = shorter(fig)
    show(fig, key="lesson_chart_kernel")
    answer = "every kept cell reads a fixed lag of a linear tree, so y = K * x for one kernel K"
    return Question(
        "Why can the whole layer be computed as one long convolution, with one FFT?",
        [answer, "because h0 and h1 have only a few taps", "because the memory keeps few numbers"], answer,
        f"Each row is one kept cell: its weight times its impulse response, shifted by its lag. Added up (with the "
        f"skip weight at m = 0) they give K exactly (largest mismatch {view.residual:.1e}), and a convolution of "
        "length N costs O(N log N) with the FFT.")


# --- 8. and 9. learned TREESELECT ------------------------------------------------------------------------------


@step("What learned TREESELECT chose", TREESELECT, "TREESELECT memory (Learned choice)")
def learned_choice_step() -> Question:
    """A model that learned its own selection: training scored every candidate cell and kept each channel's top
    M. One column per channel, one row per cell some channel kept."""
    from ui.treeselect_data import learned_selection, selection_figure

    entry = lesson_model("learned")
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
        fig = shorter(fig)
    show(fig, key="lesson_chart_learned")
    distinct = conv.distinct_slots()
    options = sorted({m, distinct, m * entry.config.d_model})
    return Question(
        f"Each channel keeps M = {m} cells. How many different cells does the layer read, over all its channels?",
        [str(o) for o in options], str(distinct),
        f"{distinct}: the channels did not agree on one set of {m}; they split the tree (the bars count how many "
        f"channels kept each cell). So at M = {m} per channel the layer reads {distinct} distinct coefficients, "
        "more than fading's J + 1 or uniform's M — keep that in mind when comparing scores.")


@step("Is the learned selection better?", COMPARE, "Compare")
def learned_better_step() -> Question:
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
