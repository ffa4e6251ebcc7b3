"""Coefficient tree: the whole multiresolution tree of a signal, learned filters beside a fixed wavelet."""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires import default_depth, wavelet_filters
from multires.figures.reduce import HALF_WIDTH_PX
from multires.figures.tree import level_energy, level_traces, normalized_level_energy, signal_figure, tree_heatmap
from multires.data.uploads import UPLOAD_EXTENSIONS, parse_upload
from multires.data.uploads.checks import ParsedSignal, SignalError, SignalTooLongError, window_signal
from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
from ui import state
from ui.charts import presenting, show
from ui.safe_text import figure_text, plain
from ui.figure_cache import cached_figure
from ui.reduced import csv_bytes, show_chart
from ui.trees import tree_rows

UPLOAD_KEY, COLUMN_KEY, START_KEY, ERROR_KEY = "tree_upload", "tree_upload_column", "tree_upload_start", "tree_upload_error"
MAX_DEPTH = 14


# --- uploads ---------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(data: bytes, filename: str, column: str | None) -> tuple[ParsedSignal, bool]:
    """Parse an upload; a signal that is too long comes back whole with ``True`` (window it next)."""
    try:
        return parse_upload(data, filename, column), False
    except SignalTooLongError as error:
        return error.parsed, True


def upload_choice(data: bytes, filename: str, column: str | None, start: int | None) -> tuple[str, np.ndarray]:
    """Name and values of an upload with the user's column and window choices (raises SignalError)."""
    parsed, too_long = read_upload(data, filename, column)
    name, values = filename, parsed.values
    if len(parsed.columns) > 1:
        name += f" · {parsed.column}"
    if too_long:
        first = min(max(int(start or 0), 0), values.size - MAX_SIGNAL_LENGTH)
        values = window_signal(values, first, MAX_SIGNAL_LENGTH)
        name += f" · samples {first}–{first + MAX_SIGNAL_LENGTH - 1}"
    return name, values


def file_identity(file) -> tuple:
    """Tells two uploads apart, even two files with the same name."""
    return getattr(file, "file_id", None), file.name, file.size


def sync_upload(new_file: bool = False) -> None:
    """Callback of the upload widgets: read the file with the current choices and select it in the sidebar.

    On a SignalError the message is kept, with the identity of the file it is about, for display (only
    while that file is the current one) and the session's signal stays as it was.
    """
    if new_file:  # choices made for the previous file do not apply to this one
        st.session_state.pop(COLUMN_KEY, None)
        st.session_state.pop(START_KEY, None)
    file = st.session_state.get(UPLOAD_KEY)
    if file is None:
        st.session_state.pop(ERROR_KEY, None)
        return
    try:
        name, values = upload_choice(file.getvalue(), file.name, st.session_state.get(COLUMN_KEY),
                                     st.session_state.get(START_KEY))
    except SignalError as error:
        st.session_state[ERROR_KEY] = (file_identity(file), f"Could not use {file.name}: {error}")
        return
    st.session_state.pop(ERROR_KEY, None)
    state.use_uploaded_signal(name, values)


# --- derived arrays --------------------------------------------------------------------------


# Figures of a tree, cached (ui.figure_cache) by the tree's inputs: hashing x and the filters on every
# run costs far less than hashing the J + 1 rows they produce.
def heatmap_figure(x, h0, h1, depth, *args, **kwargs):
    return tree_heatmap(tree_rows(x, h0, h1, depth), *args, **kwargs)


def traces_figure(x, h0, h1, depth, *args, **kwargs):
    return level_traces(tree_rows(x, h0, h1, depth), *args, **kwargs)


def energy_figure(x, h0, h1, depth, *args, **kwargs):
    return level_energy(tree_rows(x, h0, h1, depth), *args, **kwargs)


def tree_columns(x: np.ndarray, rows: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The exact values behind the tree's charts: time, signal and every level."""
    return {"t": np.arange(x.size), "x": x, **{label: values for label, values in rows}}


# --- page ------------------------------------------------------------------------------------

st.title("The coefficient tree")
st.markdown(
    "J + 1 numbers per time step: details b<sub>1</sub> (fastest changes) … b<sub>J</sub> (slowest) and a<sub>J</sub> "
    "(with Haar: 2<sup>J/2</sup> × the mean of the last 2<sup>J</sup> samples). Left **learned** filters, right a "
    "**fixed wavelet**.",
    unsafe_allow_html=True,
)

sel = state.selection()
x = np.asarray(sel.signal, dtype=np.float64)
n_samples = x.size
model_h0, model_h1 = state.model_filters(sel.entry, sel.layer, sel.channel)
wave_h0, wave_h1 = wavelet_filters(sel.wavelet)
model_depth = sel.entry.net.convs[sel.layer].depth

controls = st.columns([2, 2, 3], gap="large", vertical_alignment="bottom")
with controls[0]:
    top_depth = min(MAX_DEPTH, max(default_depth(n_samples, 2), 1))
    depth = int(st.slider("Tree depth J", 1, top_depth, min(top_depth, default_depth(n_samples, model_h0.size)),
                          key="tree_depth",
                          help="Number of levels. The default is the smallest J whose coarsest level sees the "
                               f"whole signal; the model's layer itself uses J = {model_depth}."))
with controls[1]:
    normalize = st.toggle("Scale rows separately", value=True, key="tree_normalize",
                          help="Coarse levels have much larger coefficients than fine ones; scaling each row "
                               "keeps the fine details visible. Hover always shows the true value.")
with controls[2]:
    st.markdown(f"**{plain(sel.signal_name)}**, {n_samples} samples · learned filters: k = {model_h0.size} · "
                f"{sel.wavelet}: k = {wave_h0.size}")

sides = {  # subheader, short name for figure titles, filters
    "model": (f"Learned: {figure_text(sel.entry.name)}, layer {sel.layer}, channel {sel.channel}", "learned filters",
              model_h0, model_h1),
    "wavelet": (f"Fixed wavelet: {sel.wavelet}", sel.wavelet, wave_h0, wave_h1),
}
trees = {side: tree_rows(x, h0, h1, depth) for side, (_, _, h0, h1) in sides.items()}
tabs = st.tabs(["Trees side by side", "Each level over time", "Energy per level", "Predict, then reveal",
                "Your own signal"])

with tabs[0]:
    row = st.columns(2, gap="large")
    for column, (side, (subtitle, title, h0, h1)) in zip(row, sides.items()):
        with column:
            show_chart(cached_figure(heatmap_figure, x, h0, h1, depth, subtitle, normalize_rows=normalize,
                                     height=min(360, 90 + (26 if presenting() else 24) * (depth + 1)),
                                     width_px=HALF_WIDTH_PX),
                       key=f"tree_heatmap_{side}", exact=lambda rows=trees[side]: tree_columns(x, rows),
                       file_name=f"tree_{side}.csv")
    st.caption("Rows are levels (coarsest a<sub>J</sub> at the top, finest b<sub>1</sub> at the bottom), columns are "
               "time; red is positive, dark grey negative, white near 0. Look for where edges and bursts light up each "
               "level; coarse rows fade in from the left because the causal tree assumes zeros before t = 0.",
               unsafe_allow_html=True)
    show_chart(cached_figure(signal_figure, x, figure_text(sel.signal_name), height=200), key="tree_signal",
               exact=lambda: {"t": np.arange(x.size), "x": x}, file_name="signal.csv")
    st.caption("The signal both trees decompose (sidebar: Signal, or your upload on the last tab).")

with tabs[1]:
    row = st.columns(2, gap="large")
    for column, (side, (_, title, h0, h1)) in zip(row, sides.items()):
        with column:
            show_chart(cached_figure(traces_figure, x, h0, h1, depth, f"Each level over time · {title}",
                                     width_px=HALF_WIDTH_PX),
                       key=f"tree_traces_{side}", exact=lambda rows=trees[side]: tree_columns(x, rows),
                       file_name=f"tree_levels_{side}.csv")
    st.caption("The same rows as curves on a shared time axis: fine levels wiggle fast, coarse levels move slowly.")

energies = {side: normalized_level_energy(trees[side]) for side in sides}
row_labels = [label for label, _ in trees["wavelet"]]
with tabs[3]:
    st.markdown(f"#### Which level holds the largest share of this signal's energy (tree of the fixed wavelet {sel.wavelet}, "
                f"J = {depth})?")
    level_guess = st.radio("Your guess", row_labels, horizontal=True, index=None, key="tree_q_level_guess",
                           on_change=lambda: st.session_state.pop("tree_q_level_shown", None))
    if st.button("Reveal", key="tree_q_level_reveal", icon=":material/visibility:"):
        st.session_state["tree_q_level_shown"] = True
    revealed = row_labels[int(np.argmax(energies["wavelet"]))] if st.session_state.get("tree_q_level_shown") else None
    if revealed is not None:
        share = 100 * energies["wavelet"].max() / energies["wavelet"].sum()
        (st.success if level_guess == revealed else st.warning)(
            f"{revealed} holds the most: {share:.0f} % of the energy"
            + ("." if level_guess == revealed else f"; you guessed {level_guess}.")
            + " The Energy tab outlines it too.")
        show(cached_figure(energy_figure, x, wave_h0, wave_h1, depth, f"Energy per level · {sel.wavelet}",
                           highlight=revealed),
             key="tree_q_level_figure")
        st.caption("Slow, smooth signals live in a_J and the coarse details; noise and sharp edges in b1, b2.")

with tabs[2]:
    row = st.columns(2, gap="large")
    for column, (side, (_, title, h0, h1)) in zip(row, sides.items()):
        with column:
            show(cached_figure(energy_figure, x, h0, h1, depth, f"Energy per level · {title}",
                               highlight=revealed if side == "wavelet" else None), key=f"tree_energy_{side}")
            safe_name = "".join(c if c.isalnum() else "_" for c in f"{sel.signal_name}_{side}")
            st.download_button(f"Download coefficients (CSV, {depth + 1} levels × {n_samples} samples)",
                               lambda rows=trees[side]: csv_bytes(tree_columns(x, rows)),  # written on click
                               file_name=f"tree_{safe_name}.csv", mime="text/csv", on_click="ignore",
                               key=f"tree_download_{side}", icon=":material/download:")
    st.caption("Each level's Σc² / 2^l as a share of their total (level l of the undecimated tree interleaves the "
               "level-l DWT coefficients of 2^l shifts of the signal; dividing by 2^l averages over the shifts). For an orthogonal wavelet these energies add up to ‖x‖², up to the "
               "zero padding at the start, so the bars split the signal's energy by scale; learned filters need not "
               "conserve energy. Where does this signal live in scale?")

with tabs[4]:
    st.markdown("**Use your own signal:** upload CSV, TXT, NPY or WAV.")
    file = st.file_uploader(
        "Signal file", type=[e.lstrip(".") for e in UPLOAD_EXTENSIONS], key=UPLOAD_KEY,
        on_change=sync_upload, kwargs={"new_file": True},
        help=f"One column of numbers (CSV/TXT), a 1-D NumPy array (.npy) or PCM audio (.wav, averaged to mono). "
             f"Files up to {MAX_UPLOAD_BYTES / 1e6:g} MB; up to {MAX_SIGNAL_LENGTH} samples are shown, longer signals "
             "offer a window.",
    )
    # The message of a refused file is shown only while that file is the current one: a file the
    # browser refused (too large) or a removed file must not leave an earlier file's error behind.
    stored = st.session_state.get(ERROR_KEY)
    error = stored[1] if file is not None and stored is not None and stored[0] == file_identity(file) else None
    if error:
        st.error(plain(error))
    elif file is not None:
        try:
            parsed, too_long = read_upload(file.getvalue(), file.name, st.session_state.get(COLUMN_KEY))
        except SignalError as problem:  # only if the file changed without its callback running
            st.error(plain(f"Could not use {file.name}: {problem}"))
        else:
            if len(parsed.columns) > 1:
                st.selectbox(f"{parsed.axis.capitalize()} to use", parsed.columns,
                             index=parsed.columns.index(parsed.column), key=COLUMN_KEY, on_change=sync_upload,
                             format_func=str, help=f"The file has several numeric {parsed.axis}s; pick the one to analyse.")
            if too_long:
                st.slider(f"Window start (the file has {parsed.values.size} samples; {MAX_SIGNAL_LENGTH} are used)",
                          0, parsed.values.size - MAX_SIGNAL_LENGTH, 0, step=1, key=START_KEY,
                          on_change=sync_upload, help="First sample of the window that is analysed.")
            if parsed.note:
                st.caption(plain(f"Read {file.name}: {parsed.note}."))
    st.caption("A file that reads cleanly becomes the sidebar's **Uploaded signal** and is used on every page. "
               f"A file over {MAX_UPLOAD_BYTES / 1e6:g} MB is refused by the browser itself: it shows as a red chip "
               "(hover it for the reason) and the previous file, and any message about it, stays.")
