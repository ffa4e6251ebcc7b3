"""What the TREESELECT page computes, cached by its inputs: reconstructions, capacities, slot contributions.

Slots are passed as plain tuples (:data:`SlotKey`): hashing ``Slot`` objects costs far more. One
call covers every strategy shown, so a rerun finds each result with one hash of its inputs. Kept in
a module (not the page) so the cached functions are defined once per server, not on every run.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from multires.analysis.memory import memory_capacity, reconstruct_past
from multires.treeselect import Slot
from ui.figure_cache import Named

__all__ = ["SlotKey", "capacities", "learned_selection", "reconstructions", "slot_contributions", "slot_key",
           "slots_of"]

SlotKey = tuple[tuple[str, int, int], ...]  # hashable slots for st.cache_data
Strategies = tuple[tuple[str, SlotKey], ...]  # (strategy, its slots) for each strategy shown


def slot_key(slots: list[Slot]) -> SlotKey:
    return tuple((s.band, s.level, s.lag) for s in slots)


def slots_of(key: SlotKey) -> list[Slot]:
    return [Slot(*s) for s in key]


@st.cache_data(show_spinner=False, max_entries=64)
def reconstructions(x: np.ndarray, n: int, h0: np.ndarray, h1: np.ndarray, strategies: Strategies, depth: int,
                    window: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Times, the signal over them, and each strategy's minimum-norm reconstruction of the window ending at ``n``."""
    t = x_window = None
    recon = {}
    for strategy, key in strategies:
        t, x_window, recon[strategy] = reconstruct_past(x, n, h0, h1, slots_of(key), depth, window=window)
    return t, x_window, recon


@st.cache_data(show_spinner=False, max_entries=64)
def capacities(h0: np.ndarray, h1: np.ndarray, strategies: Strategies, depth: int,
               window: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Lags and each strategy's R² per lag (memory capacity, white noise); 1 − R² is the reconstruction error."""
    lags = None
    r2 = {}
    for strategy, key in strategies:
        lags, r2[strategy] = memory_capacity(h0, h1, slots_of(key), depth, max_lag=window - 1)
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
