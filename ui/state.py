"""Session state, shared pickers and cached loaders — the only place pages touch ``st.session_state``.

* Shipped models are loaded once per server with ``st.cache_resource`` and never mutated
  (pages only read them under ``torch.no_grad``).
* A session's own models (trained or uploaded) live in ``st.session_state["session_models"]``.
* The chosen model, layer, channel, signal and comparison wavelet are sidebar widgets rendered by
  ``app.py`` on every page, so they carry across pages; they are mirrored into the URL's query
  string so a view can be shared, and read back (validated) when a session starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import streamlit as st

from multires import ModelConfig, discrete_wavelet_names
from multires.data.signals import load_signal
from multires.options import MAX_SIGNAL_LENGTH, SIGNAL_NAMES
from multires.plaintext import quote
from ui import defaults
from ui.charts import PRESENT_KEY, presenting
from ui.safe_text import plain

if TYPE_CHECKING:  # torch is imported only where weights are used: the first page needs none
    from torch import nn

    from multires import MultiresNet

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "assets" / "models"
UPLOADED = "Uploaded signal"
#: The model a new session starts on: the paper's default layer (fading, Haar init, learned filters) trained on
#: real data (ui.defaults; a copy without it falls back to the digits model).
DEFAULT_MODEL = defaults.REAL_MODEL
SIGNAL_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)


class ModelEntry:
    """A model the app can show: shipped with the app, trained in this session, or uploaded.

    Give either ``net`` or, for a shipped model, a zero-argument ``loader`` and its ``config``: its
    weights are then read from disk only when a page first needs them (the sidebar needs only the
    name and config), so the app's first chart does not wait for PyTorch.
    """

    def __init__(self, name: str, net: MultiresNet | None, metrics: dict[str, Any], source: str,
                 extra: dict[str, Any] | None = None, *, config: ModelConfig | None = None,
                 loader: Callable[[], MultiresNet] | None = None) -> None:
        if (net is None) == (loader is None) or (loader is not None and config is None):
            raise ValueError("give a net, or a loader together with its config")
        self.name = name
        self._net = net
        self._loader = loader
        self.metrics = metrics
        self.source = source  # "shipped" | "trained" | "uploaded"
        self.extra = extra if extra is not None else {}  # e.g. training history, selection history
        self._config = config

    def __repr__(self) -> str:
        return f"ModelEntry({self.name!r}, source={self.source!r})"

    @property
    def model(self) -> nn.Module:
        """The whole model, what predictions and downloads use: the network, or every member of a seed ensemble
        (:class:`multires.MultiresEnsemble`, probabilities averaged)."""
        if self._net is None:
            self._net = self._loader()
        return self._net

    @property
    def n_members(self) -> int:
        """Models in this file: 1, or a seed ensemble's size (shipped models are single checkpoints)."""
        return 1 if self._net is None else int(getattr(self._net, "n_members", 1))

    @property
    def net(self) -> MultiresNet:
        """The network the explorer pages inspect: the model, or the ensemble member this session shows
        (:func:`member_picker`)."""
        model = self.model
        return model if self.n_members == 1 else model.members[shown_member(self)]

    @property
    def config(self) -> ModelConfig:
        return self._config if self._config is not None else self.model.config


@st.cache_resource(show_spinner=False, max_entries=64)
def _load_shipped_net(path: str) -> MultiresNet:
    """Weights of one shipped model, loaded once per server and never mutated (read-only)."""
    from multires.checkpoint import load_checkpoint

    net, _config, _metrics = load_checkpoint(path)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


@st.cache_resource(show_spinner=False)
def shipped_models() -> dict[str, ModelEntry]:
    """Every model in ``assets/models`` (shared by all sessions); weights load on first use."""
    from multires.checkpoint.format import read_metadata

    out: dict[str, ModelEntry] = {}
    for path in sorted(MODELS_DIR.glob("*.safetensors")):
        config, metrics = read_metadata(path)  # validated header only, no weights yet
        out[path.stem] = ModelEntry(path.stem, None, metrics, "shipped", config=config,
                                    loader=lambda p=str(path): _load_shipped_net(p))
    return out


def session_models() -> dict[str, ModelEntry]:
    """This session's own models (trained or uploaded), by name."""
    return st.session_state.setdefault("session_models", {})


def add_session_model(entry: ModelEntry) -> str:
    """Add a model to the session under a unique name and select it; returns the name used."""
    models = session_models()
    name, i = entry.name, 2
    while name in models or name in shipped_models():
        name, i = f"{entry.name} ({i})", i + 1
    entry.name = name
    models[name] = entry
    st.session_state["pending_model"] = name  # applied before the picker is drawn on the next run
    return name


def remove_session_model(name: str) -> bool:
    """Drop one of this session's own models (trained or uploaded); shipped models stay.

    Call it from a widget callback (it may reset the sidebar's ``"model"`` choice, which only a
    callback can do once the picker is drawn). Returns whether a model was removed.
    """
    models = session_models()
    if name not in models:
        return False
    del models[name]
    if st.session_state.get("model") == name or st.session_state.get("pending_model") == name:
        st.session_state.pop("pending_model", None)
        st.session_state["model"] = defaults.default_model(all_models())
    st.session_state["_removed_model"] = name
    return True


def all_models() -> dict[str, ModelEntry]:
    return {**shipped_models(), **session_models()}


# --- shared pickers (rendered by app.py in the sidebar) ----------------------------------------

_QUERY_KEYS = ("model", "layer", "channel", "signal", "n", "wavelet", "present")


def _int_param(value: str, low: int, high: int) -> int | None:
    """``value`` as a whole number in ``low..high`` written with ASCII digits (``int`` also reads
    Unicode digits such as ``١``, which no link of this app writes), else None."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        return None
    number = int(text)
    return number if low <= number <= high else None


def apply_query_params() -> None:
    """Once per session: take the view from the URL, ignoring (and reporting) bad values."""
    if st.session_state.get("_query_applied"):
        return
    st.session_state["_query_applied"] = True
    params = st.query_params
    problems = []
    # A session opened by a link that sets a picker shows the pickers on every page, Home too.
    st.session_state[LINK_SETS_PICKERS] = any(key in params for key in PICKER_LINK_PARAMS)
    if "model" in params:  # the models' headers are read only when asked (Home's first chart needs none)
        if params["model"] in all_models():
            st.session_state["model"] = params["model"]
        else:
            problems.append(f"model {quote(params['model'])} is not available")
    if "signal" in params:
        if params["signal"] in SIGNAL_NAMES or params["signal"] in defaults.real_signal_names():
            st.session_state["signal"] = params["signal"]
        else:
            problems.append(f"signal {quote(params['signal'])} is not one of the built-in signals")
    if "wavelet" in params:
        if params["wavelet"] in discrete_wavelet_names():
            st.session_state["wavelet"] = params["wavelet"]
        else:
            problems.append(f"wavelet {quote(params['wavelet'])} is not a discrete PyWavelets wavelet")
    if "present" in params:
        if params["present"] in ("0", "1"):
            st.session_state[PRESENT_KEY] = params["present"] == "1"
        else:
            problems.append(f"present={quote(params['present'])} must be 1 (presentation mode) or 0")
    for key, high in (("layer", 15), ("channel", 511), ("n", MAX_SIGNAL_LENGTH)):
        if key in params:
            value = _int_param(params[key], 0, high)
            if value is None:
                problems.append(f"{key}={quote(params[key])} must be a whole number in 0..{high}")
            else:
                st.session_state[f"query_{key}"] = value
    for key in _QUERY_KEYS:  # the URL keeps only what was applied, once each (repeated keys: the last won)
        if key not in params:
            continue
        if any(problem.startswith((f"{key} ", f"{key}=")) for problem in problems):
            del st.query_params[key]
        elif len(params.get_all(key)) > 1:
            st.query_params[key] = params[key]
    if problems:
        st.session_state["_query_problems"] = problems


def query_problems() -> list[str]:
    """The link's bad parameters, once, as plain text (show them through ``ui.safe_text.plain``)."""
    return st.session_state.pop("_query_problems", [])


def link_time_step(n_samples: int) -> int | None:
    """A link's ``n`` (time step), once, for the page whose control it sets (TREESELECT).

    ``n`` passed the generic 0..MAX_SIGNAL_LENGTH check when the session started; it must also be a
    time step of the signal shown, else it is reported like any other bad link value.
    """
    value = st.session_state.pop("query_n", None)
    if value is None or value < n_samples:
        return value
    st.warning(plain(f"Ignored a link parameter: n={value} is not a time step of this signal (0..{n_samples - 1})."),
               icon=":material/link_off:")
    return None


def share_time_step(n: int) -> None:
    """Mirror the page's time step into the URL as ``n`` (read back by :func:`link_time_step`)."""
    st.session_state["_n"] = int(n)


def share_view(**extra: Any) -> None:
    """Mirror the current view into the URL so it can be shared."""
    values = {k: st.session_state.get(k) for k in ("model", "signal", "wavelet")}
    values.update({k: st.session_state.get(f"_{k}") for k in ("layer", "channel", "n")})
    values.update(extra)
    for key, value in values.items():
        if value is not None and str(st.query_params.get(key)) != str(value):
            st.query_params[key] = str(value)
    if presenting():
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


#: Page text, captions and headings enlarged for a projector, and less empty space above the
#: title so each page's key chart stays above the fold at 1280 x 720 (figures: ui.charts.show).
_PRESENTATION_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.9rem; padding-bottom: 1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; line-height: 1.45; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.2rem; padding: 0 0 0.4rem 0; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 1.6rem; }
[data-testid="stMainBlockContainer"] label p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] button[role="tab"] p { font-size: 1.2rem; }
[data-testid="stMetricValue"] { font-size: 2rem; }
/* the back row reads what is in the boxes too: dropdowns, their lists, number and text inputs, slider values */
[data-testid="stMainBlockContainer"] [data-baseweb="select"] div,
[data-testid="stMainBlockContainer"] input, [data-testid="stMainBlockContainer"] textarea,
[data-testid="stMainBlockContainer"] [data-testid="stSliderThumbValue"],
[data-testid="stMainBlockContainer"] [data-testid="stSliderTickBarMin"],
[data-testid="stMainBlockContainer"] [data-testid="stSliderTickBarMax"] { font-size: 1.1rem; }
[data-baseweb="popover"] li, [data-baseweb="popover"] [role="option"] { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] { color: rgba(49, 51, 63, 0.85); }
[data-testid="stMainBlockContainer"] [data-testid="stExpander"] summary p { font-size: 1.15rem; }
</style>
"""


def presentation_layout() -> None:
    """Start of every run: collapse the sidebar and enlarge the page text when presenting.

    Only layout changes: every widget is still drawn with the same key, so switching presentation
    mode on or off keeps the session's models and every choice made on the pages.
    """
    st.set_page_config(initial_sidebar_state="collapsed" if presenting() else "auto")
    if presenting():
        st.html(_PRESENTATION_CSS)


def presentation_toggle() -> bool:
    """Sidebar: the presentation-mode switch (mirrored into the URL as ``present=1``)."""
    return st.sidebar.toggle(
        "Presentation mode", key=PRESENT_KEY,
        help="For a projector: the sidebar folds away, fonts grow, each page's key chart fits on a 1280×720 "
             "screen. Open the sidebar (top-left arrow) to change the model or signal, or to switch it off.",
    )


#: Keys of the sidebar pickers' widgets, plus the per-model layer and channel inputs' prefixes.
PICKER_KEYS = ("model", "signal", "signal_length", "wavelet")
LAYER_KEY, CHANNEL_KEY = "layer_", "channel_"
#: Link parameters that set a picker, and the session flag saying the session's link had one.
PICKER_LINK_PARAMS = ("model", "signal", "wavelet", "layer", "channel", "n")
LINK_SETS_PICKERS = "_link_sets_pickers"


def pickers_on_home() -> bool:
    """Whether Home draws the sidebar pickers: only for a session opened by a link that sets one
    (so the link's choices are shown and checked at once). Home reads no picker, and without them
    the browser draws its chart sooner."""
    return bool(st.session_state.get(LINK_SETS_PICKERS, False))


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
    pending = st.session_state.pop("pending_model", None)
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
    if st.session_state.pop("_removed_model", None) is not None:
        st.sidebar.caption("Model removed from this session; the shipped models stay.")
    if models[name].source != "shipped":
        st.sidebar.button("Remove this model", key="remove_model", on_click=remove_session_model, args=(name,),
                          icon=":material/delete:",
                          help="Drop the selected model (trained or uploaded) from this session; the shipped "
                               "models stay.")
    return models[name]


#: Session key of the ensemble member shown, per model (the widget's; ``"_" +`` it keeps the choice across pages).
MEMBER_KEY = "member_"


def shown_member(entry: ModelEntry) -> int:
    """Index of the member of ``entry``'s ensemble the explorer pages show (0, the first, until one is chosen)."""
    key = MEMBER_KEY + entry.name
    value = st.session_state.get(key, st.session_state.get("_" + key, 0))
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(value, 0), entry.n_members - 1)


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
        value = st.session_state.pop(f"query_{key}", None)
        if value is None or value < size:
            return value
        st.session_state.setdefault("_query_problems", []).append(
            f"{key}={value} does not exist in model {entry.name!r} ({plural} 0..{size - 1})")
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
    if "uploaded_signal" in st.session_state:
        options = [UPLOADED] + options
    if st.session_state.get("signal") not in options:
        st.session_state["signal"] = defaults.default_signal()
    name = st.sidebar.selectbox("Signal", options, key="signal",
                                help="Used by the Coefficient tree and TREESELECT pages. The GunPoint series are "
                                     "real recordings from the test split of the GunPoint models.")
    if name == UPLOADED:
        upload = st.session_state["uploaded_signal"]
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


def model_filters(entry: ModelEntry, layer: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        return entry.net.filters(layer, channel)


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


def use_uploaded_signal(name: str, values: np.ndarray) -> None:
    """Store an uploaded signal as this session's and select it in the sidebar's Signal picker.

    Call it from a widget callback (``on_change`` / ``on_click``): callbacks run before the next run
    draws the sidebar, the one moment the picker's ``"signal"`` state may still be set.
    """
    st.session_state["uploaded_signal"] = {"name": str(name), "values": np.asarray(values, dtype=np.float64)}
    st.session_state["signal"] = UPLOADED


# --- a page's own keys: pages read and write session state only through these -----------------


def get(key: str, default: Any = None) -> Any:
    """The session's value for ``key`` (a page's widget or its own note), or ``default``."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    """Set ``key`` (a widget's value only from a callback, or before the widget is drawn)."""
    st.session_state[key] = value


def drop(key: str) -> Any:
    """Forget ``key``; returns what it held (``None`` if nothing)."""
    return st.session_state.pop(key, None)


def has(key: str) -> bool:
    return key in st.session_state


def keep_valid(key: str, options: list, default: Any) -> Any:
    """Before a choice widget is drawn: reset its value to ``default`` unless it is one of ``options``."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return st.session_state[key]


def once_per(key: str, identity: Any) -> bool:
    """True the first time ``identity`` is seen under ``key`` (then remembered), e.g. to process an upload once."""
    if st.session_state.get(key) == identity:
        return False
    st.session_state[key] = identity
    return True
