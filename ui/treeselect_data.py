"""What the TREESELECT page computes, cached by its inputs: reconstructions, capacities, slot contributions.

Slots are passed as plain tuples (:data:`SlotKey`): hashing ``Slot`` objects costs far more. One
call covers every rule shown, so a rerun finds each result with one hash of its inputs. Kept in
a module (not the page) so the cached functions are defined once per server, not on every run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from multires.analysis.memory import (
    max_analysed_slots,
    memory_capacity,
    memory_span,
    nearest_slots,
    reconstruct_past,
)
from multires.figures.treeselect import selection_matrix_figure
from multires.options import MAX_ANALYSED_WINDOW
from multires.treeselect import Slot
from ui.figure_cache import Named

__all__ = ["MAX_SELECTION_ROWS", "KernelView", "SlotKey", "capacities", "kernel_view", "learned_selection", "reconstructions",
           "selection_figure", "slot_contributions", "slot_key", "slots_of"]

SlotKey = tuple[tuple[str, int, int], ...]  # hashable slots for st.cache_data
Rules = tuple[tuple[str, SlotKey], ...]  # (rule, its slots) for each rule shown


def slot_key(slots: list[Slot]) -> SlotKey:
    return tuple((s.band, s.level, s.lag) for s in slots)


def slots_of(key: SlotKey) -> list[Slot]:
    return [Slot(*s) for s in key]


@st.cache_data(show_spinner=False, max_entries=64)
def reconstructions(x: np.ndarray, n: int, h0: np.ndarray, h1: np.ndarray, rules: Rules, depth: int,
                    window: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Times, the signal over them, and each rule's minimum-norm reconstruction of the window ending at ``n``."""
    t = x_window = None
    recon = {}
    for rule, key in rules:
        t, x_window, recon[rule] = reconstruct_past(x, n, h0, h1, slots_of(key), depth, window=window)
    return t, x_window, recon


@st.cache_data(show_spinner=False, max_entries=64)
def capacities(h0: np.ndarray, h1: np.ndarray, rules: Rules, depth: int,
               window: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Lags and each rule's R² per lag (memory capacity, white noise); 1 − R² is the reconstruction error."""
    lags = None
    r2 = {}
    for rule, key in rules:
        lags, r2[rule] = memory_capacity(h0, h1, slots_of(key), depth, max_lag=window - 1)
    return lags, r2


@st.cache_data(show_spinner=False, max_entries=32)
def slot_contributions(h0: np.ndarray, h1: np.ndarray, slots: SlotKey, weights: np.ndarray, depth: int,
                       length: int, shown: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``w_s`` times each slot's impulse response (lag included), cut or zero-padded to ``length``.

    Returns the rows of the slots at indices ``shown`` (every slot when ``None``), ``(len(shown), length)``,
    and the sum of every slot's row, ``(length,)``. Built row by row from the band filters, so a long
    receptive field costs ``S x length``, not ``S x`` it, and only the shown rows are kept.
    """
    import torch

    from multires import band_filters

    approx, details = band_filters(torch.from_numpy(h0)[None], torch.from_numpy(h1)[None], depth)
    rows = range(len(slots)) if shown is None else shown
    out = np.zeros((len(rows), length))
    where = {index: row for row, index in enumerate(rows)}
    total = np.zeros(length)
    for index, slot in enumerate(slots_of(slots)):
        g = (approx if slot.band == "approx" else details[slot.level - 1])[0].numpy()[: max(0, length - slot.lag)]
        total[slot.lag : slot.lag + g.size] += weights[index] * g
        if index in where:
            out[where[index], slot.lag : slot.lag + g.size] = weights[index] * g
    return out, total


def learned_selection(candidates: list[Slot], mask: np.ndarray) -> Named:
    """A learned layer's candidates and keep-mask (channels × candidates), named by a digest of both,
    for :func:`ui.figure_cache.cached_figure`."""
    digest = hashlib.sha256(repr((slot_key(candidates), mask.shape)).encode() + np.ascontiguousarray(mask).tobytes())
    return Named(digest.hexdigest(), (candidates, mask))


#: Most rows of a learned selection matrix: the most slots one analysis takes over its longest window (128).
MAX_SELECTION_ROWS = max_analysed_slots(MAX_ANALYSED_WINDOW)


def selection_figure(selection: tuple[list[Slot], np.ndarray], channel: int, title: str, depth: int,
                     kernel_size: int, most: int = MAX_SELECTION_ROWS):
    """The learned selection matrix from a layer's candidates and keep-mask (channels × candidates).

    At most ``most`` rows (the work bound, :func:`multires.analysis.memory.max_analysed_slots`): past it,
    the slots kept by some channel that read nearest the present.
    """
    candidates, mask = selection
    kept = [slot for slot, any_channel in zip(candidates, mask.any(axis=0)) if any_channel]
    drawn = set(nearest_slots(kept, depth, kernel_size, most))
    return selection_matrix_figure([[s for s, keep in zip(candidates, row) if keep and s in drawn] for row in mask],
                                   channel, title)


@dataclass(frozen=True)
class KernelView:
    """A channel's kernel K cut where its kept slots stop reading, and what each shown slot adds to it."""

    kernel: np.ndarray
    contributions: np.ndarray  # (shown slots, len(kernel)): w_s times the slot's impulse response, lag included
    labels: list[str]  # "b3[n-8]  (w = +0.12)" per shown slot
    skip: float  # the skip weight, added at m = 0
    cut: bool  # True when the kernel reaches past the analysis limit and is drawn only up to it
    residual: float  # largest |sum of every slot's row + skip - K|: 0 up to rounding
    slots: list[Slot]  # the slots drawn as rows: every kept slot, or the nearest the present past the work bound
    total_slots: int  # how many slots the channel keeps


def kernel_view(entry: Any, layer: int, channel: int) -> KernelView:
    """The one-long-convolution view of ``entry``'s layer and channel (TREESELECT's last tab, the lesson path).

    Its rows are bounded like every analysis of the memory (:func:`multires.analysis.memory.max_analysed_slots`
    over the drawn length): past the bound only the slots nearest the present are drawn, while ``residual``
    still checks that every slot's row adds up to K.
    """
    from ui.models import model_filters

    net = entry.net
    depth = net.convs[layer].depth
    slots, weights = net.memory(layer, channel)
    h0, h1 = model_filters(entry, layer, channel)
    kernel = net.kernel(layer, channel)
    # K is as long as the longest candidate slot; past the kept slots' reach it is zero, so cut it there
    reach = memory_span(slots, depth, h0.size) if slots else 1
    cut = reach > MAX_ANALYSED_WINDOW  # a longer kernel is drawn up to the analysis window
    reach = min(reach, MAX_ANALYSED_WINDOW)
    kernel = kernel[: min(kernel.size, reach + max(2, reach // 16))]
    shown = nearest_slots(slots, depth, h0.size, max_analysed_slots(kernel.size))
    drawn = set(shown)
    rows = None if len(shown) == len(slots) else tuple(i for i, slot in enumerate(slots) if slot in drawn)
    contributions, total = slot_contributions(h0, h1, slot_key(slots), weights[:-1], depth, kernel.size, rows)
    labels = [f"{s}  (w = {w:+.2f})" for s, w in zip(slots, weights[:-1]) if s in drawn]
    residual = float(np.abs(total + np.eye(1, kernel.size)[0] * weights[-1] - kernel).max())
    return KernelView(kernel, contributions, labels, float(weights[-1]), cut, residual, shown, len(slots))
