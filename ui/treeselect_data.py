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

from multires.analysis.memory import memory_capacity, memory_span, reconstruct_past
from multires.figures.treeselect import selection_matrix_figure
from multires.options import MAX_ANALYSED_WINDOW
from multires.treeselect import Slot
from ui.figure_cache import Named

__all__ = ["KernelView", "SlotKey", "capacities", "kernel_view", "learned_selection", "reconstructions",
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
                       length: int) -> np.ndarray:
    """``w_s`` times each slot's impulse response (lag included), cut or zero-padded to ``length``: (S, length).

    Built row by row from the band filters, so a long receptive field costs ``S x length``, not ``S x`` it.
    """
    import torch

    from multires import band_filters

    approx, details = band_filters(torch.from_numpy(h0)[None], torch.from_numpy(h1)[None], depth)
    out = np.zeros((len(slots), length))
    for row, slot in enumerate(slots_of(slots)):
        g = (approx if slot.band == "approx" else details[slot.level - 1])[0].numpy()[: max(0, length - slot.lag)]
        out[row, slot.lag : slot.lag + g.size] = g
    return weights[:, None] * out


def learned_selection(candidates: list[Slot], mask: np.ndarray) -> Named:
    """A learned layer's candidates and keep-mask (channels × candidates), named by a digest of both,
    for :func:`ui.figure_cache.cached_figure`."""
    digest = hashlib.sha256(repr((slot_key(candidates), mask.shape)).encode() + np.ascontiguousarray(mask).tobytes())
    return Named(digest.hexdigest(), (candidates, mask))


def selection_figure(selection: tuple[list[Slot], np.ndarray], channel: int, title: str):
    """The learned selection matrix from a layer's candidates and keep-mask (channels × candidates)."""
    candidates, mask = selection
    return selection_matrix_figure([[s for s, keep in zip(candidates, row) if keep] for row in mask], channel, title)


@dataclass(frozen=True)
class KernelView:
    """A channel's kernel K cut where its kept slots stop reading, and what each slot adds to it."""

    kernel: np.ndarray
    contributions: np.ndarray  # (slots, len(kernel)): w_s times the slot's impulse response, lag included
    labels: list[str]  # "b3[n-8]  (w = +0.12)" per slot
    skip: float  # the skip weight, added at m = 0
    cut: bool  # True when the kernel reaches past the analysis limit and is drawn only up to it
    residual: float  # largest |sum of the rows + skip - K|: 0 up to rounding


def kernel_view(entry: Any, layer: int, channel: int) -> KernelView:
    """The one-long-convolution view of ``entry``'s layer and channel (TREESELECT's last tab, the lesson path)."""
    from ui.state import model_filters

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
    contributions = slot_contributions(h0, h1, slot_key(slots), weights[:-1], depth, kernel.size)
    labels = [f"{s}  (w = {w:+.2f})" for s, w in zip(slots, weights[:-1])]
    residual = float(np.abs(contributions.sum(axis=0) + np.eye(1, kernel.size)[0] * weights[-1] - kernel).max())
    return KernelView(kernel, contributions, labels, float(weights[-1]), cut, residual)
