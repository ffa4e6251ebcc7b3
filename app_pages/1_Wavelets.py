"""Wavelets: the mother wavelet, its compressed and shifted family, and why the family is orthonormal."""

from __future__ import annotations

import numpy as np
import pywt
import streamlit as st

from multires.analysis.families import family_gram, wavelet_family, wavelet_properties
from multires.analysis.filters import ORTHOGONAL_FAMILIES, filter_diagnostics
from multires.figures.wavelets import family_figure, family_members_shown, gram_heatmap, mother_wavelet_figure
from multires.wavelets import wavelet_filters
from ui.charts import show
from ui.figure_cache import cached_figure
from ui.reduced import show_chart

PASS_TOLERANCE = 1e-3  # |value - ideal| counted as a pass (dmey, an FIR approximation, misses by ~0.015)
MAX_GRAM_MEMBERS = 400  # larger Gram matrices are slow to send and unreadable on screen
MAX_FAMILY_SAMPLES = 12_000_000  # members x grid points held in memory (about 100 MB)
GRID_POINTS = 20_000  # cascade samples on [0, S]: finer grids shrink the Gram matrix's sampling error


def cascade_level(support: int) -> int:
    """Finest cascade level (8..12) whose grid on ``[0, support]`` stays within GRID_POINTS samples."""
    return int(np.clip(np.floor(np.log2(GRID_POINTS / max(support, 1))), 8, 12))


@st.cache_data(show_spinner=False)
def orthogonal_wavelets() -> list[str]:
    """Orthogonal PyWavelets wavelets, haar first, then db, sym, coif, dmey."""
    names = [n for family in ORTHOGONAL_FAMILIES for n in pywt.wavelist(family)]
    return names + [n for n in pywt.wavelist(kind="discrete") if n not in names and pywt.Wavelet(n).orthogonal]


def feasible_levels(support: int, level: int, levels: int) -> int:
    """Most scales (<= levels) whose sampled family stays within MAX_FAMILY_SAMPLES numbers."""
    grid = support * 2**level + 1
    while levels > 1 and (support * (2**levels - 1 - levels) + levels) * grid > MAX_FAMILY_SAMPLES:
        levels -= 1
    return levels


@st.cache_resource(show_spinner="Sampling the wavelet family…", max_entries=16)  # shared, read-only: no copy per run
def family_data(name: str, levels: int):
    support = pywt.Wavelet(name).dec_len - 1
    level = cascade_level(support)
    levels = feasible_levels(support, level, levels)
    family = wavelet_family(name, levels=levels, level=level)
    members = [(j, k) for j, k, _ in family.members]
    gram_levels = levels
    while gram_levels > 1 and sum(1 for j, _ in members if j < gram_levels) > MAX_GRAM_MEMBERS:
        gram_levels -= 1
    gram_family = family if gram_levels == levels else wavelet_family(name, levels=gram_levels, level=level)
    gram = family_gram(gram_family)
    gram_members = [(j, k) for j, k, _ in gram_family.members]
    return family, gram, gram_members


def mother_figure(name: str, levels: int):
    family, _, _ = family_data(name, levels)
    return mother_wavelet_figure(family.t, family.phi, family.psi, name)


def members_figure(name: str, levels: int):
    family, _, _ = family_data(name, levels)
    return family_figure(family.t, family.members, family.support, name)


def gram_figure(name: str, levels: int):
    _, gram, gram_members = family_data(name, levels)
    return gram_heatmap(gram, gram_members, name)


@st.cache_data(show_spinner=False, max_entries=32)
def properties(name: str):
    return wavelet_properties(name)


@st.cache_data(show_spinner=False, max_entries=32)
def filter_orthonormality(name: str) -> float:
    """The exact orthonormality error of the wavelet's filter pair (shifts by 2), no sampling involved."""
    return float(filter_diagnostics(*wavelet_filters(name)).orthonormality_error)


def six_places(value: float) -> str:
    """``value`` to 6 decimals, without a distracting "-0.000000"."""
    return f"{0.0 if abs(value) < 5e-7 else value:.6f}"


def verdict(value: float, ideal: float) -> str:
    error = abs(value - ideal)
    if error < PASS_TOLERANCE:
        return ":green-badge[:material/check: pass]"
    if error < 0.05:
        return ":orange-badge[:material/warning: close]"
    return ":red-badge[:material/close: fail]"


st.title("Wavelets: one shape, compressed and shifted")
st.markdown(
    "A **wavelet** ψ is a short wave with **zero mean**. Its family ψ<sub>j,k</sub>(t) = 2<sup>j/2</sup> "
    "ψ(2<sup>j</sup>t − k) **compresses** it by 2<sup>j</sup> and shifts it by k·2<sup>−j</sup>; for an *orthogonal* "
    "wavelet the family is an orthonormal basis, splitting a signal into scales without double counting.",
    unsafe_allow_html=True,
)

names = orthogonal_wavelets()
controls = st.columns([2, 2, 3], gap="large")
with controls[0]:
    name = st.selectbox("Orthogonal wavelet", names, index=names.index("haar"), key="wv_name",
                        help="Every orthogonal PyWavelets wavelet: haar, Daubechies dbN, symlets symN, coiflets "
                             "coifN and dmey. Biorthogonal wavelets have no orthonormal family.")
with controls[1]:
    levels = st.slider("Scales j shown", 2, 5, 4, key="wv_levels",
                       help="Rows j = 0 .. levels − 1 of the family (the Gram matrix uses at most "
                            f"{MAX_GRAM_MEMBERS} members).")
wavelet = pywt.Wavelet(name)
with controls[2]:
    st.markdown(f"**{wavelet.family_name}**, filter length {wavelet.dec_len}, support [0, {wavelet.dec_len - 1}], "
                f"{wavelet.vanishing_moments_psi or '–'} vanishing moment(s).")

family, gram, gram_members = family_data(name, int(levels))
family_levels = max(j for j, _, _ in family.members) + 1
if family_levels < levels:
    st.info(f"{name} is long (support {wavelet.dec_len - 1}): showing scales j < {family_levels} to keep the page "
            "responsive.")
props = properties(name)
off = float(np.abs(gram - np.eye(gram.shape[0])).max())

mother_tab, family_tab, gram_tab = st.tabs(["Mother wavelet ψ", "The family ψ_j,k", "Why it is a basis (Gram matrix)"])
with mother_tab:
    left, right = st.columns([3, 2], gap="large")
    with left:
        show_chart(cached_figure(mother_figure, name, int(levels)), key="wv_mother",
                   exact=lambda: {"t": family.t, "phi": family.phi, "psi": family.psi}, file_name=f"{name}_phi_psi.csv")
        st.caption("ψ (solid) swings above and below zero so its area cancels; φ (dotted), the scaling function of "
                   "the lowpass h0, is a local average with area 1.")
    with right:
        st.markdown("#### The defining properties")
        c1, c2 = st.columns(2)
        c1.metric("Zero mean: ∫ψ(t) dt", six_places(props.psi_integral),
                  help="Trapezoid rule on the cascade grid; ideal 0.")
        c1.markdown(verdict(props.psi_integral, 0.0))
        c2.metric("Unit norm: ∫ψ(t)² dt", six_places(props.psi_energy),
                  help="Ideal 1. Any wavelet has finite energy ∫ψ²; PyWavelets' orthogonal ψ is scaled to norm 1, "
                       "so every member 2^(j/2) ψ(2^j t − k) has norm 1 too.")
        c2.markdown(verdict(props.psi_energy, 1.0))
        c3, c4 = st.columns(2)
        c3.metric("Local average: ∫φ(t) dt", six_places(props.phi_integral), help="Ideal 1: φ is a local average.")
        c3.markdown(verdict(props.phi_integral, 1.0))
        exact_error = filter_orthonormality(name)
        c4.metric("Orthonormal filters: error", f"{exact_error:.1e}",
                  help="Exact check on the wavelet's two filters h0, h1 and their shifts by 2 (no sampling): 0 means "
                       "the family is orthonormal.")
        c4.markdown(verdict(exact_error, 0.0))
        st.caption(f"Pass: within {PASS_TOLERANCE:g} of the ideal value. The integrals are sums over ψ and φ sampled "
                   f"on a grid, so they carry a small sampling error. The sampled Gram matrix (third tab) is off the "
                   f"identity by at most {off:.4f}: that is the grid, not the wavelet"
                   + (" (Haar is exactly orthonormal; its jumps are what a grid samples worst)." if name == "haar"
                      else "."))
        st.markdown(
            "**And MultiresConv?** A discrete pair h0/h1 generates such a family (by the cascade) when it is a "
            "perfect-reconstruction, orthonormal pair — the fixed wavelets here are. A model's h0/h1 start from "
            "one (wavelet init) or from random taps, and training moves them: a learned pair is near a wavelet "
            "pair, not exactly one. The Filters page measures how near; the Playground lets you try your own."
        )

with family_tab:
    show_chart(cached_figure(members_figure, name, int(levels)), key="wv_family",
               exact=lambda: {"t": family.t, **{f"psi_{j},{k}": v
                                                for j, k, v in family_members_shown(family.members, family.support)}},
               file_name=f"{name}_family.csv")
    st.caption("Each row down compresses ψ by 2 and doubles the number of translates; the height grows by √2 so every "
               "copy keeps norm 1. Shown: the shifts that tile the support without overlap (the Gram matrix uses all).")

with gram_tab:
    left, right = st.columns([1, 1], gap="large")
    with left:
        show(cached_figure(gram_figure, name, int(levels)), key="wv_gram")
        shown_levels = max(j for j, _ in gram_members) + 1
        note = "" if shown_levels == family_levels else f" (scales j < {shown_levels} only, to keep it readable)"
        st.caption(f"Inner products of every pair of members, every shift{note}: a red diagonal of 1s on a white "
                   "background means the family is orthonormal.")
    with right:
        st.markdown("#### How to read the Gram matrix")
        st.markdown(
            f"Entry (i, i′) is the inner product ∫ψ<sub>i</sub>(t) ψ<sub>i′</sub>(t) dt of two members, ordered by "
            f"scale j (blocks) and shift k within a block. The diagonal is each member's squared norm, 1 because ψ "
            f"has norm 1 and the 2<sup>j/2</sup> factor makes up for the compression. Off the diagonal, members at "
            f"the **same scale** are orthogonal because ψ is orthogonal to its own integer shifts; members at "
            f"**different scales** are orthogonal because a coarser member is built from the finer scale's "
            f"translates of φ, and finer wavelets are orthogonal to all of those (for Haar you can see it: the "
            f"coarser ψ is constant wherever a finer one lives, and the finer one has zero mean). Largest deviation "
            f"from the identity here: **{off:.4f}**, from sampling the functions on a grid of spacing "
            f"2<sup>−{cascade_level(wavelet.dec_len - 1)}</sup>.",
            unsafe_allow_html=True,
        )
