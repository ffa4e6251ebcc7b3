"""The models the app can show: shipped with it, trained in this session, or uploaded.

* Shipped models are loaded once per server with ``st.cache_resource`` and never mutated
  (pages only read them under ``torch.no_grad``); their weights load on first use.
* A session's own models (trained or uploaded) live in ``st.session_state["session_models"]``.
* A seed ensemble shows one member on the explorer pages (:func:`shown_member`; chosen with
  :func:`ui.pickers.member_picker`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from multires import ModelConfig
from ui import defaults

if TYPE_CHECKING:  # torch is imported only where weights are used: the first page needs none
    from torch import nn

    from multires import MultiresNet

__all__ = ["DEFAULT_MODEL", "MEMBER_KEY", "MODELS_DIR", "PENDING_MODEL", "REMOVED_MODEL", "ROOT", "ModelEntry",
           "add_session_model", "all_models", "model_filters", "remove_session_model", "session_models",
           "shipped_models", "shown_member"]

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "assets" / "models"
#: The model a new session starts on: the paper's default layer (fading, Haar init, learned filters) trained on
#: real data (ui.defaults; a copy without it falls back to the digits model).
DEFAULT_MODEL = defaults.REAL_MODEL
#: Session keys: the model to select when the sidebar's picker is next drawn, and the one just removed.
PENDING_MODEL, REMOVED_MODEL = "pending_model", "_removed_model"


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
        (:func:`ui.pickers.member_picker`)."""
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
    st.session_state[PENDING_MODEL] = name  # applied before the picker is drawn on the next run
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
    if st.session_state.get("model") == name or st.session_state.get(PENDING_MODEL) == name:
        st.session_state.pop(PENDING_MODEL, None)
        st.session_state["model"] = defaults.default_model(all_models())
    st.session_state[REMOVED_MODEL] = name
    return True


def all_models() -> dict[str, ModelEntry]:
    return {**shipped_models(), **session_models()}


#: Session key of the ensemble member shown, per model (the widget's; ``"_" +`` it keeps the choice across pages).
MEMBER_KEY = "member_"


def shown_member(entry: ModelEntry) -> int:
    """Index of the member of ``entry``'s ensemble the explorer pages show (0, the first, until one is chosen)."""
    key = MEMBER_KEY + entry.name
    value = st.session_state.get(key, st.session_state.get("_" + key, 0))
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(value, 0), entry.n_members - 1)


def model_filters(entry: ModelEntry, layer: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        return entry.net.filters(layer, channel)
