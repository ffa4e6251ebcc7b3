"""Security checks for classes and shared servers.

* The shipped Streamlit config is safe by default: loopback only, XSRF protection on, uploads capped at
  the library's own limit (read with ``tomllib`` *and* as Streamlit itself reads it); a served app
  refuses an upload without its XSRF token and an upload above the limit.
* Nothing in the project's own code can unpickle or evaluate text: an AST scan of ``multires/``,
  ``ui/``, ``app_pages/``, ``app.py`` and ``scripts/`` finds no ``pickle`` (or its relatives),
  ``torch.load``, ``np.load`` without ``allow_pickle=False``, ``allow_pickle=True``, ``eval``, ``exec``.
  The scanner is tested on snippets that must trip it, so a pass is not vacuous.
* Uploads are never written to disk: parsing a signal upload and loading a checkpoint upload work
  on bytes (an audit hook sees no file opened for writing), and a full upload flow through the app
  leaves no new file holding the upload's bytes in the working directory, the repository or the
  temp directory.
"""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import tokenize
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import npy, open_app, record_reliability, upload, wav
from multires import ModelConfig, MultiresNet
from multires.checkpoint import checkpoint_bytes, load_checkpoint
from multires.data.uploads import parse_upload
from multires.data.uploads.checks import SignalTooLongError
from multires.options import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: The project's own Python (tests and benchmarks excluded: tests build pickles on purpose).
SCANNED = ["multires", "ui", "app_pages", "app.py", "scripts"]


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    record_reliability("security", {
        "project_files_scanned": len(PROJECT_FILES), "scanner_must_catch": len(CATCH), "scanner_must_pass": len(PASS),
        "upload_formats_checked_for_disk_writes": len(SIGNAL_UPLOADS) + 1,
        "served_app_refusals": ["upload without its XSRF token", "upload above maxUploadSize"],
    })


# --- 1. the Streamlit config -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_toml() -> dict:
    with CONFIG.open("rb") as f:
        return tomllib.load(f)


def test_config_serves_loopback_only_by_default(config_toml):
    assert config_toml["server"]["address"] in LOOPBACK


def test_config_turns_xsrf_protection_on(config_toml):
    assert config_toml["server"]["enableXsrfProtection"] is True


def test_config_upload_limit_matches_the_library(config_toml):
    """One limit in one unit: the browser's MB (10**6 bytes), the parsers' bytes and their message."""
    assert config_toml["server"]["maxUploadSize"] == MAX_UPLOAD_MB == 5
    assert MAX_UPLOAD_BYTES == MAX_UPLOAD_MB * 10**6
    with pytest.raises(ValueError, match=r"the largest accepted upload is 5 MB \(5,000,000 bytes\)$"):
        parse_upload(b"1\n" * (MAX_UPLOAD_BYTES // 2) + b"1", "big.csv")
    with pytest.raises(SignalTooLongError):  # exactly at the limit: read, then offered as a window
        parse_upload(b"1\n" * (MAX_UPLOAD_BYTES // 2), "limit.csv")


def test_config_hides_error_details_and_usage_stats(config_toml):
    assert config_toml["client"]["showErrorDetails"] == "none"  # no tracebacks shown to a room
    assert config_toml["browser"]["gatherUsageStats"] is False


def test_streamlit_itself_reads_these_options_from_the_repository():
    """Catches a misspelt key or section, which tomllib alone would not: ask Streamlit what it parsed."""
    probe = ("import json; from streamlit import config; config.get_config_options(force_reparse=True); "
             "print(json.dumps({k: config.get_option(k) for k in ('server.address', 'server.enableXsrfProtection', "
             "'server.maxUploadSize', 'server.enableCORS', 'client.showErrorDetails')}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    options = json.loads(done.stdout.strip().splitlines()[-1])
    assert options["server.address"] in LOOPBACK
    assert options["server.enableXsrfProtection"] is True
    assert options["server.maxUploadSize"] == MAX_UPLOAD_MB
    assert options["client.showErrorDetails"] == "none"


@pytest.mark.slow
@pytest.mark.browser
def test_served_app_refuses_an_upload_without_its_xsrf_token(app_server):
    request = urllib.request.Request(f"{app_server.url}/_stcore/upload_file/some-session/some-file",
                                     data=b"x" * 64, method="PUT")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 403


@pytest.mark.slow
@pytest.mark.browser
def test_served_app_refuses_an_upload_above_the_limit(app_server, chromium, tmp_path):
    """A real browser picks a file 1 byte above maxUploadSize: the uploader refuses it, nothing is read."""
    from conftest import wait_for_app_idle

    big = tmp_path / "big.csv"
    big.write_bytes(b"1\n" * (MAX_UPLOAD_BYTES // 2) + b"1")
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{app_server.url}/tree", wait_until="domcontentloaded")
        wait_for_app_idle(page)
        page.get_by_role("tab", name="Your own signal").click(timeout=120_000)  # generous: CI is loaded
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(big), timeout=120_000)
        # The uploader sits in a collapsed expander: its alert is in the DOM, not necessarily visible.
        page.get_by_text("must be 5.0MB or smaller").first.wait_for(state="attached", timeout=300_000)
        wait_for_app_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Uploaded signal" not in page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_served_app_shows_hostile_link_parameters_as_plain_text(app_server, chromium):
    """Issue 13: in a real browser, a link's Markdown is shown as text: no link to evil.example, no image fetched."""
    from urllib.parse import urlencode, urlparse

    from conftest import wait_for_app_idle

    hostile = {"model": "[Session expired: click here](https://evil.example/login)",
               "signal": "![x](http://127.0.0.1:9/t.png)",
               "wavelet": "<img src=http://127.0.0.1:9/h.png> https://evil.example/auto"}
    requested: list[str] = []
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{app_server.url}/?{urlencode(hostile)}", wait_until="domcontentloaded")
        wait_for_app_idle(page)
        alerts = page.locator('[data-testid="stAlert"]').filter(has_text="Ignored a link parameter")
        alerts.nth(len(hostile) - 1).wait_for(state="attached", timeout=120_000)
        shown = " ".join(alerts.all_inner_texts()).replace("\u2060", "")  # the invisible word joiners of plain()
        for value in hostile.values():
            assert value in shown  # read as typed, markup and all
        assert page.locator('a[href*="evil.example"]').count() == 0
        assert page.locator('img[src*="127.0.0.1:9/"]').count() == 0
        assert not [url for url in requested if urlparse(url).netloc in ("evil.example", "127.0.0.1:9")]
    finally:
        page.close()


# --- 2. nothing unpickles or evaluates text -------------------------------------------------------------

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "joblib", "pickletools"}
EVALUATORS = {"eval", "exec", "compile", "__import__"}


def _dotted(node: ast.AST) -> str:
    """``np.load`` for the call target ``np.load``; '' for anything that is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def unsafe_uses(source: str, filename: str = "<snippet>") -> list[str]:
    """Every way ``source`` could unpickle or evaluate text, as ``"line N: what"`` strings."""
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in PICKLE_MODULES:
                found.append(f"line {line}: from {node.module} import ...")
            if module == "torch" and any(a.name == "load" for a in node.names):
                found.append(f"line {line}: from torch import load")
        elif isinstance(node, ast.Call):
            target = _dotted(node.func)
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if isinstance(node.func, ast.Name) and node.func.id in EVALUATORS:
                found.append(f"line {line}: {node.func.id}(...)")
            if target in ("torch.load", "torch.jit.load") or target.endswith(".read_pickle"):
                found.append(f"line {line}: {target}(...)")
            if target in ("np.load", "numpy.load"):
                flag = keywords.get("allow_pickle")
                if not (isinstance(flag, ast.Constant) and flag.value is False):
                    found.append(f"line {line}: {target}(...) without allow_pickle=False")
            flag = keywords.get("allow_pickle")
            if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                found.append(f"line {line}: allow_pickle={ast.unparse(flag)}")
    # Any identifier mentioning pickle in code (not in strings or comments), e.g. an aliased module.
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and "pickle" in token.string.lower() and token.string != "allow_pickle":
            found.append(f"line {token.start[0]}: name {token.string!r}")
    return sorted(set(found))


def _project_files() -> list[Path]:
    files = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


PROJECT_FILES = _project_files()


def test_the_scan_covers_the_project():
    names = {p.relative_to(ROOT).as_posix() for p in PROJECT_FILES}
    assert {"app.py", "multires/data/signals.py", "multires/checkpoint/io.py", "ui/training_runner.py",
            "app_pages/5_Train.py", "scripts/make_pretrained.py"} <= names


#: The one place allowed to pickle, and exactly what it may do. The upload-check worker returns what it
#: built from an upload (arrays, a table, a model) as pickled bytes to the server that started it, as
#: every multiprocessing result travels; the upload itself is never unpickled. The lines are counted
#: without their numbers, so any further use in that file fails the test.
PICKLE_ALLOWED = {
    "ui/upload_worker.py": ["import pickle", "name 'pickle'", "name 'pickle'", "name 'pickle'"],
}


def _without_line_numbers(found: list[str]) -> list[str]:
    return sorted(item.split(": ", 1)[1] for item in found)


@pytest.mark.parametrize("path", PROJECT_FILES, ids=[p.relative_to(ROOT).as_posix() for p in PROJECT_FILES])
def test_no_pickle_or_eval_in_project_code(path):
    found = unsafe_uses(path.read_text(encoding="utf-8"), str(path))
    allowed = PICKLE_ALLOWED.get(path.relative_to(ROOT).as_posix(), [])
    assert _without_line_numbers(found) == sorted(allowed), found


def test_the_worker_unpickles_only_its_own_results():
    """The allowance above covers one ``pickle.dumps`` in the worker and one ``pickle.loads`` of its result."""
    source = (ROOT / "ui" / "upload_worker.py").read_text(encoding="utf-8")
    calls = [_dotted(node.func) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and _dotted(node.func).startswith("pickle.")]
    assert sorted(calls) == ["pickle.dumps", "pickle.loads"]
    assert "pickle.loads(self._result(future, seconds))" in source


CATCH = {
    "import-pickle": "import pickle",
    "aliased": "import pickle as p",
    "_pickle": "from _pickle import loads",
    "dill": "import dill",
    "joblib": "import joblib",
    "marshal": "import marshal",
    "from-torch-import-load": "from torch import load",
    "torch.load": "import torch\ntorch.load('m.pt')",
    "torch.load-weights_only": "import torch\ntorch.load('m.pt', weights_only=True)",
    "np.load-default": "import numpy as np\nnp.load('x.npy')",
    "allow_pickle-True": "import numpy\nnumpy.load('x.npy', allow_pickle=True)",
    "allow_pickle-variable": "import numpy as np\nflag = False\nnp.load('x.npy', allow_pickle=flag)",
    "read_array-allow_pickle": "import numpy as np\nnp.lib.format.read_array(f, allow_pickle=True)",
    "read_pickle": "import pandas as pd\npd.read_pickle('x.pkl')",
    "eval": "eval('1 + 1')",
    "exec": "exec('x = 1')",
    "compile": "compile('x', 'f', 'exec')",
    "__import__": "__import__('os')",
    "pickle-identifier": "unpickler = None",
}
PASS = {
    "np.load-safe": "import numpy as np\nnp.load(f, allow_pickle=False)",
    "method-eval": "net.eval()",
    "strings-and-comments": "model.eval()\nx = 'pickle and eval( in a string'  # torch.load( in a comment",
    "docstring": "def f():\n    '''never unpickled; np.load(...) exec(...)'''",
    "safetensors-load": "from safetensors.torch import load",
}


@pytest.mark.parametrize("snippet", list(CATCH.values()), ids=list(CATCH))
def test_the_scanner_catches(snippet):
    assert unsafe_uses(snippet), f"the scanner missed: {snippet!r}"


@pytest.mark.parametrize("snippet", list(PASS.values()), ids=list(PASS))
def test_the_scanner_passes_safe_code(snippet):
    assert unsafe_uses(snippet) == []


# --- 3. uploads stay in memory ------------------------------------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_FILE_EVENTS = {"os.rename", "os.replace", "os.mkdir", "os.link", "os.symlink", "shutil.copyfile", "shutil.move",
                "tempfile.mkstemp", "tempfile.mkdtemp", "os.truncate"}
_audit_lock = threading.Lock()
_audit_log: list | None = None  # a list while recording
_audit_installed = False


def _audit(event: str, args: tuple) -> None:
    log = _audit_log
    if log is None:
        return
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writing and path not in (os.devnull,) and not isinstance(path, int):
            log.append((event, str(path), mode, flags))
    elif event in _FILE_EVENTS:
        log.append((event, *map(str, args)))


class WriteRecorder:
    """Records every file opened for writing (and every rename/mkdir/mkstemp) in this process."""

    def __enter__(self) -> list:
        global _audit_log, _audit_installed
        with _audit_lock:
            if not _audit_installed:  # audit hooks cannot be removed: install one, switch it on and off
                sys.addaudithook(_audit)
                _audit_installed = True
            _audit_log = []
            return _audit_log

    def __exit__(self, *exc) -> None:
        global _audit_log
        _audit_log = None


def test_write_recorder_sees_a_write(tmp_path):
    with WriteRecorder() as writes:
        (tmp_path / "probe.txt").write_bytes(b"x")
        fd, name = tempfile.mkstemp(dir=tmp_path)
        os.close(fd)
    assert any("probe.txt" in w[1] for w in writes)
    assert any(w[0] == "tempfile.mkstemp" or name in w[1] for w in writes)


MARKER = 0.123456789012345  # a value unlikely to be in any other file, as text and as float64 bytes


SIGNAL_UPLOADS = {
    "csv": ("signal.csv", ("x\n" + "\n".join(f"{MARKER * i!r}" for i in range(64)) + "\n").encode()),
    "npy": ("signal.npy", npy(MARKER * np.arange(64.0))),
    "wav": ("signal.wav", wav(np.arange(64) * 97)),
}


@pytest.mark.parametrize("kind", list(SIGNAL_UPLOADS))
def test_parse_upload_writes_no_file(kind):
    filename, data = SIGNAL_UPLOADS[kind]
    with WriteRecorder() as writes:
        parsed = parse_upload(data, filename)
    assert parsed.values.size == 64
    assert writes == []


def _checkpoint() -> bytes:
    net = MultiresNet(ModelConfig(d_model=4, n_layers=1, seq_len=64))
    return checkpoint_bytes(net.eval(), {"marker": MARKER})


def test_load_checkpoint_from_bytes_writes_no_file():
    data = _checkpoint()
    # Warm-up: PyTorch's first model build lazily imports torch._dynamo, which creates its (empty)
    # cache directory once per process; that is PyTorch's doing, not the upload's.
    load_checkpoint(data)
    with WriteRecorder() as writes:
        _, _, metrics = load_checkpoint(data)
    assert metrics["marker"] == MARKER
    assert writes == []


def _snapshot(directories: dict[Path, bool]) -> dict[Path, tuple[int, int]]:
    """``{file: (size, mtime_ns)}`` of each directory (recursively when its flag says so)."""
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", "node_modules"}
    files = {}
    for directory, recursive in directories.items():
        if recursive:
            for base, dirs, names in os.walk(directory):
                dirs[:] = [d for d in dirs if d not in skip]
                for name in names:
                    path = Path(base) / name
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    files[path] = (stat.st_size, stat.st_mtime_ns)
        else:
            for path in directory.iterdir():
                try:
                    stat = path.stat()
                except OSError:
                    continue
                files[path] = (stat.st_size, stat.st_mtime_ns)
    return files


def _holds(path: Path, needles: list[bytes]) -> bool:
    try:
        if not path.is_file() or path.stat().st_size > 64 * 2**20:
            return False
        content = path.read_bytes()
    except OSError:
        return False
    return any(needle in content for needle in needles)


def test_an_upload_flow_through_the_app_writes_nothing_to_disk():
    """Upload a signal on the Coefficient tree page and a checkpoint on the Train page, in one session."""
    signal_name, signal_bytes = SIGNAL_UPLOADS["npy"]
    checkpoint = _checkpoint()
    directories = {Path.cwd(): False, Path(tempfile.gettempdir()): False, ROOT: True}
    load_checkpoint(checkpoint)  # warm-up, see test_load_checkpoint_from_bytes_writes_no_file
    # warm: shipped models loaded, caches filled, before anything is recorded
    at = open_app("app_pages/3_Coefficient_tree.py")
    before = _snapshot(directories)
    with WriteRecorder() as writes:
        upload(at, "tree_upload", signal_name, signal_bytes)
        at.switch_page("app_pages/5_Train.py").run()
        upload(at, "train_upload", "mine.safetensors", checkpoint)
    after = _snapshot(directories)
    assert not at.exception, [e.message for e in at.exception]
    np.testing.assert_array_equal(at.session_state["uploaded_signal"]["values"], MARKER * np.arange(64.0))
    assert "mine" in at.session_state["session_models"]
    assert writes == [], "files opened for writing during the upload flow"
    changed = [p for p, stat in after.items() if before.get(p) != stat]
    needles = [signal_bytes[-256:], checkpoint[-256:]]
    assert [p for p in changed if _holds(p, needles)] == []


#: Every page's title in the sidebar navigation (app.py), Home last so the session comes back to it.
EVERY_PAGE = ["Wavelets", "Filters", "Wavelet playground", "Coefficient tree", "TREESELECT memory", "Train", "Compare",
              "Study", "Home"]


@pytest.mark.slow
@pytest.mark.browser
def test_a_session_of_every_page_sends_no_request_beyond_the_server(app_server, chromium):
    """Issue 23: the app works offline and tells no third party about its users. One browser session
    opens every page from the sidebar; every request the page makes (documents, scripts, fonts, icons,
    images, websockets) goes to the app's own host. The favicon used to come from fonts.gstatic.com."""
    from urllib.parse import urlparse

    from conftest import wait_for_app_idle

    own = urlparse(app_server.url).netloc
    requested: list[str] = []
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(300_000)
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    try:
        page.goto(app_server.url, wait_until="domcontentloaded")
        wait_for_app_idle(page)
        for title in EVERY_PAGE:
            page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            wait_for_app_idle(page)
            page.wait_for_selector("h1")
            page.wait_for_load_state("networkidle")
        outside = sorted({url for url in requested
                          if urlparse(url).scheme not in ("data", "blob") and urlparse(url).netloc != own})
        assert outside == [], outside
        assert any("/media/" in url for url in requested), "the favicon is served by the app"
    finally:
        page.close()
