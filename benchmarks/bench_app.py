"""App speed: cold start to first chart in headless Chromium, and warm script runs per page.

Targets (issue "The Streamlit app"): from ``streamlit run`` to the first chart drawn in headless
Chromium under 5 s; every page's script run with warm caches, for signals up to 4096 samples,
under 0.5 s.

* Cold start: Chromium is launched first (not timed); the clock starts when the ``streamlit run``
  process is spawned and stops when the first ``.js-plotly-plot`` of the Home page is in the DOM.
  Repeated ``--starts`` times with a fresh server each time (OS file cache warm, Streamlit caches cold).
* Next page (informative, no target): after the cold start the user clicks "Filters" in the
  sidebar (a page that needs PyTorch and a model's weights), either at once or after the server's
  background preloading (``ui/runtime.py``, starts 3 s after the first run) has had time to finish;
  the time from the click to the Filters page's first chart is reported.
* Warm runs: ``streamlit.testing.v1.AppTest`` runs ``app.py`` and switches to each page with the
  sidebar signal length set to 4096; after two warm-up runs, the median wall time of
  ``--repeats`` further script runs is reported (AppTest's own overhead included, so this
  slightly over-states the script time).

Usage: ``python benchmarks/bench_app.py [--starts 3] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_app_server, stop_app_server  # noqa: E402

PAGES = ["app_pages/0_Home.py", "app_pages/1_Wavelets.py", "app_pages/2_Filters.py", "app_pages/3_Coefficient_tree.py",
         "app_pages/4_TREESELECT.py", "app_pages/5_Train.py", "app_pages/6_Compare.py"]
START_TARGET_S = 5.0
RUN_TARGET_S = 0.5
NEXT_PAGE_WAIT_S = 8.0  # > the 3 s preload delay plus the preloading itself


def cold_start(browser, next_after: float) -> tuple[float, float]:
    """Seconds to Home's first chart from spawning the server; then from clicking "Filters" in the
    sidebar, ``next_after`` seconds after Home's chart appeared, to that page's first chart."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        server = start_app_server(Path(tmp))
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url, wait_until="commit")
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            home = time.perf_counter() - t0
            time.sleep(next_after)
            t1 = time.perf_counter()
            page.get_by_role("link", name="Filters").first.click()
            page.wait_for_selector(".st-key-filters_taps .js-plotly-plot", timeout=60_000)
            next_page = time.perf_counter() - t1
            page.close()
        finally:
            stop_app_server(server)
    return home, next_page


def warm_runs(repeats: int, length: int) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    out = {}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.sidebar.select_slider(key="signal_length").set_value(length)
    at.run()
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--length", type=int, default=4096)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"# App speed — {platform.machine()}, Python {platform.python_version()}\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        waited = [cold_start(browser, NEXT_PAGE_WAIT_S) for _ in range(args.starts)]
        at_once = [cold_start(browser, 0.0) for _ in range(args.starts)]
        browser.close()
    starts = [home for home, _ in waited + at_once]
    best, median = min(starts), statistics.median(starts)
    print("| measurement | value | target | ratio to target |\n|---|---|---|---|")
    print(f"| cold start → first chart (median of {len(starts)}) | {median:.2f} s | < {START_TARGET_S} s | "
          f"{median / START_TARGET_S:.2f} {'PASS' if median < START_TARGET_S else 'FAIL'} |")
    print(f"| next page: click Filters {NEXT_PAGE_WAIT_S:g} s after the first chart → its chart "
          f"(median of {args.starts}) | {statistics.median(n for _, n in waited):.2f} s | – | – |")
    print(f"| next page: click Filters at once → its chart (median of {args.starts}) | "
          f"{statistics.median(n for _, n in at_once):.2f} s | – | – |")
    runs = warm_runs(args.repeats, args.length)
    for page, seconds in runs.items():
        print(f"| warm script run, {Path(page).stem} (N={args.length}) | {seconds * 1000:.0f} ms | "
              f"< {RUN_TARGET_S * 1000:.0f} ms | {seconds / RUN_TARGET_S:.2f} {'PASS' if seconds < RUN_TARGET_S else 'FAIL'} |")
    print(f"\n(cold starts: {', '.join(f'{s:.2f}' for s in starts)} s; best {best:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
