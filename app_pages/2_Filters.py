"""Filters: the learned h0, h1 of the sidebar's model/layer/channel beside the sidebar's fixed wavelet."""

from __future__ import annotations

import numpy as np
import pywt
import streamlit as st

from multires.analysis.cascade import cascade, normalize_filters
from multires.analysis.filters import filter_diagnostics, frequency_response, nearest_wavelet
from multires.figures.filters import (
    cascade_figure,
    channel_taps_figure,
    diagnostics_frame,
    frequency_response_figure,
    nearest_distance_figure,
    taps_figure,
)
from multires.wavelets import wavelet_filters
from ui import defaults, models, pickers
from ui.charts import presenting, show
from ui.figure_cache import cached_figure
from ui.reduced import show_chart
from ui.safe_text import plain

N_FREQS = 257
CASCADE_LEVEL = 8
DIVERGED = 20.0  # |phi| or |psi| above this: the cascade of these filters does not settle to a function


@st.cache_data(show_spinner=False, max_entries=32)
def channel_overview(h0: np.ndarray, h1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest named wavelet and distance of every (layer, channel); normalised taps. h0, h1: (L, C, k)."""
    n_layers, n_channels, k = h0.shape
    distance = np.full((n_layers, n_channels), np.nan)
    names = np.full((n_layers, n_channels), "none of length k", dtype=object)
    h0n, h1n = np.zeros_like(h0), np.zeros_like(h1)
    for layer in range(n_layers):
        for channel in range(n_channels):
            try:
                a, b, _ = normalize_filters(h0[layer, channel], h1[layer, channel])
            except ValueError:  # an all-zero filter: nothing to normalise or compare
                names[layer, channel] = "zero filter"
                continue
            h0n[layer, channel], h1n[layer, channel] = a, b
            name, dist = nearest_wavelet(a)
            if name is not None:
                names[layer, channel], distance[layer, channel] = name, dist
    return distance, names, h0n, h1n


@st.cache_data(show_spinner=False, max_entries=64)
def diagnostics(h0: np.ndarray, h1: np.ndarray):
    """filter_diagnostics (with its nearest-wavelet search) once per pair of taps."""
    return filter_diagnostics(h0, h1)


@st.cache_data(show_spinner=False, max_entries=64)
def cascade_of(h0: np.ndarray, h1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return cascade(h0, h1, level=CASCADE_LEVEL)


sel = pickers.selection()
entry, layer, channel, wavelet = sel.entry, sel.layer, sel.channel, sel.wavelet
config = entry.config
frozen = bool((entry.metrics.get("train_config") or {}).get("freeze_filters", False))
init = "random" if config.wavelet is None else f"{config.wavelet}{' (frozen)' if frozen else ''}"

st.title("Filters: learned vs fixed")
st.markdown(
    f"Model **{plain(entry.name)}** (init **{init}**), layer **{layer}**, channel **{channel}**, beside the fixed wavelet "
    f"**{wavelet}**. Every level of the tree reuses this one pair: **h0** (lowpass) makes the approximations, "
    "**h1** (highpass) the details."
)
pickers.member_picker(entry)  # a seed ensemble: which of its models entry.net is
if not presenting():  # presenting, the key chart needs the line: the note is one switch away
    st.caption(plain(defaults.model_note(entry)))

raw_h0, raw_h1 = models.model_filters(entry, layer, channel)
fix_h0, fix_h1 = wavelet_filters(wavelet)
summary = st.columns([1.1, 1, 1, 1.1, 0.9])
normalise = summary[4].toggle(
    "Normalise", value=True, key="filters_normalise",
    help="Normalise the learned filters. A learned pair has an arbitrary scale and sign (the memory weights "
         "absorb them). Normalising sets sum h0 = √2 and ‖h1‖ = ‖h0‖, the convention of PyWavelets' orthonormal "
         "wavelets.",
)
zero_filter = None  # why this channel's pair cannot be normalised (an all-zero h0 or h1), else None
try:
    norm_h0, norm_h1, note = normalize_filters(raw_h0, raw_h1)
except ValueError as err:  # an all-zero learned filter
    norm_h0, norm_h1, note = raw_h0, raw_h1, f"not normalised: {err}"
    normalise, zero_filter = False, str(err)
if zero_filter:
    st.warning(f"Layer {layer}, channel {channel} of {plain(entry.name)}: {zero_filter}. Its taps and frequency response are "
               "drawn as stored; it has no φ/ψ and no nearest wavelet. Pick another channel in the sidebar.",
               icon=":material/warning:")
learned = (norm_h0, norm_h1) if normalise else (raw_h0, raw_h1)
learned_name = f"learned{' (normalised)' if normalise else ' (raw)'}"
learned_panel = f"learned · layer {layer}, ch {channel}" + (" (normalised)" if normalise else " (raw)")
fixed_panel = f"fixed · {wavelet}"
norm_note = (f"Normalisation of the learned pair: {note}." if normalise
             else f"Learned taps as stored. Normalising would have: {note}.")

learned_diag = diagnostics(*learned)
fixed_diag = diagnostics(fix_h0, fix_h1)
summary[0].metric("Taps k (learned / fixed)", f"{raw_h0.size} / {fix_h0.size}",
                  help=f"Filter length of the learned pair and of {wavelet}.")
summary[1].metric("Nearest wavelet", learned_diag.nearest_wavelet or "none of this length",
                  help="Among orthogonal PyWavelets wavelets (haar, db, sym, coif) with the same number of taps.")
summary[2].metric("Distance to it", "—" if learned_diag.nearest_distance is None else f"{learned_diag.nearest_distance:.3f}",
                  help="L2 distance of the unit-norm lowpass filters: 0 = identical, √2 ≈ 1.41 = orthogonal.")
summary[3].metric("Orthonormality error", f"{learned_diag.orthonormality_error:.3g}",
                  help="0 means h0, h1 and their shifts by 2 form an orthonormal basis.")

taps_tab, response_tab, cascade_tab, checks_tab, channels_tab = st.tabs(
    ["Taps", "Frequency response", "φ and ψ (cascade)", "How wavelet-like?", "All channels"])
with taps_tab:
    show(cached_figure(taps_figure, learned, (fix_h0, fix_h1), learned_panel, fixed_panel, height=380),
         key="filters_taps")
    st.caption("Each bar is one tap of the cross-correlation filter (h0 blue, h1 orange); compare the shapes: Haar is "
               f"two equal lowpass taps and a +/− highpass pair. {norm_note}")

with response_tab:
    freqs, mag_lo, _ = frequency_response(learned[0], N_FREQS)
    _, mag_hi, _ = frequency_response(learned[1], N_FREQS)
    _, fix_lo, _ = frequency_response(fix_h0, N_FREQS)
    _, fix_hi, _ = frequency_response(fix_h1, N_FREQS)
    show(cached_figure(frequency_response_figure, freqs, (mag_lo, mag_hi), (fix_lo, fix_hi), learned_name, wavelet),
         key="filters_response")
    st.caption("A wavelet pair splits the band in two: h0 (blue) passes 0 cycles/sample and blocks 0.5, h1 (orange) "
               "the reverse; for a quadrature-mirror pair the curves cross at exactly 0.25. Solid = learned, "
               "dashed = fixed.")

with cascade_tab:
    if zero_filter:
        st.info(f"No cascade for this channel: {zero_filter}.", icon=":material/info:")
    else:
        x_l, phi_l, psi_l = cascade_of(raw_h0, raw_h1)
        x_f, phi_f, psi_f = cascade_of(fix_h0, fix_h1)
        show_chart(cached_figure(cascade_figure, (x_l, phi_l, psi_l), (x_f, phi_f, psi_f), "learned (normalised)",
                                 f"fixed {wavelet}"),
                   key="filters_cascade", file_name="filters_cascade.csv",
                   exact=lambda: {"t learned": x_l, "phi learned": phi_l, "psi learned": psi_l,
                                  "t fixed": x_f, "phi fixed": phi_f, "psi fixed": psi_f})
        st.caption("Iterating the filters (applying them again and again at finer scales) gives the functions they stand for. Bounded, settled "
                   "curves are needed for a wavelet (not enough on their own: see the checks); spiky or exploding "
                   "curves mean the pair is not one.")
        if max(np.abs(phi_l).max(), np.abs(psi_l).max()) > DIVERGED:
            st.warning("The cascade of the learned pair does not settle to a bounded function: these filters are far "
                       "from an orthonormal wavelet, so φ and ψ are not meaningful for them.", icon=":material/warning:")
        if not pywt.Wavelet(wavelet).orthogonal:
            st.info(f"{wavelet} is biorthogonal: its analysis filters alone are not orthonormal, so its cascade here "
                    "(which treats the pair as orthogonal) differs from PyWavelets' dual functions.", icon=":material/info:")

with checks_tab:
    table = diagnostics_frame(learned_diag.rows(), fixed_diag.rows(), learned_name, f"fixed {wavelet}")
    st.table(table)
    st.caption("Read down the columns: a learned pair that is still a wavelet has every error near 0 and a highpass "
               "sum near 0, like the fixed column." + (" (Normalised, the lowpass DC gain is √2 by construction; "
               "switch normalisation off to see the learned scale.)" if normalise else ""))

with channels_tab:
    convs = entry.net.convs
    taps0 = np.stack([c.h0.detach().double().numpy() for c in convs])  # (L C k)
    taps1 = np.stack([c.h1.detach().double().numpy() for c in convs])  # (L C k)
    distance, names, h0n, h1n = channel_overview(taps0, taps1)
    show(cached_figure(nearest_distance_figure, distance, names.tolist(), selected=(layer, channel)),
         key="filters_overview_distance")
    finite = distance[np.isfinite(distance)]
    summary_line = (f" Over all {finite.size} channels: median distance **{np.median(finite):.3f}**, "
                    f"largest **{finite.max():.3f}**." if finite.size else "")
    st.caption("One cell per channel, the sidebar's outlined. Dark = still (almost) a named wavelet; bright = learned "
               "away from every wavelet of this length (hover for the nearest name)." + summary_line)
    show(cached_figure(channel_taps_figure, h0n[layer], h1n[layer], layer, (fix_h0, fix_h1), f"{wavelet}"),
         key="filters_overview_taps")
    st.caption(f"Layer {layer}'s channels side by side (red positive, grey negative), the fixed {wavelet} in the last "
               "column when it has the same length: columns that look alike are filters that stayed put.")
