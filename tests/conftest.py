"""What the tests share: the app under Streamlit's AppTest, a real app server on a free loopback port,
Debian's headless Chromium, and the ceilings that only catch a hang.

Every wait here is a ceiling, never a measurement: a busy machine makes the tests slower, not red.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SERVER_START_TIMEOUT_S = 300  # only a hang: a busy machine starts the server slowly
APP = ROOT / "app.py"
#: Ceiling of one AppTest script run: only a hang takes this long, however busy the machine.
SCRIPT_RUN_TIMEOUT_S = 300
HANG_S = 600.0  # any single wait for a condition longer than this is a hang, on however busy a machine


def wait_until(condition, what, ceiling_s: float = HANG_S, poll_s: float = 0.2) -> None:
    """Poll ``condition()`` until true; only a hang (``ceiling_s``) fails. ``what`` names the awaited
    condition (a callable is asked at the failure, to describe the state then)."""
    deadline = time.monotonic() + ceiling_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {ceiling_s:.0f} s for {what() if callable(what) else what}: a hang")
        time.sleep(poll_s)


# --- the app under AppTest (no server, no browser) ---------------------------------------------------


def open_app(page: str | None = None, *, query: dict[str, str] | None = None, check: bool = True,
             timeout: float = SCRIPT_RUN_TIMEOUT_S, **state):
    """The app under ``AppTest``: ``query`` in its URL and ``state`` in its session, run once (Home),
    then switched to ``page`` (e.g. ``"app_pages/5_Train.py"``) and run. With ``check``, no run may
    have raised."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    if check:
        assert_no_exception(at)
    return at


def assert_no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def widget(widgets, key: str):
    """The one widget of ``widgets`` (e.g. ``at.sidebar.selectbox``) with ``key``."""
    for candidate in widgets:
        if candidate.key == key:
            return candidate
    raise KeyError(f"no widget with key {key!r}; keys: {[w.key for w in widgets]}")


def chart_spec(at, key: str) -> dict:
    """The Plotly figure a page drew under ``key`` (exactly one chart's id contains it), as JSON."""
    charts = [c for c in at.get("plotly_chart") if key in (c.proto.id or "")]
    assert len(charts) == 1, f"no single chart with key {key!r}"
    return json.loads(charts[0].proto.spec)


def chart_layouts(at) -> list[dict]:
    """The layout of every Plotly chart on the page, in page order."""
    return [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]


def decode_arrays(value):
    """Figure JSON with Plotly's typed arrays (``{"dtype", "bdata", "shape"}``) as numpy arrays."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
        shape = value.get("shape")
        return array.reshape([int(v) for v in str(shape).split(",")]) if shape else array
    if isinstance(value, dict):
        return {k: decode_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_arrays(v) for v in value]
    return value


# --- files to upload --------------------------------------------------------------------------------


def npy(array, allow_pickle: bool = False) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def wav(frames, rate: int = 8000) -> bytes:
    """``frames`` as a mono 16-bit PCM WAV file (the 44-byte header ``wave`` writes)."""
    import numpy as np

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.asarray(frames).astype("<i2").tobytes())
    return buffer.getvalue()


def upload(at, key: str, filename: str, data: bytes) -> None:
    """Give the file uploader ``key`` a file (e.g. ``"tree_upload"``: a signal, ``"train_upload"``: a
    checkpoint) and rerun."""
    at.file_uploader(key=key).set_value((filename, data, "application/octet-stream"))
    at.run()


class Trap:
    """A live pickle payload: unpickling it creates the file ``path`` (it reduces to ``open(path, "w")``)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- a session that bad input must leave as it was ---------------------------------------------------

SESSION_MODEL = "robustness net · haar · 4×3"  # the session's own model, selected before every test
SESSION_CHOICES = {"signal": "Doppler", "wavelet": "db2", "layer": 2, "channel": 3}


def session_model():
    """A small trained-looking session model (3 layers, 4 channels), so layer 2 and channel 3 exist."""
    from multires import ModelConfig
    from multires.model import build_model
    from ui.models import ModelEntry

    net = build_model(ModelConfig(d_model=4, n_layers=3, seq_len=64, wavelet="haar"), seed=7).eval()
    return ModelEntry(SESSION_MODEL, net, {"task": "digits"}, "trained")


def open_session(page: str | None = None):
    """The app with one session model and non-default choices (signal, wavelet, layer, channel), on ``page``."""
    choices = SESSION_CHOICES
    at = open_app(page, session_models={SESSION_MODEL: session_model()}, model=SESSION_MODEL,
                  signal=choices["signal"], wavelet=choices["wavelet"], _layer=choices["layer"],
                  _channel=choices["channel"])
    view = snapshot(at)  # the choices took effect, so "unchanged" after bad input means something
    assert {k: view[k] for k in ("model", *choices)} == {"model": SESSION_MODEL, **choices}
    return at


def snapshot(at) -> dict:
    """What must survive a bad input: the session's models (by identity) and every sidebar choice."""
    models = at.session_state["session_models"]
    uploaded = at.session_state.get("uploaded_signal")
    model = widget(at.sidebar.selectbox, "model").value
    return {
        "models": {name: id(entry) for name, entry in models.items()},
        "model": model,
        "layer": widget(at.sidebar.number_input, f"layer_{model}").value,
        "channel": widget(at.sidebar.number_input, f"channel_{model}").value,
        "signal": widget(at.sidebar.selectbox, "signal").value,
        "wavelet": widget(at.sidebar.selectbox, "wavelet").value,
        "upload": None if uploaded is None else (uploaded["name"], uploaded["values"].tobytes()),
    }


def assert_shown(elements, pattern: str) -> None:
    """Some element reads (as rendered: user strings are Markdown-escaped, see ui.safe_text) like ``pattern``."""
    from ui.safe_text import unescape

    texts = [unescape(e.value) for e in elements]
    assert any(re.search(pattern, text, re.DOTALL) for text in texts), f"no message matching {pattern!r} in {texts}"


MARKDOWN_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success")


def live_markup(at) -> list[str]:
    """Element bodies in which an image or a hostile address would still render (the app's own links,
    e.g. to the paper on Home, are fine: escaped, the hostile addresses read ``evil\\.example``)."""
    bodies = [e.value for kind in MARKDOWN_ELEMENTS for e in at.get(kind)] + [e.value for e in at.sidebar.caption]
    patterns = (r"(?<!\\)!(?<!\\)\[", r"evil\.example", r"127\.0\.0\.1", r"(?<!\\)<img")
    return [body for body in bodies if any(re.search(p, body) for p in patterns)]


# --- what held, for artifacts/reliability.json ---------------------------------------------------------

RELIABILITY_REPORT = ROOT / "artifacts" / "reliability.json"


def record_reliability(section: str, figures: dict) -> None:
    """Merge ``figures`` into ``artifacts/reliability.json`` under ``section`` (atomic replace)."""
    RELIABILITY_REPORT.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(RELIABILITY_REPORT.read_text())
    except (OSError, ValueError):
        report = {}
    report[section] = {**report.get(section, {}), **figures, "recorded": time.strftime("%Y-%m-%d %H:%M:%S")}
    tmp = RELIABILITY_REPORT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, RELIABILITY_REPORT)


class CaseLog:
    """The bad-input cases a test file tried and which passed, by kind; several files add their kinds to
    the report's ``bad_inputs`` section."""

    def __init__(self) -> None:
        self.passed: dict[str, list[str]] = {}

    def passed_case(self, kind: str, case: str) -> None:
        self.passed.setdefault(kind, []).append(case)

    def record(self, tried: dict[str, int]) -> None:
        try:
            earlier = json.loads(RELIABILITY_REPORT.read_text()).get("bad_inputs", {})
        except (OSError, ValueError):
            earlier = {}
        cases = {**earlier.get("cases", {}), **{kind: sorted(self.passed.get(kind, [])) for kind in tried}}
        tried = {**earlier.get("tried", {}), **tried}
        passed = {kind: len(cases.get(kind, [])) for kind in tried}
        record_reliability("bad_inputs", {"tried": tried, "tried_total": sum(tried.values()), "passed": passed,
                                          "passed_total": sum(passed.values()), "cases": cases})


# --- a real server and browser -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path

    def health(self, timeout: float = 5.0) -> str:
        with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=timeout) as response:
            return response.read().decode()

    def rss_bytes(self) -> int:
        """Resident memory of the server process (Linux ``/proc``)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")


#: Torch threads of every app server the tests and benchmarks start (the thread policy's default).
SERVER_THREADS = "1"


def start_app_server(log_dir: Path, extra_args: tuple[str, ...] = (), script: Path = ROOT / "app.py") -> AppServer:
    """Start ``streamlit run <script>`` (the app by default) on loopback and wait until its health endpoint answers."""
    port = free_port()
    log = log_dir / f"streamlit-{port}.log"
    env = {**os.environ, "MULTIRES_THREADS": SERVER_THREADS, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", *extra_args,
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            if server.health(timeout=1.0) == "ok":
                return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"streamlit did not answer on {server.url} within {SERVER_START_TIMEOUT_S} s")


def stop_app_server(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    server = start_app_server(tmp_path_factory.mktemp("server"))
    yield server
    stop_app_server(server)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by PyPI playwright. Missing Chromium is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for_app_idle(page, timeout_ms: int = 300_000) -> None:
    """Wait until the script run has finished: app mounted, no 'running' status widget."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(300)


def full_page_screenshot(page, path: Path, width: int = 1440) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main container, so grow the viewport."""
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stAppViewContainer', 'stSidebar']"
        ".map(id => document.querySelector(`[data-testid=\"${id}\"]`))"
        ".filter(Boolean).map(el => el.scrollHeight), 900)"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(800)  # let Plotly re-layout to the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def rewrite_checkpoint(data: bytes, tensors=None, metadata=None) -> bytes:
    """Re-save a checkpoint after editing its tensors and/or metadata (to forge bad files)."""
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    tensors_now = st_load(data)
    header_len = struct.unpack("<Q", data[:8])[0]
    metadata_now = json.loads(data[8 : 8 + header_len])["__metadata__"]
    if tensors is not None:
        tensors_now = tensors(tensors_now)
    if metadata is not None:
        metadata_now = metadata(metadata_now)
    return st_save(tensors_now, metadata=metadata_now)


#: Link targets a hostile data field tries to plant (a Markdown link, an autolink, a Plotly <a href>).
HOSTILE_HOSTS = ("evil.example",)
INJECTED_LINKS_JS = """
() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
      .filter(h => h.includes('evil.example') || h.trim().toLowerCase().startsWith('javascript'))
"""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def forge_parquet_footer(data: bytes, old: int, new: int) -> bytes:
    """Parquet ``data`` with every footer integer equal to ``old`` rewritten as ``new``, in the same number of
    bytes (a Thrift varint padded with continuation bytes), so every offset in the file stays valid."""
    length = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - length
    footer = data[start:-8]
    pattern = _varint(_zigzag(old))
    assert pattern in footer, f"{old} is not in the footer"
    padded = bytearray(_varint(_zigzag(new)))
    assert len(padded) <= len(pattern), "the forged number must fit the old one's bytes"
    if len(padded) < len(pattern):  # a non-canonical varint: continuation bits over zero groups
        padded[-1] |= 0x80
        padded += b"\x80" * (len(pattern) - len(padded) - 1) + b"\x00"
    return data[:start] + footer.replace(pattern, bytes(padded)) + data[-8:]


def injected_links(page) -> list[str]:
    """Every link on the page (HTML or inside a chart's SVG) that points where a hostile field said."""
    return page.evaluate(INJECTED_LINKS_JS)


def upload_in_browser(page, path: Path, index: int = 0, timeout_ms: int = 300_000) -> None:
    """Give the page's ``index``-th file uploader ``path`` (it must be in the DOM) and wait for the rerun."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(index).set_input_files(str(path),
                                                                                        timeout=timeout_ms)
    page.wait_for_timeout(500)
    wait_for_app_idle(page, timeout_ms)
