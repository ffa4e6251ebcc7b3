"""Bad input through the APP: every case shows a clear message and keeps the session as it was.

The library refuses these files in ``tests/test_signals.py`` and ``tests/test_checkpoint.py``; here
each one goes through the real page under ``streamlit.testing.v1.AppTest`` (the Coefficient tree
page's signal uploader, the Train page's checkpoint uploader, the URL's query string, the Train
button), and every test checks two things:

* the message the user sees (``st.error`` / ``st.warning``), and
* that the session's models (the same objects), the sidebar's model, layer, channel, signal and
  comparison wavelet, and any earlier upload are unchanged.

Untrusted payloads are live: the pickle traps create a marker file if anything unpickles them
(``test_the_pickle_traps_are_live`` proves they would), and the tests assert the marker is absent.
Checkpoint files are refused at the earliest possible stage: the functions that would read tensor
data or build a model are replaced by ones that fail the test if called.

Counts of the cases tried here go to ``artifacts/reliability.json`` (section ``bad_inputs``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import re
import struct
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save
from streamlit.testing.v1 import AppTest

import multires.checkpoint.io as checkpoint_module
import multires.model as model_module
import multires.training.cli as cli
from conftest import rewrite_checkpoint
from test_presentation import run_app  # the app opened from a link and/or a session, then a page
from multires import ModelConfig
from multires.checkpoint import checkpoint_bytes
from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
from multires.data.tasks import load_task
from multires.model import build_model
from ui import training_runner
from ui import defaults, training_runner
from ui.safe_text import plain, unescape
from ui.state import DEFAULT_MODEL, UPLOADED, ModelEntry

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ARTIFACTS = ROOT / "artifacts"
REPORT = ARTIFACTS / "reliability.json"
TIMEOUT_S = 300  # per script run; only a hang takes this long, however busy the machine
TRAINING_DEADLINE_S = 600  # a failing run ends at its first step; this only guards against a hang
TREE_PAGE, TRAIN_PAGE = "app_pages/3_Coefficient_tree.py", "app_pages/5_Train.py"

MODEL = "robustness net · haar · 4×3"  # the session's own model, selected before every test
CHOICES = {"signal": "Doppler", "wavelet": "db2", "layer": 2, "channel": 3}


# --- the report -------------------------------------------------------------------------------------


def record_reliability(section: str, figures: dict) -> None:
    """Merge ``figures`` into ``artifacts/reliability.json`` under ``section`` (atomic replace)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT.read_text())
    except (OSError, ValueError):
        report = {}
    report[section] = {**report.get(section, {}), **figures, "recorded": time.strftime("%Y-%m-%d %H:%M:%S")}
    tmp = REPORT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, REPORT)


PASSED: dict[str, list[str]] = {}  # kind -> ids of the cases that passed in this run


def _passed(kind: str, case: str) -> None:
    PASSED.setdefault(kind, []).append(case)


# --- the session every test starts from ---------------------------------------------------------------


def _session_model() -> ModelEntry:
    net = build_model(ModelConfig(d_model=4, n_layers=3, seq_len=64, wavelet="haar"), seed=7).eval()
    return ModelEntry(MODEL, net, {"task": "digits"}, "trained")


def _widget(widgets, key: str):
    for widget in widgets:
        if widget.key == key:
            return widget
    raise KeyError(f"no widget with key {key!r}; keys: {[w.key for w in widgets]}")


def open_app(page: str | None) -> AppTest:
    """The app with one session model and non-default choices (signal, wavelet, layer, channel)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.session_state["session_models"] = {MODEL: _session_model()}
    at.session_state["model"] = MODEL
    at.session_state["signal"] = CHOICES["signal"]
    at.session_state["wavelet"] = CHOICES["wavelet"]
    at.session_state["_layer"], at.session_state["_channel"] = CHOICES["layer"], CHOICES["channel"]
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    view = snapshot(at)  # the choices took effect, so "unchanged" below means something
    assert {k: view[k] for k in ("model", *CHOICES)} == {"model": MODEL, **CHOICES}
    return at


def snapshot(at: AppTest) -> dict:
    """What must survive a bad input: the session's models (by identity) and every sidebar choice."""
    models = at.session_state["session_models"]
    upload = at.session_state.get("uploaded_signal")
    model = _widget(at.sidebar.selectbox, "model").value
    return {
        "models": {name: id(entry) for name, entry in models.items()},
        "model": model,
        "layer": _widget(at.sidebar.number_input, f"layer_{model}").value,
        "channel": _widget(at.sidebar.number_input, f"channel_{model}").value,
        "signal": _widget(at.sidebar.selectbox, "signal").value,
        "wavelet": _widget(at.sidebar.selectbox, "wavelet").value,
        "upload": None if upload is None else (upload["name"], upload["values"].tobytes()),
    }


def assert_shown(elements, pattern: str) -> None:
    """Some element reads (as rendered: user strings are Markdown-escaped, see ui.safe_text) like ``pattern``."""
    texts = [unescape(e.value) for e in elements]
    assert any(re.search(pattern, text, re.DOTALL) for text in texts), f"no message matching {pattern!r} in {texts}"


# --- payloads ---------------------------------------------------------------------------------------


class Trap:
    """Unpickling this creates the file ``path`` (it reduces to ``open(path, "w")``)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def pickled_npy(marker: Path) -> bytes:
    trap = np.empty(2, dtype=object)
    trap[0], trap[1] = Trap(marker), 1.0
    return npy(trap, allow_pickle=True)


WAV_RATE_OFFSET, WAV_DATA_SIZE_OFFSET = 24, 40  # in the 44-byte header that `wave` writes


def wav(frames: np.ndarray, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.asarray(frames).astype("<i2").tobytes())
    return buffer.getvalue()


def patch_uint32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4 :]


TONE = np.round(np.sin(np.linspace(0, 8 * np.pi, 256)) * 20000)
RAMP = "\n".join(str(i) for i in range(16))


def forged_npy_header() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (2**34,)})
    return buffer.getvalue() + np.arange(16.0).tobytes()


# --- 1. signal uploads on the Coefficient tree page ----------------------------------------------------

# id -> (file name, bytes (or a function of the marker path), the message the page must show)
SIGNAL_CASES: dict[str, tuple[str, bytes | Callable[[Path], bytes], str]] = {
    "empty-file": ("empty.csv", b"", "the file is empty"),
    "blank-text": ("blank.txt", b"\n \n\t\n", "the file is empty"),
    "header-only": ("header.csv", b"time,volts\n", "only a header row and no data rows"),
    "not-utf8": ("latin1.csv", "temp\n1\n2\n\u00e9t\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    "utf16": ("utf16.csv", f"x\n{RAMP}\n".encode("utf-16"), "not UTF-8 text"),
    "text-in-numeric-column": ("mixed.csv", f"volts\n{RAMP}\nthree\n4\n".encode(),
                               r"column 'volts' holds text values, e.g. 'three' on line 18"),
    "no-numeric-column": ("names.csv", b"name,city\nann,rome\nbob,oslo\n", "no column holds numbers"),
    "nan": ("nan.csv", f"x\n{RAMP}\nnan\n".encode(), r"1 NaN/missing value\(s\), the first at sample index 16"),
    "missing-cell": ("gap.csv", b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(12)) + b",3\n",
                     r"1 NaN/missing value\(s\), the first at sample index 12"),
    "inf": ("inf.csv", f"x\n{RAMP}\n-inf\ninf\n".encode(), r"2 infinite value\(s\)"),
    "npy-nan": ("nan.npy", npy(np.r_[np.arange(16.0), np.nan]), "NaN/missing"),
    "npy-2d": ("matrix.npy", npy(np.zeros((3, 16))), r"shape \(3, 16\); a 1-D array is expected"),
    "npy-3d": ("cube.npy", npy(np.zeros((2, 2, 8))), "3 dimensions"),
    "npy-pickled-objects": ("evil.npy", pickled_npy, "holds Python objects .* not loaded"),
    "npy-strings": ("words.npy", npy(np.array(["a", "b"] * 8)), "only real numbers"),
    "npy-truncated": ("cut.npy", npy(np.arange(64.0))[:-8], "truncated"),
    "npy-huge-declared-shape": ("forged.npy", forged_npy_header(), "truncated: its header declares shape"),
    "npy-garbage": ("junk.npy", b"\x93NUMPY garbage", "not a valid .npy array"),
    "wav-truncated": ("cut.wav", wav(TONE)[:-20], "truncated"),
    "wav-cut-header": ("head.wav", wav(TONE)[:30], "not a readable PCM WAV"),
    "wav-huge-declared-size": ("forged.wav", patch_uint32(wav(TONE), WAV_DATA_SIZE_OFFSET, 0xFFFFFFF0),
                               "declares .* frames"),
    "wav-absurd-sample-rate": ("fast.wav", patch_uint32(wav(TONE), WAV_RATE_OFFSET, 2**32 - 1),
                               "sample rate of 4294967295 Hz; accepted: 1 to 384000 Hz"),
    "wav-zero-sample-rate": ("still.wav", patch_uint32(wav(TONE), WAV_RATE_OFFSET, 0), "sample rate of 0 Hz"),
    "wav-not-riff": ("song.wav", b"ID3" + b"\x00" * 100, "not a readable PCM WAV"),
    "one-sample": ("one.csv", b"1\n", "1 sample.*at least 8"),
    "one-sample-wav": ("click.wav", wav(TONE[:1]), "1 sample.*at least 8"),
    "above-upload-limit": ("big.csv", b"1\n" * (MAX_UPLOAD_BYTES // 2) + b"1", "largest accepted upload is 5 MB"),
}


def _upload_signal(at: AppTest, filename: str, data: bytes) -> None:
    at.file_uploader(key="tree_upload").set_value((filename, data, "application/octet-stream"))
    at.run()


def _signal_case(case: str, tmp_path: Path) -> tuple[str, bytes, str, Path]:
    """(filename, bytes, expected message, marker) of a bad signal file; a pickle payload in the
    bytes would create the marker file if anything unpickled it."""
    filename, data, message = SIGNAL_CASES[case]
    marker = tmp_path / "unpickled"
    return filename, data(marker) if callable(data) else data, message, marker


@pytest.mark.parametrize("case", list(SIGNAL_CASES))
def test_bad_signal_upload_is_refused_and_the_session_kept(case, tmp_path):
    filename, data, message, marker = _signal_case(case, tmp_path)
    at = open_app(TREE_PAGE)
    before = snapshot(at)
    _upload_signal(at, filename, data)
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1
    assert_shown(at.error, f"Could not use {filename}: .*{message}")
    assert snapshot(at) == before
    assert "uploaded_signal" not in at.session_state
    assert len(at.get("plotly_chart")) >= 7  # the page still draws the chosen signal's trees
    assert not marker.exists()
    _passed("signal_upload", case)


@pytest.mark.parametrize("case", ["not-utf8", "npy-pickled-objects", "wav-huge-declared-size", "above-upload-limit"])
def test_bad_upload_after_a_good_one_keeps_the_good_one(case, tmp_path):
    filename, data, message, marker = _signal_case(case, tmp_path)
    at = open_app(TREE_PAGE)
    good = np.cos(np.arange(100) / 7.0)
    _upload_signal(at, "good.npy", npy(good))
    assert not at.error and at.session_state["signal"] == UPLOADED
    before = snapshot(at)
    _upload_signal(at, filename, data)
    assert_shown(at.error, message)
    assert snapshot(at) == before
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], good)
    assert not marker.exists()
    _passed("signal_upload_after_good", case)


def test_too_long_signal_offers_a_window_and_keeps_the_models():
    at = open_app(TREE_PAGE)
    before = snapshot(at)
    long = np.sin(np.arange(MAX_SIGNAL_LENGTH + 1000) / 50.0)
    _upload_signal(at, "long.npy", npy(long))
    assert not at.exception and not at.error
    window = at.slider(key="tree_upload_start")
    assert window.min == 0 and window.max == 1000
    values = at.session_state["uploaded_signal"]["values"]
    np.testing.assert_array_equal(values, long[:MAX_SIGNAL_LENGTH])
    after = snapshot(at)
    assert after["signal"] == UPLOADED
    assert {k: after[k] for k in ("models", "model", "layer", "channel", "wavelet")} == \
        {k: before[k] for k in ("models", "model", "layer", "channel", "wavelet")}
    _passed("signal_upload", "too-long-window")


# --- 2. checkpoint uploads on the Train page ------------------------------------------------------------


def _good_checkpoint() -> bytes:
    net = build_model(ModelConfig(d_model=4, n_layers=2, seq_len=64), seed=3).eval()
    return checkpoint_bytes(net, {"task": "digits"})


GOOD = _good_checkpoint()


def with_config(**fields) -> bytes:
    config = {**json.loads(ModelConfig(d_model=4, n_layers=2, seq_len=64).to_json()), **fields}
    return rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "config": json.dumps(config)})


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
    from ui import state

    for entry in state.shipped_models().values():
        assert entry.net is not None


def _forbid(monkeypatch, stage: str) -> None:
    def forbidden(*_args, **_kwargs):
        raise AssertionError(f"a bad checkpoint got past the {stage!r} stage")

    monkeypatch.setattr(checkpoint_module, "build_model", forbidden)  # a real (allocated) model
    if stage in ("header", "shapes"):
        monkeypatch.setattr(checkpoint_module, "_safetensors_load", forbidden)  # reading tensor data
    if stage == "header":
        monkeypatch.setattr(model_module.MultiresNet, "__init__", forbidden)  # any build, even on meta


def _upload_checkpoint(at: AppTest, filename: str, data: bytes) -> None:
    at.file_uploader(key="train_upload").set_value((filename, data, "application/octet-stream"))
    at.run()


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_bad_checkpoint_upload_is_refused_early_and_the_session_kept(case, tmp_path, monkeypatch):
    data, stage, message = CHECKPOINT_CASES[case]
    marker = tmp_path / "unpickled"
    if callable(data):
        data = data(marker)
    at = open_app(TRAIN_PAGE)
    before = snapshot(at)
    _load_shipped_weights()
    _forbid(monkeypatch, stage)
    _upload_checkpoint(at, f"{case}.safetensors", data)
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.error, f"“{case}.safetensors” is not a usable checkpoint: .*{message}")
    assert snapshot(at) == before
    assert not marker.exists()
    _passed("checkpoint_upload", case)


def test_a_good_checkpoint_still_loads_after_a_bad_one():
    at = open_app(TRAIN_PAGE)
    _upload_checkpoint(at, "broken.safetensors", GOOD[:-7])
    assert_shown(at.error, "truncated")
    _upload_checkpoint(at, "fine.safetensors", GOOD)
    assert not at.exception and "fine" in at.session_state["session_models"]
    assert MODEL in at.session_state["session_models"]
    assert _widget(at.sidebar.selectbox, "model").value == "fine"


def test_the_pickle_traps_are_live(tmp_path):
    """Control: the payloads above really would create their marker if anything unpickled them."""
    first, second = tmp_path / "a", tmp_path / "b"
    pickle.loads(pickle_payload(first))
    np.load(io.BytesIO(pickled_npy(second)), allow_pickle=True)
    assert first.exists() and second.exists()


# --- 3. the query string -----------------------------------------------------------------------------

# id -> (query parameters, the warning, what the view falls back to)
QUERY_CASES: dict[str, tuple[dict[str, str], str, dict]] = {
    "layer-too-big": ({"layer": "999"}, r"layer='999' must be a whole number in 0\.\.15", {"layer": 0}),
    "layer-negative": ({"layer": "-1"}, r"layer='-1' must be a whole number", {"layer": 0}),
    "layer-not-a-number": ({"layer": "abc"}, r"layer='abc' must be a whole number", {"layer": 0}),
    "layer-float": ({"layer": "1.5"}, r"layer='1.5' must be a whole number", {"layer": 0}),
    "layer-beyond-this-model": ({"model": MODEL, "layer": "9"}, r"layer=9 does not exist in model .*layers 0\.\.2",
                                {"model": MODEL, "layer": 0}),
    "channel-beyond-this-model": ({"model": MODEL, "channel": "200"},
                                  r"channel=200 does not exist in model .*channels 0\.\.3", {"model": MODEL, "channel": 0}),
    "channel-huge": ({"channel": "1" + "0" * 40}, "channel=.* must be a whole number in 0..511", {"channel": 0}),
    "n-too-big": ({"n": "999999999"}, r"n='999999999' must be a whole number in 0\.\.16384", {}),
    "model-unknown": ({"model": "no such model"}, "model 'no such model' is not available", {"model": DEFAULT_MODEL}),
    "signal-unknown": ({"signal": "<script>alert(1)</script>"}, "is not one of the built-in signals",
                       {"signal": defaults.default_signal()}),
    "wavelet-continuous": ({"wavelet": "morl"}, "wavelet 'morl' is not a discrete PyWavelets wavelet",
                           {"wavelet": "haar"}),
    "wavelet-empty": ({"wavelet": ""}, "wavelet '' is not a discrete", {"wavelet": "haar"}),
    "good-and-bad-mixed": ({"model": MODEL, "layer": "1", "signal": "Bumps", "wavelet": "nope"},
                           "wavelet 'nope' is not a discrete",
                           {"model": MODEL, "layer": 1, "signal": "Bumps", "wavelet": "haar"}),
}
DEFAULT_VIEW = {"model": DEFAULT_MODEL, "layer": 0, "channel": 0, "signal": defaults.default_signal(),
                "wavelet": "haar"}


@pytest.mark.parametrize("case", list(QUERY_CASES))
def test_bad_link_parameter_warns_and_falls_back_to_defaults(case):
    params, warning, expected = QUERY_CASES[case]
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.session_state["session_models"] = {MODEL: _session_model()}
    models = at.session_state["session_models"]
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.warning, f"Ignored a link parameter: .*{warning}")
    view = snapshot(at)
    assert {k: view[k] for k in DEFAULT_VIEW} == {**DEFAULT_VIEW, **expected}
    assert view["models"] == {MODEL: id(models[MODEL])}
    # The URL now shows the view actually drawn, not the bad value.
    for key in ("layer", "channel", "signal", "wavelet"):
        assert at.query_params[key] == str(view[key])
    at.run()  # the warning is shown once, not on every rerun
    assert not any("Ignored a link parameter" in w.value for w in at.warning)
    _passed("query_string", case)


# --- 3b. user strings are plain text, never Markdown (issue 13) ------------------------------------------

# id -> (link parameter, hostile value): each would render as a link, an image the browser fetches,
# raw HTML, a formula, a coloured directive or icon, a heading, or an autolink if echoed as Markdown.
HOSTILE_LINKS: dict[str, tuple[str, str]] = {
    "phishing-link": ("model", "[Session expired: click here](https://evil.example/login)"),
    "tracking-image": ("signal", "![x](http://127.0.0.1:9/t.png)"),
    "raw-html": ("wavelet", "<img src=http://127.0.0.1:9/h.png onerror=alert(1)>"),
    "latex-directive-icon": ("model", "$\\frac{1}{0}$ :red[ALERT] :material/warning: **bold** `code`"),
    "heading-after-newline": ("signal", "ECG\n# Session expired\n> quote"),
    "bare-url-autolink": ("wavelet", "https://evil.example/auto www.evil.example"),
    "escape-the-escape": ("model", "\\[x\\](https://evil.example)"),
}
MARKDOWN_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success")


def live_markup(at: AppTest) -> list[str]:
    """Element bodies in which an image or a hostile address would still render (the app's own links,
    e.g. to the paper on Home, are fine: escaped, the hostile addresses read ``evil\\.example``)."""
    bodies = [e.value for kind in MARKDOWN_ELEMENTS for e in at.get(kind)] + [e.value for e in at.sidebar.caption]
    patterns = (r"(?<!\\)!(?<!\\)\[", r"evil\.example", r"127\.0\.0\.1", r"(?<!\\)<img")
    return [body for body in bodies if any(re.search(p, body) for p in patterns)]


@pytest.mark.parametrize("case", list(HOSTILE_LINKS))
def test_hostile_link_parameter_is_echoed_as_plain_text(case):
    key, value = HOSTILE_LINKS[case]
    at = run_app(query={key: value})
    warnings = [w.value for w in at.warning if "Ignored a link parameter" in w.value]
    assert len(warnings) == 1, [w.value for w in at.warning]
    body = warnings[0]
    assert plain(repr(value)) in body  # every punctuation character of the value escaped, line breaks folded
    assert "\n" not in body
    assert repr(value) in unescape(body)  # and reads as the value the link gave
    assert live_markup(at) == []
    _passed("markdown_injection", f"link-{case}")


EVIL_NAME = "[click](https://evil.example/x) ![i](http://127.0.0.1:9/f.png)"


def test_uploaded_file_name_and_columns_are_plain_text():
    at = open_app(TREE_PAGE)
    header = "![c](http://127.0.0.1:9/c.png),[b](https://evil.example/b)"
    data = (header + "\n" + "\n".join(f"{i},{-i}" for i in range(16)) + "\n").encode()
    _upload_signal(at, f"{EVIL_NAME}.csv", data)
    assert not at.exception and not at.error
    assert at.session_state["signal"] == UPLOADED
    assert_shown(at.caption, re.escape(f"Read {EVIL_NAME}.csv: used column '![c](http://127.0.0.1:9/c.png)' of 2"))
    assert any(plain(f"{EVIL_NAME}.csv") in m.value for m in at.markdown)  # the page's "**name**, n samples"
    assert live_markup(at) == []
    _upload_signal(at, f"{EVIL_NAME}.npy", b"not an array")
    assert_shown(at.error, re.escape(f"Could not use {EVIL_NAME}.npy: the file is not a valid .npy array"))
    assert live_markup(at) == []
    _passed("markdown_injection", "upload-name-and-columns")


def test_a_refused_files_message_describes_the_current_file_only():
    """Issue 13: an error is shown only while the file it names is the uploader's file."""
    at = open_app(TREE_PAGE)
    _upload_signal(at, "first.csv", b"name\nann\nbob\n")
    assert_shown(at.error, "Could not use first.csv: no column holds numbers")
    _upload_signal(at, "second.npy", npy(np.arange(4.0)))
    assert [unescape(e.value) for e in at.error] == [
        "Could not use second.npy: the signal has 4 sample(s); at least 8 are needed (at most 16384)"]
    at.file_uploader(key="tree_upload").set_value(None)  # removed (or replaced by a file the browser refused)
    at.run()
    assert not at.error, [e.value for e in at.error]
    _upload_signal(at, "first.csv", b"name\nann\nbob\n")
    at.switch_page("app_pages/0_Home.py").run()  # leaving the page drops the uploader's file...
    at.switch_page(TREE_PAGE).run()
    assert at.file_uploader(key="tree_upload").value in (None, [])
    assert not at.error, [e.value for e in at.error]  # ...and so its message
    _passed("signal_upload", "message-of-the-current-file")


def test_huge_npy_is_refused_before_any_chart_goes_non_finite():
    at = open_app(TREE_PAGE)
    before = snapshot(at)
    huge = np.tile([1.7e308, -1.7e308], 64)
    _upload_signal(at, "huge.npy", npy(huge))
    assert_shown(at.error, r"largest magnitude is 1\.7e\+308 .*at most 1e\+100")
    assert snapshot(at) == before
    edge = np.tile([1e100, -1e100, 0.0, 5e99], 64)  # the largest accepted: every chart stays finite
    _upload_signal(at, "edge.npy", npy(edge))
    assert not at.error and at.session_state["signal"] == UPLOADED
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        for trace in figure.get("data", []):
            for axis in ("x", "y", "z"):
                numbers = np.asarray(trace.get(axis) or [], dtype=object).ravel()
                floats = [float(v) for v in numbers if isinstance(v, (int, float))]
                assert np.isfinite(floats).all(), (trace.get("name"), axis)
    _passed("signal_upload", "huge-magnitude")


def test_structured_npy_is_refused_in_plain_words():
    at = open_app(TREE_PAGE)
    _upload_signal(at, "table.npy", npy(np.zeros(16, dtype=[("t", "f8"), ("v", "i4")])))
    assert [unescape(e.value) for e in at.error] == [
        "Could not use table.npy: structured/record arrays are not supported; save a plain numeric 1-D array "
        "(float or int dtype) with numpy.save"]
    _passed("signal_upload", "structured-npy")


def test_n_link_parameter_sets_the_treeselect_time_step_and_follows_it():
    at = run_app("app_pages/4_TREESELECT.py", query={"n": "100"})
    assert at.slider(key="ts_n").value == 100
    assert at.query_params["n"] == "100"
    at.slider(key="ts_n").set_value(40).run()
    assert at.query_params["n"] == "40"  # the URL shares the step shown
    _passed("query_string", "n-sets-time-step")


def test_n_beyond_the_signal_is_reported_on_treeselect():
    from ui import defaults

    last = (defaults.real_series(defaults.default_signal()) if defaults.real_signal_names() else np.zeros(512)).size - 1
    at = run_app("app_pages/4_TREESELECT.py", query={"n": "5000"})
    assert_shown(at.warning, rf"Ignored a link parameter: n=5000 is not a time step of this signal \(0\.\.{last}\)")
    assert at.slider(key="ts_n").value == last
    _passed("query_string", "n-beyond-the-signal")


# --- 4. training that cannot go on ---------------------------------------------------------------------


def _poisoned(kind: str):
    """A digits task that cannot be trained: a NaN pixel, or finite pixels so large the loss overflows."""
    task = load_task("digits", seed=0)
    if kind == "non-finite-data":
        x = task.x_train.clone()
        x[3, 0, 10] = float("nan")
        return dataclasses.replace(task, x_train=x)
    return dataclasses.replace(task, x_train=task.x_train * 1e37)  # with the largest learning rate


TRAINING_CASES = {
    "non-finite-data": r"x_train holds 1 non-finite value\(s\)",
    "diverging-loss-at-max-lr": "training loss became non-finite at step 1.*lower the learning rate",
}


@pytest.mark.parametrize("case", list(TRAINING_CASES))
def test_training_that_cannot_go_on_reports_and_adds_no_model(case, monkeypatch):
    poisoned = _poisoned(case)
    at = open_app(TRAIN_PAGE)
    monkeypatch.setattr(training_runner, "cached_task", lambda name: poisoned)
    at.number_input(key="train_width").set_value(4)  # as tests/test_training.py: overflows at step 1
    at.number_input(key="train_layers").set_value(2)
    at.number_input(key="train_epochs").set_value(2)
    lr = at.select_slider(key="train_lr")
    lr.set_value(float(lr.options[-1]) if case.startswith("diverging") else lr.value)  # the largest offered
    at.run()
    before = snapshot(at)
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + TRAINING_DEADLINE_S
    while not at.session_state["training_run"].collected:
        assert time.monotonic() < deadline, "the failing run did not end"
        time.sleep(0.2)
        at.run()
    at.run()
    run = at.session_state["training_run"]
    assert run.result is None and run.error is not None and not run.active
    assert not at.exception, [e.message for e in at.exception]
    assert_shown(at.error, f"Training “{run.name}” failed: .*{TRAINING_CASES[case]}")
    assert snapshot(at) == before  # no new session model, nothing re-selected
    # A failed run does not block the next one.
    monkeypatch.setattr(training_runner, "cached_task", lambda name: load_task("digits", seed=0))
    at.button(key="train_start").click().run()
    assert not any("Already training" in w.value for w in at.warning)
    next_run = at.session_state["training_run"]
    assert next_run is not run
    next_run.request_stop()
    assert next_run.finished.wait(TRAINING_DEADLINE_S)
    _passed("training", f"app-{case}")


@pytest.mark.parametrize("case", list(TRAINING_CASES))
def test_cli_training_that_cannot_go_on_exits_1_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    poisoned = _poisoned(case)
    monkeypatch.setattr(cli, "load_task", lambda name, seed=0, **kwargs: poisoned)
    out = tmp_path / "run"
    lr = ["--lr", "1.0"] if case.startswith("diverging") else []  # TRAIN_LIMITS["lr"] upper bound
    code = cli.main(["--task", "digits", "--epochs", "1", "--d-model", "4", "--quiet", *lr, "--out", str(out)])
    assert code == 1
    assert "non-finite" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    _passed("training", f"cli-{case}")


# --- the report ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    tried = {
        "signal_upload": len(SIGNAL_CASES) + 4,  # + too-long (window), current-file message, huge, structured
        "signal_upload_after_good": 4,
        "checkpoint_upload": len(CHECKPOINT_CASES),
        "query_string": len(QUERY_CASES) + 2,
        "markdown_injection": len(HOSTILE_LINKS) + 1,
        "training": 2 * len(TRAINING_CASES),
    }
    passed = {kind: len(PASSED.get(kind, [])) for kind in tried}
    record_reliability("bad_inputs", {
        "tried": tried, "tried_total": sum(tried.values()),
        "passed": passed, "passed_total": sum(passed.values()),
        "cases": {kind: sorted(ids) for kind, ids in PASSED.items()},
    })
