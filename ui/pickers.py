"""The sidebar's shared pickers (model, layer and channel, signal, comparison wavelet), drawn by ``app.py``
on every page, and what they picked (:func:`selection`, read by the pages).

The pickers are widgets with fixed keys, so their values carry across pages; a page that draws none
(Home) keeps them with :func:`keep_picker_choices`. A link's values reach them through :mod:`ui.links`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from multires import discrete_wavelet_names
from multires.data.signals import load_signal
from multires.options import SIGNAL_NAMES
from ui import defaults
from ui.links import report_link_problem, take_link_index
from ui.models import (
    MEMBER_KEY,
    PENDING_MODEL,
    REMOVED_MODEL,
    ModelEntry,
    all_models,
    remove_session_model,
    shown_member,
)
from ui.state import UPLOADED, uploaded_signal

__all__ = ["CHANNEL_KEY", "LAYER_KEY", "PICKER_KEYS", "SIGNAL_LENGTHS", "Selection", "cached_signal",
           "keep_picker_choices", "layer_channel_picker", "member_picker", "model_picker", "selection",
           "set_selection", "signal_picker", "wavelet_picker"]

SIGNAL_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)
#: Keys of the sidebar pickers' widgets, plus the per-model layer and channel inputs' prefixes.
PICKER_KEYS = ("model", "signal", "signal_length", "wavelet")
LAYER_KEY, CHANNEL_KEY = "layer_", "channel_"


def keep_picker_choices() -> None:
    """On a page that draws no pickers (Home), keep what the user chose in them.

    Streamlit forgets the value of a widget that a script run does not draw; writing the value
    back through the Session State API keeps it for the next page that draws the widget.
    """
    for key in list(st.session_state.keys()):
        if key in PICKER_KEYS or (isinstance(key, str) and key.startswith((LAYER_KEY, CHANNEL_KEY))):
            st.session_state[key] = st.session_state[key]


def model_picker() -> ModelEntry:
    """Sidebar: the model every page shows."""
    models = all_models()
    if not models:
        st.sidebar.error("No models: the shipped models in assets/models are missing. "
                         "Restore them from git or regenerate them with `python scripts/make_pretrained.py`.")
        st.stop()
    names = list(models)
    pending = st.session_state.pop(PENDING_MODEL, None)
    if pending in models:
        st.session_state["model"] = pending
    if st.session_state.get("model") not in models:
        st.session_state["model"] = defaults.default_model(models)
    name = st.sidebar.selectbox(
        "Model",
        names,
        key="model",
        format_func=lambda n: f"{n}  ·  {models[n].source}",
        help="Shipped models come with the app; models you train or upload join this list.",
    )
    if st.session_state.pop(REMOVED_MODEL, None) is not None:
        st.sidebar.caption("Model removed from this session; the shipped models stay.")
    if models[name].source != "shipped":
        st.sidebar.button("Remove this model", key="remove_model", on_click=remove_session_model, args=(name,),
                          icon=":material/delete:",
                          help="Drop the selected model (trained or uploaded) from this session; the shipped "
                               "models stay.")
    return models[name]


def member_picker(entry: ModelEntry) -> None:
    """On an explorer page, for a seed ensemble: a one-line note and the choice of the member shown (which
    ``entry.net`` then is); nothing for a single model."""
    count = entry.n_members
    if count == 1:
        return
    key = MEMBER_KEY + entry.name
    index = shown_member(entry)  # the widget's default: each page draws a widget of its own, starting here
    note, pick = st.columns([5, 1], vertical_alignment="center")
    note.markdown(f"This file holds an ensemble of {count} models trained with different seeds; showing member "
                  f"{index + 1} — choose another:")
    chosen = pick.selectbox("Ensemble member shown", list(range(count)), index=index, key=key,
                            label_visibility="collapsed",
                            format_func=lambda i: f"member {i + 1}",
                            help="Each member is one network trained with its own seed. Predictions (the scores on "
                                 "Compare, the class question on TREESELECT) use all of them together, their "
                                 "probabilities averaged.")
    st.session_state["_" + key] = int(chosen)


def layer_channel_picker(entry: ModelEntry) -> tuple[int, int]:
    """Sidebar: which block and channel's filters and memory to show (kept valid for every model)."""
    n_layers, channels = entry.config.n_layers, entry.config.d_model

    def from_link(key: str, size: int, plural: str) -> int | None:
        # A link's layer/channel passed the generic 0..15 / 0..511 check; it must also exist in
        # this model, else it is reported like any other bad link value (not silently clamped).
        value = take_link_index(key)
        if value is None or value < size:
            return value
        report_link_problem(f"{key}={value} does not exist in model {entry.name!r} ({plural} 0..{size - 1})")
        return None

    layer = from_link("layer", n_layers, "layers")
    channel = from_link("channel", channels, "channels")
    layer = st.session_state.get("_layer", 0) if layer is None else layer
    channel = st.session_state.get("_channel", 0) if channel is None else channel
    layer = min(int(layer), n_layers - 1)
    channel = min(int(channel), channels - 1)
    col1, col2 = st.sidebar.columns(2)
    layer = col1.number_input("Layer", 0, n_layers - 1, layer, key=LAYER_KEY + entry.name,
                              help=f"Block of the network, 0..{n_layers - 1}")
    channel = col2.number_input("Channel", 0, channels - 1, channel, key=CHANNEL_KEY + entry.name,
                                help=f"Channel within the block, 0..{channels - 1}")
    st.session_state["_layer"], st.session_state["_channel"] = int(layer), int(channel)
    return int(layer), int(channel)


def signal_picker() -> tuple[str, np.ndarray]:
    """Sidebar: the signal shown on the tree pages (a built-in one or the session's upload)."""
    real = defaults.real_signal_names()  # real GunPoint gestures first: what the default model was trained on
    options = real + list(SIGNAL_NAMES)
    upload = uploaded_signal()
    if upload is not None:
        options = [UPLOADED] + options
    if st.session_state.get("signal") not in options:
        st.session_state["signal"] = defaults.default_signal()
    name = st.sidebar.selectbox("Signal", options, key="signal",
                                help="Used by the Coefficient tree and TREESELECT pages. The GunPoint series are "
                                     "real recordings from the test split of the GunPoint models.")
    if name == UPLOADED:
        return upload["name"], upload["values"]
    if name in real:
        return name, defaults.real_series(name)
    length = st.sidebar.select_slider("Signal length", SIGNAL_LENGTHS, value=st.session_state.get("signal_length", 512),
                                      key="signal_length", help="Samples generated or cropped from the source.")
    return name, cached_signal(name, int(length))


def wavelet_picker() -> str:
    """Sidebar: the fixed PyWavelets wavelet shown beside the learned filters."""
    names = discrete_wavelet_names()
    if st.session_state.get("wavelet") not in names:
        st.session_state["wavelet"] = "haar"
    return st.sidebar.selectbox("Fixed wavelet to compare", names, key="wavelet",
                                help="Any discrete PyWavelets wavelet (pywt.wavelist(kind='discrete')).")


@st.cache_data(show_spinner=False, max_entries=64)
def cached_signal(name: str, length: int) -> np.ndarray:
    return load_signal(name, n=length)


@dataclass(frozen=True)
class Selection:
    """What the sidebar picked; pages read it with :func:`selection`."""

    entry: ModelEntry
    layer: int
    channel: int
    signal_name: str
    signal: np.ndarray
    wavelet: str


def set_selection(selection: Selection) -> None:
    st.session_state["_selection"] = selection


def selection() -> Selection:
    """The sidebar's current picks (set by ``app.py`` before the page runs)."""
    if "_selection" not in st.session_state:
        st.error("Open the app with `streamlit run app.py`: pages need the shared sidebar.")
        st.stop()
    return st.session_state["_selection"]
