"""App speed: cold start to first chart in headless Chromium, and warm script runs per page.

Targets (issue "The Streamlit app", issue 12): the app's cold start within 1.2x a hello-world
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
* Warm runs (issue 12, target 2): ``streamlit.testing.v1.AppTest`` runs ``app.py`` and switches to
  each page with the sidebar's signal Bumps at 4096 samples; after two warm-up runs, the median wall
  time of ``--repeats`` further script runs is reported (AppTest's own overhead included, so this
  slightly over-states the script time), with its ratio to Home's median in the same run: PASS
  when within ``WARM_RATIO_TARGET`` x Home's and under 0.5 s. Beside it, the bytes of the page's
  figure JSON (every ``st.plotly_chart`` spec, all tabs) at N = 1024, 4096 and 16384 (16384 is
  longer than the sidebar offers: it is set as the session's uploaded signal): with the display
  reduction (``multires/figures/reduce.py``) they stop growing with N once a chart's pixel budget
  is reached.

Usage: ``python benchmarks/bench_app.py [--starts 6] [--repeats 5] [--cold-only | --warm-only]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, SERVER_THREADS, start_app_server, stop_app_server  # noqa: E402

PAGES = ["app_pages/0_Home.py", "app_pages/1_Wavelets.py", "app_pages/2_Filters.py", "app_pages/2b_Playground.py",
         "app_pages/3_Coefficient_tree.py", "app_pages/4_TREESELECT.py", "app_pages/5_Train.py",
         "app_pages/6_Compare.py", "app_pages/7_Study.py"]
START_TARGET_S = 5.0
START_RATIO_TARGET = 1.2  # the app's cold start over a hello-world Streamlit + Plotly app's
RUN_TARGET_S = 0.5
WARM_RATIO_TARGET = 2.0  # a page's warm run over Home's, same run
SPEC_LENGTHS = (1024, 4096, 16384)  # signal lengths whose figure JSON bytes are printed
SIGNAL = "Bumps"  # a built-in signal generated at any length, with isolated spikes
NEXT_PAGE_WAIT_S = 8.0  # idle machine: > the 3 s preload delay plus the preloading itself
CHART_TIMEOUT_MS = 300_000  # only catches a hang (a first chart took 49 s at load average 47 on 2 cores)

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

    from ui.state import SIGNAL_LENGTHS, UPLOADED

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


def warm_runs(repeats: int, length: int) -> dict[str, float]:
    """Median warm script run (s) of every page at ``length`` samples."""
    out = {}
    at = _app_at(length)
    for page in PAGES:
        at.switch_page(page)
        at.run()
        at.run()
        assert not at.exception, f"{page}: {at.exception}"
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        out[page] = statistics.median(times)
    return out


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


def print_warm_runs(runs: dict[str, float], sizes: dict[str, dict[int, int]], length: int) -> None:
    home = runs[PAGES[0]]
    lengths = sorted(next(iter(sizes.values()))) if sizes else []
    print(f"\n| page (warm script run, N={length}) | median | ratio to Home | < {WARM_RATIO_TARGET:g}x Home | "
          f"< {RUN_TARGET_S * 1000:.0f} ms | " + " | ".join(f"figure JSON, N={n}" for n in lengths) + " |")
    print("|---|---|---|---|---|" + "---|" * len(lengths))
    for page, seconds in runs.items():
        ratio = seconds / home
        kilobytes = " | ".join(f"{sizes[page][n] / 1000:,.0f} kB" for n in lengths)
        print(f"| {Path(page).stem} | {seconds * 1000:.0f} ms | {ratio:.2f} | "
              f"{'PASS' if ratio <= WARM_RATIO_TARGET else 'FAIL'} | {'PASS' if seconds < RUN_TARGET_S else 'FAIL'} | "
              f"{kilobytes} |")
    print(f"\n(load average after the warm runs: {_load()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=6, help="hello-world/app pairs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("--cold-only", action="store_true", help="skip the warm script runs")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold starts")
    args = parser.parse_args()
    print(f"# App speed — {platform.machine()}, Python {platform.python_version()}, torch threads per server "
          f"{SERVER_THREADS} (MULTIRES_THREADS, multires.threads)\n")
    note = ""
    if not args.warm_only:
        load_before = _load()
        pairs = cold_starts(args.starts)
        note = print_cold_starts(pairs, load_before, _load())
    if not args.cold_only:
        print(f"\n(load average before the warm runs: {_load()})")
        print_warm_runs(warm_runs(args.repeats, args.length), spec_sizes(), args.length)
    if note:
        print(f"\n{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
