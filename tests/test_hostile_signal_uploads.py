"""Bad signal files through the Coefficient tree page's uploader: every case shows a clear message and
keeps the session as it was (the session's models, the sidebar's choices, any earlier upload); good
files are read, windowed when too long, and their names and columns shown as plain text.

The library refuses these files in ``tests/test_signals.py``; here each goes through the real page
under ``streamlit.testing.v1.AppTest`` (``conftest.open_session``). A pickle payload is live: it creates
a marker file if anything unpickles it (``test_the_pickle_trap_is_live`` proves it would), and the
tests assert the marker is absent. Counts go to ``artifacts/reliability.json`` (``bad_inputs``).
"""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    CaseLog,
    Trap,
    assert_shown,
    live_markup,
    npy,
    open_session,
    snapshot,
    upload,
    wav,
)
from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES
from ui.safe_text import plain, unescape
from ui.state import UPLOADED

TREE_PAGE = "app_pages/3_Coefficient_tree.py"
CASES = CaseLog()


# --- payloads ---------------------------------------------------------------------------------------


def pickled_npy(marker: Path) -> bytes:
    trap = np.empty(2, dtype=object)
    trap[0], trap[1] = Trap(marker), 1.0
    return npy(trap, allow_pickle=True)


WAV_RATE_OFFSET, WAV_DATA_SIZE_OFFSET = 24, 40  # in the 44-byte header that `wave` writes


def patch_uint32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4 :]


TONE = np.round(np.sin(np.linspace(0, 8 * np.pi, 256)) * 20000)
RAMP = "\n".join(str(i) for i in range(16))


def forged_npy_header() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (2**34,)})
    return buffer.getvalue() + np.arange(16.0).tobytes()


# --- bad files ---------------------------------------------------------------------------------------

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


def _signal_case(case: str, tmp_path: Path) -> tuple[str, bytes, str, Path]:
    """(filename, bytes, expected message, marker) of a bad signal file; a pickle payload in the
    bytes would create the marker file if anything unpickled it."""
    filename, data, message = SIGNAL_CASES[case]
    marker = tmp_path / "unpickled"
    return filename, data(marker) if callable(data) else data, message, marker


@pytest.mark.parametrize("case", list(SIGNAL_CASES))
def test_bad_signal_upload_is_refused_and_the_session_kept(case, tmp_path):
    filename, data, message, marker = _signal_case(case, tmp_path)
    at = open_session(TREE_PAGE)
    before = snapshot(at)
    upload(at, "tree_upload", filename, data)
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1
    assert_shown(at.error, f"Could not use {filename}: .*{message}")
    assert snapshot(at) == before
    assert "uploaded_signal" not in at.session_state
    assert len(at.get("plotly_chart")) >= 7  # the page still draws the chosen signal's trees
    assert not marker.exists()
    CASES.passed_case("signal_upload", case)


@pytest.mark.parametrize("case", ["not-utf8", "npy-pickled-objects", "wav-huge-declared-size", "above-upload-limit"])
def test_bad_upload_after_a_good_one_keeps_the_good_one(case, tmp_path):
    filename, data, message, marker = _signal_case(case, tmp_path)
    at = open_session(TREE_PAGE)
    good = np.cos(np.arange(100) / 7.0)
    upload(at, "tree_upload", "good.npy", npy(good))
    assert not at.error and at.session_state["signal"] == UPLOADED
    before = snapshot(at)
    upload(at, "tree_upload", filename, data)
    assert_shown(at.error, message)
    assert snapshot(at) == before
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], good)
    assert not marker.exists()
    CASES.passed_case("signal_upload_after_good", case)


def test_too_long_signal_offers_a_window_and_keeps_the_models():
    at = open_session(TREE_PAGE)
    before = snapshot(at)
    long = np.sin(np.arange(MAX_SIGNAL_LENGTH + 1000) / 50.0)
    upload(at, "tree_upload", "long.npy", npy(long))
    assert not at.exception and not at.error
    window = at.slider(key="tree_upload_start")
    assert window.min == 0 and window.max == 1000
    values = at.session_state["uploaded_signal"]["values"]
    np.testing.assert_array_equal(values, long[:MAX_SIGNAL_LENGTH])
    after = snapshot(at)
    assert after["signal"] == UPLOADED
    assert {k: after[k] for k in ("models", "model", "layer", "channel", "wavelet")} == \
        {k: before[k] for k in ("models", "model", "layer", "channel", "wavelet")}
    window.set_value(120)  # the window moves along the file
    at.run()
    assert not at.exception and not at.error
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], long[120 : 120 + MAX_SIGNAL_LENGTH])
    CASES.passed_case("signal_upload", "too-long-window")



def test_csv_upload_is_selected_and_its_column_can_be_changed():
    at = open_session(TREE_PAGE)
    rows = "\n".join(f"{i},{np.sin(i / 3):.6f},{i % 5}" for i in range(40))
    upload(at, "tree_upload", "two.csv", f"t,wave,saw\n{rows}\n".encode())
    assert not at.exception and not at.error
    assert at.session_state["signal"] == UPLOADED
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], np.arange(40.0))  # first column
    column = at.selectbox(key="tree_upload_column")
    assert list(column.options) == ["t", "wave", "saw"]
    column.set_value("saw")
    at.run()
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], np.arange(40.0) % 5)
    assert "saw" in at.session_state["uploaded_signal"]["name"]
    assert any("40 samples" in m.value for m in at.markdown)
    assert at.selectbox(key="signal").value == UPLOADED


def test_the_pickle_trap_is_live(tmp_path):
    """Control: the pickled .npy above really would create its marker if anything unpickled it."""
    marker = tmp_path / "unpickled"
    np.load(io.BytesIO(pickled_npy(marker)), allow_pickle=True)
    assert marker.exists()


# --- names, columns and messages are plain text (issue 13) ------------------------------------------------

EVIL_NAME = "[click](https://evil.example/x) ![i](http://127.0.0.1:9/f.png)"


def test_uploaded_file_name_and_columns_are_plain_text():
    at = open_session(TREE_PAGE)
    header = "![c](http://127.0.0.1:9/c.png),[b](https://evil.example/b)"
    data = (header + "\n" + "\n".join(f"{i},{-i}" for i in range(16)) + "\n").encode()
    upload(at, "tree_upload", f"{EVIL_NAME}.csv", data)
    assert not at.exception and not at.error
    assert at.session_state["signal"] == UPLOADED
    assert_shown(at.caption, re.escape(f"Read {EVIL_NAME}.csv: used column '![c](http://127.0.0.1:9/c.png)' of 2"))
    assert any(plain(f"{EVIL_NAME}.csv") in m.value for m in at.markdown)  # the page's "**name**, n samples"
    assert live_markup(at) == []
    upload(at, "tree_upload", f"{EVIL_NAME}.npy", b"not an array")
    assert_shown(at.error, re.escape(f"Could not use {EVIL_NAME}.npy: the file is not a valid .npy array"))
    assert live_markup(at) == []
    CASES.passed_case("markdown_injection_upload", "upload-name-and-columns")


def test_a_refused_files_message_describes_the_current_file_only():
    """Issue 13: an error is shown only while the file it names is the uploader's file."""
    at = open_session(TREE_PAGE)
    upload(at, "tree_upload", "first.csv", b"name\nann\nbob\n")
    assert_shown(at.error, "Could not use first.csv: no column holds numbers")
    upload(at, "tree_upload", "second.npy", npy(np.arange(4.0)))
    assert [unescape(e.value) for e in at.error] == [
        "Could not use second.npy: the signal has 4 sample(s); at least 8 are needed (at most 16384)"]
    at.file_uploader(key="tree_upload").set_value(None)  # removed (or replaced by a file the browser refused)
    at.run()
    assert not at.error, [e.value for e in at.error]
    upload(at, "tree_upload", "first.csv", b"name\nann\nbob\n")
    at.switch_page("app_pages/0_Home.py").run()  # leaving the page drops the uploader's file...
    at.switch_page(TREE_PAGE).run()
    assert at.file_uploader(key="tree_upload").value in (None, [])
    assert not at.error, [e.value for e in at.error]  # ...and so its message
    CASES.passed_case("signal_upload", "message-of-the-current-file")


def test_huge_npy_is_refused_before_any_chart_goes_non_finite():
    at = open_session(TREE_PAGE)
    before = snapshot(at)
    huge = np.tile([1.7e308, -1.7e308], 64)
    upload(at, "tree_upload", "huge.npy", npy(huge))
    assert_shown(at.error, r"largest magnitude is 1\.7e\+308 .*at most 1e\+100")
    assert snapshot(at) == before
    edge = np.tile([1e100, -1e100, 0.0, 5e99], 64)  # the largest accepted: every chart stays finite
    upload(at, "tree_upload", "edge.npy", npy(edge))
    assert not at.error and at.session_state["signal"] == UPLOADED
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        for trace in figure.get("data", []):
            for axis in ("x", "y", "z"):
                numbers = np.asarray(trace.get(axis) or [], dtype=object).ravel()
                floats = [float(v) for v in numbers if isinstance(v, (int, float))]
                assert np.isfinite(floats).all(), (trace.get("name"), axis)
    CASES.passed_case("signal_upload", "huge-magnitude")


def test_structured_npy_is_refused_in_plain_words():
    at = open_session(TREE_PAGE)
    upload(at, "tree_upload", "table.npy", npy(np.zeros(16, dtype=[("t", "f8"), ("v", "i4")])))
    assert [unescape(e.value) for e in at.error] == [
        "Could not use table.npy: structured/record arrays are not supported; save a plain numeric 1-D array "
        "(float or int dtype) with numpy.save"]
    CASES.passed_case("signal_upload", "structured-npy")


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    CASES.record({
        "signal_upload": len(SIGNAL_CASES) + 4,  # + too-long (window), current-file message, huge, structured
        "signal_upload_after_good": 4,
        "markdown_injection_upload": 1,
    })
