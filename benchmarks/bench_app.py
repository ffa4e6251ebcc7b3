"""App speed: cold start to first chart in headless Chromium, and warm script runs per page.

Targets: the app's cold start within 1.2x a hello-world
Streamlit + Plotly app started alternately in the same run (absolute: under 5 s); every page's
script run with warm caches, for signals up to 4096 samples, under 0.5 s.

* Cold start: Chromium is launched first (not timed); the clock starts when the ``streamlit run``
  process is spawned and stops when the first ``.js-plotly-plot`` is in the DOM. The reference is a
  hello-world app (``st.title`` and one ``st.plotly_chart`` of a three-point figure, written to a
  temporary directory) run from the same venv and directory, so what every Streamlit start pays
  (the interpreter, importing Streamlit and Plotly, the metadata scan of installed packages, the
  browser loading Streamlit's and Plotly's JavaScript) cancels in the ratio. Hello-world and the
  app start alternately, ``--starts`` pairs, a fresh server each time (OS file cache warm,
  Streamlit caches cold); the ratio is the app's median over hello-world's median (the per-pair
  ratios are printed too). The machine's load average is printed before and after: on a shared
  machine absolute times mean little without it.
* Next page (informative, no target): after the app's cold start the user clicks "Filters" in the
  sidebar (a page that needs PyTorch and a model's weights), at once in odd pairs, 8 s later in
  even ones, when on an idle machine the server's background preloading (``ui/runtime.py``: once
  the CPU is idle, 3 to 30 s after the first run) has finished; the time from the click to the
  Filters page's first chart is reported.
* Warm runs, measured two ways with the sidebar's signal Bumps at 4096 samples:

  Both time ``--repeats`` rounds after a warm-up round; each round visits every page in turn and
  times one rerun of it, so a busy moment of the shared machine falls on all pages alike. A page's
  number is the median of its timed reruns.

  - **In the server** (what a user waits for): a real ``streamlit run`` server with
    ``WME_RUN_TIMES`` set logs each completed script run (``ui/run_timing.py``: from the first line
    of ``app.py`` to its last). Headless Chromium picks the signal and its length in the sidebar,
    as a user does; then, per page, clicks it in the sidebar's navigation, waits for that run to be
    logged, and presses ``r`` (Streamlit's rerun shortcut): the rerun's logged time is the
    measurement. The warm-up round also lets the server's background preloading finish.
  - **Under AppTest** (no browser, no websocket): ``streamlit.testing.v1.AppTest`` switches to the
    page, runs it, and times a second run (AppTest's own overhead included). AppTest makes a new
    ``ScriptCache`` for every run, so by itself it would parse, rewrite (Streamlit's "magic") and
    compile ``app.py`` and the page's source again on every run, which a server never does (it
    compiles each script once and keeps the bytecode until the file changes): that cost grows with
    the page's source, so it would overstate the longer pages. The benchmark gives AppTest one
    ``ScriptCache`` for all runs, as the server's runtime has.

  Each page's median is divided by Home's in the same way of measuring: PASS when within
  ``WARM_RATIO_TARGET`` x Home's and under 0.5 s, both ways. Beside it, the bytes of the page's
  figure JSON (every ``st.plotly_chart`` spec, all tabs) at N = 1024, 4096 and 16384 (16384 is
  longer than the sidebar offers: it is set as the session's uploaded signal): with the display
  reduction (``multires/figures/reduce.py``) they stop growing with N once a chart's pixel budget
  is reached.

Usage: ``python benchmarks/bench_app.py [--starts 6] [--repeats 9] [--cold-only | --warm-only]``; each part
writes its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, SERVER_THREADS, start_app_server, stop_app_server  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from _report import Report  # noqa: E402

#: Every page: its script, its title in the sidebar's navigation, and its URL path (``app.py``; the
#: run log names Home "home").
PAGE_TABLE = [
    ("app_pages/0_Home.py", "Home", "home"),
    ("app_pages/1_Wavelets.py", "Wavelets", "wavelets"),
    ("app_pages/2_Filters.py", "Filters", "filters"),
    ("app_pages/2b_Playground.py", "Wavelet playground", "playground"),
    ("app_pages/3_Coefficient_tree.py", "Coefficient tree", "tree"),
    ("app_pages/4_TREESELECT.py", "TREESELECT memory", "treeselect"),
    ("app_pages/5_Train.py", "Train", "train"),
    ("app_pages/6_Compare.py", "Compare", "compare"),
    ("app_pages/7_Study.py", "Study", "study"),
]
PAGES = [script for script, _, _ in PAGE_TABLE]
START_TARGET_S = 5.0
START_RATIO_TARGET = 1.2  # the app's cold start over a hello-world Streamlit + Plotly app's
RUN_TARGET_S = 0.5
WARM_RATIO_TARGET = 2.0  # a page's warm run over Home's, same run
SPEC_LENGTHS = (1024, 4096, 16384)  # signal lengths whose figure JSON bytes are printed
SIGNAL = "Bumps"  # a built-in signal generated at any length, with isolated spikes
NEXT_PAGE_WAIT_S = 8.0  # idle machine: > the 3 s preload delay plus the preloading itself
RUN_TIMEOUT_S = 300.0  # only catches a hang, like CHART_TIMEOUT_MS
RERUN_PAUSE_S = 1.0  # after a page opens, before its timed ``r``: lets this machine's browser finish drawing
CHART_TIMEOUT_MS = 300_000  # only catches a hang (a heavily loaded small machine takes close to a minute)

#: The cold-start reference: what any Streamlit app with one Plotly chart does on its first run.
HELLO_WORLD = """import plotly.graph_objects as go
import streamlit as st

st.title("Hello world")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])))
"""


def _first_chart(browser, script: Path, log_dir: Path) -> tuple[float, object, object]:
    """Seconds from spawning ``streamlit run script`` to its first chart in the DOM; the open page
    and the running server (the caller closes both)."""
    t0 = time.perf_counter()
    server = start_app_server(log_dir, script=script)
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(server.url, wait_until="commit")
        page.wait_for_selector(".js-plotly-plot", timeout=CHART_TIMEOUT_MS)
    except BaseException:
        stop_app_server(server)
        raise
    return time.perf_counter() - t0, page, server


def hello_cold_start(browser, script: Path) -> float:
    """Seconds from spawning the hello-world app to its chart in the DOM."""
    with tempfile.TemporaryDirectory() as tmp:
        seconds, page, server = _first_chart(browser, script, Path(tmp))
        page.close()
        stop_app_server(server)
    return seconds


def cold_start(browser, next_after: float) -> tuple[float, float]:
    """Seconds to Home's first chart from spawning the server; then from clicking "Filters" in the
    sidebar, ``next_after`` seconds after Home's chart appeared, to that page's first chart."""
    with tempfile.TemporaryDirectory() as tmp:
        home, page, server = _first_chart(browser, ROOT / "app.py", Path(tmp))
        try:
            time.sleep(next_after)
            t1 = time.perf_counter()
            page.get_by_role("link", name="Filters").first.click()
            page.wait_for_selector(".st-key-filters_taps .js-plotly-plot", timeout=CHART_TIMEOUT_MS)
            next_page = time.perf_counter() - t1
            page.close()
        finally:
            stop_app_server(server)
    return home, next_page


def cold_starts(pairs: int) -> list[tuple[float, float, float, float]]:
    """``pairs`` x (hello-world, app, the app's next page, seconds waited before the click), alternating
    hello-world and app starts so both see the same machine load."""
    from playwright.sync_api import sync_playwright

    out = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        hello = Path(tmp) / "hello_world.py"
        hello.write_text(HELLO_WORLD)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for i in range(pairs):
                wait = NEXT_PAGE_WAIT_S if i % 2 else 0.0
                reference = hello_cold_start(browser, hello)
                app, next_page = cold_start(browser, wait)
                print(f"  pair {i + 1}: hello-world {reference:.2f} s, app {app:.2f} s, ratio {app / reference:.2f}",
                      flush=True)
                out.append((reference, app, next_page, wait))
        finally:
            browser.close()
    return out


def print_cold_starts(pairs: list[tuple[float, float, float, float]], load_before: str, load_after: str) -> str:
    """Print the cold-start rows of the table; returns the note to print under it."""
    hello = statistics.median(h for h, _, _, _ in pairs)
    app = statistics.median(a for _, a, _, _ in pairs)
    ratio = app / hello
    print("| measurement | value | target | ratio to target |\n|---|---|---|---|")
    print(f"| cold start → first chart, hello-world Streamlit + Plotly (median of {len(pairs)}) | {hello:.2f} s | – | – |")
    print(f"| cold start → first chart, app (median of {len(pairs)}) | {app:.2f} s | < {START_TARGET_S} s | "
          f"{app / START_TARGET_S:.2f} {'PASS' if app < START_TARGET_S else 'FAIL'} |")
    print(f"| cold start ratio app / hello-world (medians) | {ratio:.2f} | < {START_RATIO_TARGET} | "
          f"{ratio / START_RATIO_TARGET:.2f} {'PASS' if ratio < START_RATIO_TARGET else 'FAIL'} |")
    for label, waited in ((f"{NEXT_PAGE_WAIT_S:g} s after the first chart", True), ("at once", False)):
        clicks = [n for _, _, n, w in pairs if (w > 0) == waited]
        if clicks:
            print(f"| next page: click Filters {label} → its chart (median of {len(clicks)}) | "
                  f"{statistics.median(clicks):.2f} s | – | – |")
    return (f"(cold starts, hello-world / app: {', '.join(f'{h:.2f}/{a:.2f}' for h, a, _, _ in pairs)} s; per-pair ratios "
            f"{', '.join(f'{a / h:.2f}' for h, a, _, _ in pairs)}; load average (1, 5, 15 min) before {load_before}, "
            f"after {load_after}; {os.cpu_count()} CPUs)")


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _app_at(length: int):
    """An AppTest of the app with the sidebar's signal at ``length`` samples: the Bumps test signal
    (generated at any length; the default ECG record has only 1024 samples, so "4096" would show
    1024), or above the sidebar's 4096 a noisy sine set as the session's upload."""
    import numpy as np
    from streamlit.testing.v1 import AppTest

    from ui.pickers import SIGNAL_LENGTHS
    from ui.state import UPLOADED

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/3_Coefficient_tree.py")  # Home draws no pickers; this page does
    at.run()
    if length in SIGNAL_LENGTHS:
        at.sidebar.selectbox(key="signal").set_value(SIGNAL)
        at.sidebar.select_slider(key="signal_length").set_value(length)
    else:  # as an upload would: the session's signal, selected in the sidebar
        t = np.arange(length)
        values = np.sin(2 * np.pi * t / 200) + 0.3 * np.random.default_rng(0).standard_normal(length)
        at.session_state["uploaded_signal"] = {"name": f"noisy sine ({length})", "values": values}
        at.run()  # the picker now offers it
        at.sidebar.selectbox(key="signal").set_value(UPLOADED)
    at.run()
    return at


def _spec_bytes(at) -> int:
    return sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))


@contextmanager
def _compile_once():
    """AppTest with one ``ScriptCache`` for all its runs, as a server has (see the module docstring)."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    shared = ScriptCache()
    original = app_test.ScriptCache
    app_test.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache = original


def warm_runs(repeats: int, length: int) -> dict[str, float]:
    """Median warm script run (s) of every page at ``length`` samples under AppTest, compiling once:
    ``repeats`` rounds, each visiting every page and timing one rerun of it (interleaved, so a busy
    moment of the machine falls on every page alike)."""
    times: dict[str, list[float]] = {page: [] for page in PAGES}
    with _compile_once():
        at = _app_at(length)
        for round_ in range(repeats + 1):  # round 0 warms every page's caches
            for page in PAGES:
                at.switch_page(page)
                at.run()
                assert not at.exception, f"{page}: {at.exception}"
                t0 = time.perf_counter()
                at.run()
                if round_:
                    times[page].append(time.perf_counter() - t0)
    return {page: statistics.median(seconds) for page, seconds in times.items()}


def _logged_runs(log: Path) -> list[tuple[str, float]]:
    """(page URL path, seconds) of every script run ``ui/run_timing.py`` logged so far."""
    if not log.exists():
        return []
    return [(fields[2], float(fields[3])) for fields in (line.split() for line in log.read_text().splitlines())]


def _next_run(log: Path, seen: int, path: str) -> float:
    """Seconds of the first run of page ``path`` logged after the first ``seen`` runs."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = [seconds for page, seconds in _logged_runs(log)[seen:] if page == path]
        if runs:
            return runs[0]
        time.sleep(0.05)
    raise TimeoutError(f"no run of page {path!r} was logged within {RUN_TIMEOUT_S:.0f} s")


def _pick_signal(page, url: str, log: Path, length: int) -> None:
    """Open the Coefficient tree page and pick the signal and its length in the sidebar, as a user
    does (a link setting the signal would also put the pickers on Home, which a session normally
    does not draw)."""
    from ui.pickers import SIGNAL_LENGTHS

    page.goto(f"{url}/tree")
    page.wait_for_selector(".js-plotly-plot", timeout=CHART_TIMEOUT_MS)
    seen = len(_logged_runs(log))
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Signal").click()
    page.get_by_role("option", name=SIGNAL, exact=True).click()
    _next_run(log, seen, "tree")
    slider = page.locator('[data-testid="stSidebar"] input[type="range"][aria-label="Signal length"]')
    for _ in SIGNAL_LENGTHS:  # one step per run towards ``length``
        value = int(slider.get_attribute("aria-valuetext"))
        if value == length:
            return
        seen = len(_logged_runs(log))
        slider.focus()
        page.keyboard.press("ArrowRight" if value < length else "ArrowLeft")
        _next_run(log, seen, "tree")
    raise RuntimeError(f"the sidebar's signal length did not reach {length}")


def _open(page, log: Path, title: str, path: str) -> None:
    """Click ``title`` in the sidebar's navigation and wait until its page's run is logged."""
    seen = len(_logged_runs(log))
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    _next_run(log, seen, path)


def server_warm_runs(repeats: int, length: int) -> dict[str, float]:
    """Median warm script run (s) of every page at ``length`` samples, as the server logs them while
    Chromium clicks to each page and reruns it with ``r``."""
    from playwright.sync_api import sync_playwright

    from ui.pickers import SIGNAL_LENGTHS

    if length not in SIGNAL_LENGTHS:
        raise ValueError(f"the server's warm runs need a length the sidebar offers ({SIGNAL_LENGTHS}), not {length}")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        log = Path(tmp) / "runs.log"
        os.environ["WME_RUN_TIMES"] = str(log)  # the server inherits it
        try:
            server = start_app_server(Path(tmp))
        finally:
            del os.environ["WME_RUN_TIMES"]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            _pick_signal(page, server.url, log, length)
            times: dict[str, list[float]] = {script: [] for script in PAGES}
            for round_ in range(repeats + 1):  # round 0 warms every page's caches and lets preloading finish
                for script, title, path in PAGE_TABLE:
                    _open(page, log, title, path)
                    time.sleep(RERUN_PAUSE_S)
                    seen = len(_logged_runs(log))
                    page.locator("body").press("r")
                    seconds = _next_run(log, seen, path)
                    if round_:
                        times[script].append(seconds)
            out = {script: statistics.median(seconds) for script, seconds in times.items()}
            return out
        finally:
            browser.close()
            stop_app_server(server)


def spec_sizes(lengths: tuple[int, ...] = SPEC_LENGTHS) -> dict[str, dict[int, int]]:
    """Bytes of every page's figure JSON (all its charts, all tabs) per signal length."""
    out: dict[str, dict[int, int]] = {page: {} for page in PAGES}
    for length in lengths:
        at = _app_at(length)
        for page in PAGES:
            at.switch_page(page)
            at.run()
            assert not at.exception, f"{page} at N={length}: {at.exception}"
            out[page][length] = _spec_bytes(at)
    return out


def print_warm_runs(server: dict[str, float], apptest: dict[str, float], sizes: dict[str, dict[int, int]],
                    length: int) -> None:
    """One row per page: its warm run in the server and under AppTest, each with its ratio to Home's."""
    lengths = sorted(next(iter(sizes.values()))) if sizes else []
    print(f"\n| page (warm script run, N={length}) | in the server | ratio to Home | under AppTest | ratio to Home | "
          f"≤ {WARM_RATIO_TARGET:g}x Home and < {RUN_TARGET_S * 1000:.0f} ms | "
          + " | ".join(f"figure JSON, N={n}" for n in lengths) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(lengths))
    for page in PAGES:
        cells, passed = [], True
        for runs in (server, apptest):
            seconds, ratio = runs[page], runs[page] / runs[PAGES[0]]
            cells += [f"{seconds * 1000:.0f} ms", f"{ratio:.2f}"]
            passed = passed and ratio <= WARM_RATIO_TARGET and seconds < RUN_TARGET_S
        kilobytes = " | ".join(f"{sizes[page][n] / 1000:,.0f} kB" for n in lengths)
        print(f"| {Path(page).stem} | {' | '.join(cells)} | {'PASS' if passed else 'FAIL'} | {kilobytes} |")
    print(f"\n(load average after the warm runs: {_load()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=6, help="hello-world/app pairs")
    parser.add_argument("--repeats", type=int, default=9, help="timed reruns per page (interleaved rounds)")
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("--cold-only", action="store_true", help="skip the warm script runs")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold starts")
    args = parser.parse_args()
    print(f"App speed: {platform.machine()}, Python {platform.python_version()}, torch threads per server "
          f"{SERVER_THREADS} (MULTIRES_THREADS, multires.training.threads)\n")
    if not args.warm_only:
        report = Report("app-cold-start")
        load_before = _load()
        pairs = cold_starts(args.starts)
        with report.capture():
            note = print_cold_starts(pairs, load_before, _load())
            print(f"\n{note}")
        report.write()
    if not args.cold_only:
        report = Report("app-warm-runs")
        server = server_warm_runs(args.repeats, args.length)
        apptest = warm_runs(args.repeats, args.length)
        sizes = spec_sizes()
        with report.capture():
            print_warm_runs(server, apptest, sizes, args.length)
        report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
