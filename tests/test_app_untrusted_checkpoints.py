"""Bad checkpoints through the app: crafted files, removable session models, all-zero filters, cost bombs.

Every bad file (here, and the crafted ones of ``tests/test_checkpoint_untrusted.py``) is uploaded on the
Train page of a session with its own model and choices (``conftest.open_session``): the user sees a
message naming the problem, the session's models and sidebar choices are unchanged, and every page
still runs afterwards. Files are refused at the earliest possible stage: the functions that would read
tensor data or build a model are replaced by ones that fail the test if called. Pickle payloads are
live (``test_the_pickle_traps_are_live``) and must never create their marker. A session model (trained or uploaded) can be removed from the sidebar, shipped models cannot; a
model with all-zero filters and one with the largest receptive field a config may have keep the
Filters and TREESELECT pages working.
"""

from __future__ import annotations

import io
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

import multires.checkpoint.io as checkpoint_module
import multires.model as model_module
from conftest import (
    SESSION_MODEL,
    CaseLog,
    Trap,
    assert_shown,
    open_app,
    open_session,
    record_reliability,
    rewrite_checkpoint,
    snapshot,
    upload,
    widget,
)
from multires import ModelConfig
from multires.checkpoint import checkpoint_bytes
from multires.model import build_model
from multires.options import MAX_ANALYSED_WINDOW, MAX_RECEPTIVE_FIELD
from multires.treeselect import receptive_field
from test_checkpoint_untrusted import (
    BAD_METRICS,
    DEEP,
    GOOD,
    raw_header,
    with_config,
    with_metric,
    with_metrics,
)
from ui import upload_worker
from ui.models import DEFAULT_MODEL, ModelEntry

TRAIN_PAGE = "app_pages/5_Train.py"
CASES = CaseLog()
PAGES = ["app_pages/0_Home.py", "app_pages/2_Filters.py", "app_pages/3_Coefficient_tree.py",
         "app_pages/4_TREESELECT.py", "app_pages/5_Train.py", "app_pages/6_Compare.py"]

# --- checkpoint uploads on the Train page: the library's cases ------------------------------------------------------------


def pickle_payload(marker: Path) -> bytes:
    return pickle.dumps({"state_dict": Trap(marker), "epoch": 3})


def torch_save_payload(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"state_dict": Trap(marker)}, buffer)
    return buffer.getvalue()


def non_finite(tensors):
    h0 = tensors["layers.0.conv.h0"].clone()
    h0[0, 0] = float("nan")
    return {**tensors, "layers.0.conv.h0": h0}


# Stages a bad checkpoint must be refused at (each forbids everything after it):
#   "header": before any model is built, even on the meta device, and before tensor data is read;
#   "shapes": after the meta-device shape check, before tensor data is read;
#   "data":   after reading the tensors, before a real model is built.
GPT = {"n_layer": 12, "n_head": 12, "n_embd": 768, "vocab_size": 50257, "block_size": 1024}
CHECKPOINT_CASES: dict[str, tuple[bytes | Callable[[Path], bytes], str, str]] = {
    "pickle-renamed": (pickle_payload, "header", "not a safetensors checkpoint"),
    "torch-save-renamed": (torch_save_payload, "header", "not a safetensors checkpoint"),
    "empty": (b"", "header", "too short"),
    "truncated-header": (GOOD[:100], "header", "truncated"),
    "truncated-data": (GOOD[:-7], "header", "truncated"),
    "trailing-garbage": (GOOD + b"\0" * 16, "header", "unexpected bytes"),
    "plain-safetensors": (st_save({"w": torch.zeros(3)}), "header", "no string metadata"),
    "other-format": (rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "format": "someone-else"}), "header",
                     "format is 'someone-else'"),
    "other-architecture-config": (rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "config": json.dumps(GPT)}), "header",
                                  r"unknown (model )?config fields \[.block_size."),
    "config-not-json": (rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "config": "{not json"}), "header",
                        "invalid model config"),
    "absurd-d_model": (with_config(d_model=10**9), "header", "d_model must be an integer in 1..512"),
    "absurd-n_layers": (with_config(n_layers=10**6), "header", "n_layers must be an integer in 1..16"),
    "absurd-seq_len": (with_config(seq_len=10**12), "header", "seq_len must be an integer in 1..65536"),
    "absurd-memory_size": (with_config(tree_select="uniform", memory_size=10**9), "header",
                           "memory_size must be an integer in 1..4096"),
    # The largest kernel a config may have (64 channels x 65536 samples = multires.options.MAX_KERNEL_VALUES).
    "largest-allowed-config-wrong-weights": (
        with_config(d_model=64, n_layers=16, seq_len=65536), "shapes", "the config needs"),
    "costly-config": (with_config(d_model=512, n_layers=16, seq_len=65536), "header",
                      "kernel would hold 512 channels x .* more than the 4194304 allowed"),
    "dmey-depth-16": (with_config(d_model=1, wavelet="dmey", depth=16), "header",
                      "receptive field .* = 3997636 samples"),
    "wrong-shape": (rewrite_checkpoint(GOOD, tensors=lambda t: {**t, "decoder.weight": torch.zeros(10, 7)}), "shapes",
                    "decoder.weight"),
    "wrong-dtype": (rewrite_checkpoint(GOOD, tensors=lambda t: {**t, "encoder.weight": t["encoder.weight"].double()}),
                    "shapes", "encoder.weight.*F64"),
    "unknown-tensor": (rewrite_checkpoint(GOOD, tensors=lambda t: {**t, "backdoor.weight": torch.zeros(3)}), "shapes",
                       "does not know: backdoor.weight"),
    "non-finite-weights": (rewrite_checkpoint(GOOD, tensors=non_finite), "data", "non-finite"),
}


def _load_shipped_weights() -> None:
    """Load every shipped model's weights now: the app may load them lazily (building a model), and
    the stage checks below forbid model builds, which must only ever catch the upload's."""
    from ui import models

    for entry in models.shipped_models().values():
        assert entry.net is not None


def _forbid(monkeypatch, stage: str) -> None:
    def forbidden(*_args, **_kwargs):
        raise AssertionError(f"a bad checkpoint got past the {stage!r} stage")

    # The app checks uploads in a worker process, where these replacements would not exist: check in this one.
    monkeypatch.setattr(upload_worker, "INLINE", True)
    monkeypatch.setattr(checkpoint_module, "build_model", forbidden)  # a real (allocated) model
    if stage in ("header", "shapes"):
        monkeypatch.setattr(checkpoint_module, "_safetensors_load", forbidden)  # reading tensor data
    if stage == "header":
        monkeypatch.setattr(model_module.MultiresNet, "__init__", forbidden)  # any build, even on meta


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_bad_checkpoint_upload_is_refused_early_and_the_session_kept(case, tmp_path, monkeypatch):
    data, stage, message = CHECKPOINT_CASES[case]
    marker = tmp_path / "unpickled"
    if callable(data):
        data = data(marker)
    at = open_session(TRAIN_PAGE)
    before = snapshot(at)
    _load_shipped_weights()
    _forbid(monkeypatch, stage)
    upload(at, "train_upload", f"{case}.safetensors", data)
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.error, f"“{case}.safetensors” is not a usable checkpoint: .*{message}")
    assert snapshot(at) == before
    assert not marker.exists()
    CASES.passed_case("checkpoint_upload", case)


def test_a_good_checkpoint_still_loads_after_a_bad_one():
    at = open_session(TRAIN_PAGE)
    upload(at, "train_upload", "broken.safetensors", GOOD[:-7])
    assert_shown(at.error, "truncated")
    upload(at, "train_upload", "fine.safetensors", GOOD)
    assert not at.exception and "fine" in at.session_state["session_models"]
    assert SESSION_MODEL in at.session_state["session_models"]
    assert widget(at.sidebar.selectbox, "model").value == "fine"



def test_the_pickle_traps_are_live(tmp_path):
    """Control: the payloads above really would create their marker if anything unpickled them."""
    first, second = tmp_path / "a", tmp_path / "b"
    pickle.loads(pickle_payload(first))
    torch.load(io.BytesIO(torch_save_payload(second)), weights_only=False)
    assert first.exists() and second.exists()


# --- the crafted files of tests/test_checkpoint_untrusted.py --------------------------------------------

CRAFTED: dict[str, tuple[bytes, str]] = {
    "header-deep-nesting": (raw_header(DEEP), "header nests 100000 levels deep"),
    "config-deep-nesting": (rewrite_checkpoint(with_metric(), metadata=lambda m: {**m, "config": DEEP}),
                            "model config nests 100000 levels deep"),
    "metrics-deep-nesting": (with_metrics('{"deep": ' + DEEP + "}"), "metrics nests 100001 levels deep"),
    "metrics-5000-digit-int": (with_metrics('{"steps": ' + "9" * 5000 + "}"), "more than 40 digits"),
    "dropout-false": (with_config(dropout=False), "dropout must be in"),
    **{f"metrics-{case}": (with_metric(**fields), match) for case, (fields, match) in BAD_METRICS.items()},
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_checkpoint_is_refused_with_a_message_and_the_session_kept(case):
    data, message = CRAFTED[case]
    at = open_session(TRAIN_PAGE)
    before = snapshot(at)
    upload(at, "train_upload", f"{case}.safetensors", data)
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.error, f"“{case}.safetensors” is not a usable checkpoint: .*{message}")
    assert snapshot(at) == before


def test_after_every_crafted_upload_every_page_still_runs():
    at = open_session(TRAIN_PAGE)
    before = snapshot(at)
    for case, (data, _message) in CRAFTED.items():
        upload(at, "train_upload", f"{case}.safetensors", data)
        assert not at.exception, (case, [e.message for e in at.exception])
    assert snapshot(at) == before
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
    record_reliability("untrusted_checkpoints", {"crafted_cases_refused": len(CRAFTED)})


# --- removing session models ---------------------------------------------------------------------------


def _remove_button(at):
    return next((b for b in at.sidebar.button if b.key == "remove_model"), None)


def test_an_uploaded_model_can_be_removed_and_the_others_stay():
    at = open_session(TRAIN_PAGE)
    net = build_model(ModelConfig(d_model=4, n_layers=2, seq_len=64), seed=5).eval()
    upload(at, "train_upload", "mine.safetensors", checkpoint_bytes(net, {"task": "digits"}))
    assert not at.exception and widget(at.sidebar.selectbox, "model").value == "mine"
    _remove_button(at).click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "mine" not in at.session_state["session_models"] and SESSION_MODEL in at.session_state["session_models"]
    assert widget(at.sidebar.selectbox, "model").value == DEFAULT_MODEL
    assert "mine" not in widget(at.sidebar.selectbox, "model").options
    assert any("Model removed from this session" in c.value for c in at.sidebar.caption)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])


def test_a_trained_model_can_be_removed_but_a_shipped_one_offers_no_remove():
    at = open_session("app_pages/3_Coefficient_tree.py")  # a page with the sidebar's pickers
    assert _remove_button(at) is not None  # the session's trained model is selected
    _remove_button(at).click().run()
    assert not at.exception and at.session_state["session_models"] == {}
    assert widget(at.sidebar.selectbox, "model").value == DEFAULT_MODEL
    assert _remove_button(at) is None  # shipped: nothing to remove


# --- pages that must cope with what a valid checkpoint may hold ---------------------------------------------


def _app_with(net, name: str):
    return open_app(session_models={name: ModelEntry(name, net, {"task": "digits"}, "uploaded")}, model=name)


def test_all_zero_filters_give_a_message_on_the_filters_page_and_every_page_runs():
    net = build_model(ModelConfig(d_model=4, n_layers=2, seq_len=64), seed=1).eval()
    with torch.no_grad():
        for conv in net.convs:
            conv.h0.zero_()
            conv.h1.zero_()
    at = _app_with(net, "zeros")
    at.switch_page("app_pages/2_Filters.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.warning, "Layer 0, channel 0 of zeros: h0 is all zeros")
    assert_shown(at.info, "No cascade for this channel")
    assert any(c.value.startswith("Layer 0's channels side by side") for c in at.caption)  # the last tab still drawn
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])


def test_treeselect_caps_the_window_of_the_longest_allowed_memory():
    config = ModelConfig(d_model=1, n_layers=1, seq_len=64, wavelet="db4", depth=14)  # 8 taps
    assert MAX_RECEPTIVE_FIELD // 2 < receptive_field(14, 8) <= MAX_RECEPTIVE_FIELD
    at = _app_with(build_model(config, seed=0).eval(), "long memory")
    started = time.perf_counter()
    at.switch_page("app_pages/4_TREESELECT.py").run()
    # The page opens on a shipped learned model when the sidebar's is not learned; show this one.
    at.selectbox(key="ts_model_long memory").set_value("long memory").run()
    seconds = time.perf_counter() - started  # reported, not asserted (a loaded CI machine is slow)
    assert at.selectbox(key="ts_model_long memory").value == "long memory"
    assert not at.exception, [e.message for e in at.exception]
    assert any(f"the page analyses only the last {MAX_ANALYSED_WINDOW}" in c.value for c in at.caption)
    assert any("Drawn up to m = " in c.value for c in at.caption)
    record_reliability("untrusted_checkpoints", {"treeselect_longest_memory_s": round(seconds, 2),
                                                 "treeselect_longest_memory_rf": receptive_field(14, 8)})
    print(json.dumps({"treeselect_longest_memory_s": round(seconds, 2)}))


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    CASES.record({"checkpoint_upload": len(CHECKPOINT_CASES)})
