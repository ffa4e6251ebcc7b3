"""The app's first page draws without PyTorch, and the background preloading then loads it.

Cold start (``streamlit run`` -> first chart) is timed by ``benchmarks/bench_app.py``; these tests
check the mechanism it relies on: which modules the first script run imports, and that the
preloading thread imports everything the other pages and training need and sets torch's threads.
Each runs in a fresh interpreter, because this test process has long imported torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

HEAVY = ("torch", "sklearn", "scipy", "sympy", "safetensors", "aeon", "mlxtend", "numba")


def _run(code: str, **env: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_library_names_load_on_first_use_and_the_light_ones_never_import_torch():
    result = _run("""
import json, sys
import multires
from multires import kept_cells, memory_slots, ModelConfig, discrete_wavelet_names
from multires.figures.tree import dilated_tree_figure
from multires.checkpoint.format import read_metadata
from multires.data.signals import load_signal
config, metrics = read_metadata("assets/models/digits-fading-haar.safetensors")
fig = dilated_tree_figure(16, 4, 2, 15, kept_cells(memory_slots("fading", 4, 2), 15), "fading")
light = {m: m in sys.modules for m in HEAVY}
missing = sorted(n for n in multires.__all__ if not hasattr(multires, n))
try:
    multires.no_such_name
    unknown = "no error"
except AttributeError as err:
    unknown = str(err)
print(json.dumps({"light": light, "config": config.to_json(), "task": metrics["task"], "missing": missing,
                  "net": type(multires.MultiresNet(config)).__name__, "unknown": unknown,
                  "dir": sorted(set(multires.__all__) - set(dir(multires)))}))
""".replace("HEAVY", repr(HEAVY)))
    assert result["light"] == dict.fromkeys(HEAVY, False)
    assert '"tree_select": "fading"' in result["config"] and result["task"] == "digits"
    assert result["missing"] == [] and result["dir"] == [], "every name in __all__ resolves and is listed"
    assert result["net"] == "MultiresNet"
    assert "has no attribute 'no_such_name'" in result["unknown"]


def test_home_chart_is_drawn_before_any_heavy_import_and_pandas_only_after_it():
    result = _run("""
import json, sys, threading
import streamlit
from streamlit.testing.v1 import AppTest
from ui import runtime
runtime._preload = lambda *args: None  # the thread starts, imports nothing: only what the script run itself imports
charts = []
draw = streamlit.plotly_chart
def recording_plotly_chart(*args, **kwargs):
    charts.append({"key": kwargs.get("key"), "loaded": sorted(m for m in HEAVY + ("pandas",) if m in sys.modules),
                   "headers_read": "multires.checkpoint.format" in sys.modules})
    return draw(*args, **kwargs)
streamlit.plotly_chart = recording_plotly_chart
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
print(json.dumps({"exceptions": [e.value for e in at.exception], "charts": charts,
                  "title": at.title[0].value, "sidebar": [w.label for w in at.sidebar.selectbox],
                  "sidebar_captions": [c.value for c in at.sidebar.caption],
                  "loaded": {m: m in sys.modules for m in HEAVY}, "pandas": "pandas" in sys.modules}))
""".replace("HEAVY", repr(HEAVY)))
    assert result["exceptions"] == []
    assert result["title"] == "Wavelet Memory Explorer"
    assert result["sidebar"] == [], "Home reads no picker and draws none (the browser draws its chart sooner)"
    assert any("pickers are on the pages that use them" in c for c in result["sidebar_captions"])
    assert [c["key"] for c in result["charts"]] == ["home_tree"]
    assert result["charts"][0]["loaded"] == [], "Home's chart must not wait for pandas, torch, scipy, ..."
    assert not result["charts"][0]["headers_read"], "nor for the sidebar's model picker (drawn after Home)"
    assert result["loaded"] == dict.fromkeys(HEAVY, False), "the first run imports no heavy module"
    assert result["pandas"], "pandas must be fully imported on the script thread before the preloading starts"


def test_preloading_imports_pandas_on_the_calling_thread_before_its_thread_starts():
    result = _run("""
import json, sys
from ui import runtime
seen = {}
def record(*args):
    pandas = sys.modules.get("pandas")
    seen["complete"] = pandas is not None and hasattr(pandas, "DataFrame")
runtime._preload = record
before = "pandas" in sys.modules
runtime.start_preloading(0.0).join(timeout=120)
print(json.dumps({"before": before, **seen}))
""")
    assert result == {"before": False, "complete": True}


def test_preloading_sets_torch_threads_and_leaves_no_heavy_import_to_any_page():
    result = _run("""
import json, sys
from streamlit.testing.v1 import AppTest
from ui import runtime
runtime.wait_until_idle = lambda *args: 0.0  # what it imports, not when (a busy CPU would delay it up to 30 s)
at = AppTest.from_file("app.py", default_timeout=300)
at.run()
preloading = runtime.start_preloading()
preloading.join(timeout=600)  # only catches a hang
assert not preloading.is_alive()
import torch
threads = torch.get_num_threads()
before = set(sys.modules)
pages = ["1_Wavelets", "2_Filters", "2b_Playground", "3_Coefficient_tree", "4_TREESELECT", "5_Train", "6_Compare"]
exceptions = []
for page in pages:
    at.switch_page(f"app_pages/{page}.py").run()
    exceptions += [f"{page}: {e.value}" for e in at.exception]
new = sorted(m for m in set(sys.modules) - before
             if m.split(".")[0] in ("torch", "sklearn", "scipy", "sympy", "safetensors", "multires"))
print(json.dumps({"threads": threads, "preloaded": all(m in before for m in runtime.PRELOAD_MODULES),
                  "new": new, "exceptions": exceptions}))
""", WME_TORCH_THREADS="1")
    assert result["exceptions"] == []
    assert result["threads"] == 1 and result["preloaded"]
    assert result["new"] == [], f"pages imported heavy modules the preloading missed: {result['new']}"


def test_preloading_waits_for_an_idle_cpu_but_not_beyond_its_cap():
    from ui.runtime import IDLE_SHARE, cpu_idle_share, wait_until_idle

    asked = []

    def shares(values):
        it = iter(values)
        return lambda: asked.append(1) or next(it)

    wait_until_idle(0.0, 3600.0, shares([0.0, IDLE_SHARE / 2, IDLE_SHARE, 0.0]))
    assert len(asked) == 3, "it starts at the first idle measurement"
    asked.clear()
    wait_until_idle(0.0, 3600.0, shares([0.1, None]))
    assert len(asked) == 2, "where the CPU cannot be measured it does not wait"
    asked.clear()
    wait_until_idle(0.0, 0.0, shares([0.0]))
    assert asked == [], "past max_wait it starts whatever the load"
    share = cpu_idle_share(0.05)
    assert share is None or 0.0 <= share <= 1.0


def test_await_module_waits_for_another_threads_import_to_finish(tmp_path, monkeypatch):
    """A script run that starts while another thread imports pandas must not see it half-initialised:
    ``runtime.await_module`` returns only once the module is complete (here a module whose import
    blocks until the test lets it finish)."""
    import threading

    from ui import runtime

    (tmp_path / "wme_slow_module.py").write_text(
        "import threading\nGATE = threading.Event()\nimport builtins\nbuiltins._wme_gate_holder = GATE\n"
        "GATE.wait(60)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importer = threading.Thread(target=__import__, args=("wme_slow_module",), daemon=True)
    importer.start()
    import builtins
    import sys
    import time

    deadline = time.monotonic() + 300
    while not hasattr(builtins, "_wme_gate_holder"):  # the other thread is inside the import now
        assert time.monotonic() < deadline, "the import did not start"
        time.sleep(0.01)
    assert not hasattr(sys.modules["wme_slow_module"], "DONE")  # half-initialised, as Plotly would see it
    releaser = threading.Timer(0.5, builtins._wme_gate_holder.set)
    releaser.start()
    runtime.await_module("wme_slow_module")
    assert sys.modules["wme_slow_module"].DONE is True
    importer.join(60)
    del builtins._wme_gate_holder
    sys.modules.pop("wme_slow_module", None)
