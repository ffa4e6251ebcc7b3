"""Screenshot every page of the app at 1280 x 720, in presentation mode and in normal mode.

    .venv/bin/python scripts/screenshots.py            # all pages
    .venv/bin/python scripts/screenshots.py --pages playground filters
    .venv/bin/python scripts/screenshots.py --readme   # only the README's picture, assets/screenshot.png

Starts ``streamlit run app.py`` on 127.0.0.1 (a free port), opens each page of ``app.py``'s
navigation in Debian's headless Chromium (``/usr/bin/chromium`` through playwright; nothing is
downloaded), waits for the script run and the charts, and saves

* ``$WME_SCREENSHOTS (default /tmp/wme-screenshots)/<page>.png``: presentation mode (``?present=1``), the 1280 x 720 viewport
  exactly as a projector shows it (what is below the fold is not in the picture);
* ``$WME_SCREENSHOTS (default /tmp/wme-screenshots)/normal/<page>.png``: normal mode, the same viewport;
* ``$WME_SCREENSHOTS (default /tmp/wme-screenshots)/report.json``: per page and mode, whether the sidebar is collapsed, the
  first chart's top/bottom in px and whether it is fully above the fold, the smallest tick-label
  font in px, and any exception shown on the page.

The server is stopped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("WME_SCREENSHOTS", "/tmp/wme-screenshots"))  # outside the repo
#: The README's picture: one page in normal mode, scaled down and reduced to a small palette (a few
#: tens of kB instead of the raw screenshot's few hundred), so the repository stays light.
README_SHOT, README_PAGE, README_WIDTH, README_COLORS = ROOT / "assets" / "screenshot.png", "treeselect", 960, 96
README_VIEWPORT = {"width": 1280, "height": 960}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 720}
SERVER_START_TIMEOUT_S = 120
PAGE_TIMEOUT_MS = 90_000
MIN_TICK_PX = 14

Mode = Literal["present", "normal"]

_MEASURE_JS = """
() => {
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const box = sidebar ? sidebar.getBoundingClientRect() : null;
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
      .map(p => p.getBoundingClientRect()).filter(r => r.height > 0 && r.width > 0);
  const ticks = [...document.querySelectorAll('.xtick text, .ytick text')]
      .filter(t => t.getBoundingClientRect().width > 0)
      .map(t => parseFloat(getComputedStyle(t).fontSize));
  const errors = [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300));
  return {
    sidebar_expanded: sidebar ? sidebar.getAttribute('aria-expanded') : null,
    sidebar_visible_px: box ? Math.max(0, Math.min(box.right, window.innerWidth) - Math.max(box.left, 0)) : 0,
    first_chart: plots.length ? {top: plots[0].top, bottom: plots[0].bottom} : null,
    charts: plots.length,
    min_tick_px: ticks.length ? Math.min(...ticks) : null,
    errors: errors,
  };
}
"""


@dataclass
class Shot:
    """What one screenshot showed."""

    page: str
    mode: Mode
    path: str
    sidebar_collapsed: bool
    charts: int
    first_chart_top: float | None
    first_chart_bottom: float | None
    chart_above_fold: bool
    min_tick_px: float | None
    errors: list[str]


def page_paths(app: Path = ROOT / "app.py") -> list[str]:
    """URL paths of every ``st.Page`` in ``app.py`` (``""`` for the default page), in menu order."""
    paths = []
    for match in re.finditer(r"st\.Page\(([^)]*)\)", app.read_text()):
        url = re.search(r'url_path\s*=\s*"([^"]*)"', match.group(1))
        paths.append(url.group(1) if url else "")
    return paths


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "WME_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1.0) as response:
                if response.read().decode() == "ok":
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_drawn(page: Any) -> None:
    """The script run is over (no running indicator) and the charts, if any, have been drawn."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=PAGE_TIMEOUT_MS)
    try:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    except Exception:  # a page without charts (e.g. Train before a run): screenshot it anyway
        pass
    page.wait_for_timeout(1500)  # Plotly's layout and Streamlit's last deltas


def shoot(browser: Any, url: str, path: str, mode: Mode) -> Shot:
    name = (path or "home").replace("?", "_").replace("=", "")
    target = OUT / (f"{name}.png" if mode == "present" else f"normal/{name}.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(PAGE_TIMEOUT_MS)  # a busy machine draws slowly, not wrongly
    try:
        joiner = "&" if "?" in path else "?"
        page.goto(f"{url}/{path}" + (f"{joiner}present=1" if mode == "present" else ""), wait_until="domcontentloaded")
        wait_until_drawn(page)
        page.screenshot(path=str(target))
        m = page.evaluate(_MEASURE_JS)
    finally:
        page.close()
    chart = m["first_chart"]
    return Shot(
        page=name, mode=mode, path=str(target),
        sidebar_collapsed=m["sidebar_expanded"] == "false" or m["sidebar_visible_px"] == 0,
        charts=m["charts"], first_chart_top=chart and round(chart["top"]), first_chart_bottom=chart and round(chart["bottom"]),
        chart_above_fold=bool(chart and chart["bottom"] <= VIEWPORT["height"]),
        min_tick_px=m["min_tick_px"], errors=m["errors"],
    )


def readme_shot(browser: Any, url: str) -> Path:
    """Screenshot :data:`README_PAGE` in normal mode into :data:`README_SHOT`, scaled and palettised."""
    import io

    from PIL import Image

    page = browser.new_page(viewport=README_VIEWPORT)
    try:
        page.goto(f"{url}/{README_PAGE}", wait_until="domcontentloaded")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=PAGE_TIMEOUT_MS)  # however busy the machine
        wait_until_drawn(page)
        png = page.screenshot()
    finally:
        page.close()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    height = round(image.height * README_WIDTH / image.width)
    image = image.resize((README_WIDTH, height), Image.LANCZOS).quantize(colors=README_COLORS)
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    image.save(README_SHOT, optimize=True)
    return README_SHOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", help="URL paths to shoot (default: every page; 'home' for the first)")
    parser.add_argument("--readme", action="store_true", help=f"only the README's picture ({README_SHOT.name})")
    args = parser.parse_args(argv)
    paths = page_paths()
    if "lesson" in paths:  # every step of the lesson path, each its own screen
        sys.path.insert(0, str(ROOT))
        from ui.lesson import STEPS

        at = paths.index("lesson")
        paths[at:at + 1] = [f"lesson?step={i}" for i in range(1, len(STEPS) + 1)]
    if args.pages:
        wanted = {"" if p == "home" else p for p in args.pages}
        paths = [p for p in paths if p in wanted or p.split("?")[0] in wanted]
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    process, url = start_server(OUT / "server.log")
    shots: list[Shot] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            if args.readme:
                path = readme_shot(browser, url)
                print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1000:.0f} kB)")
                return 0
            for mode in ("present", "normal"):
                for path in paths:
                    try:
                        shot = shoot(browser, url, path, mode)
                    except Exception as error:  # one slow page must not lose the others' screenshots
                        print(f"{mode:8s} {path or 'home':12s} FAILED: {str(error).splitlines()[0]}", flush=True)
                        continue
                    shots.append(shot)
                    print(f"{mode:8s} {shot.page:12s} sidebar collapsed={shot.sidebar_collapsed!s:5s} charts={shot.charts} "
                          f"first chart {shot.first_chart_top}..{shot.first_chart_bottom} px "
                          f"above fold={shot.chart_above_fold!s:5s} min tick={shot.min_tick_px} px "
                          f"errors={len(shot.errors)}", flush=True)
            browser.close()
    finally:
        stop_server(process)
    (OUT / "report.json").write_text(json.dumps([asdict(s) for s in shots], indent=1))
    bad = [s for s in shots if s.mode == "present" and (s.errors or (s.min_tick_px or MIN_TICK_PX) < MIN_TICK_PX)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
