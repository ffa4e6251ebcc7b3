"""Real-browser tests: the app served on loopback, every page opened in headless Chromium."""

from __future__ import annotations

import pytest

from conftest import SCREENSHOTS, full_page_screenshot, wait_for_app_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: (url path, a heading the page must show, whether its first view has a chart). Train opens on
#: its set-up form: its charts appear once a run starts.
PAGES = [
    ("", "Wavelet Memory Explorer", True),
    ("wavelets", "Wavelets", True),
    ("filters", "Filters", True),
    ("playground", "Wavelet playground", True),
    ("tree", "Coefficient tree", True),
    ("treeselect", "TREESELECT", True),
    ("train", "Train", False),
    ("compare", "Compare", True),
    ("study", "Studies", True),
]
VIEWPORT = {"width": 1440, "height": 900}
WAIT_MS = 300_000  # a ceiling that only catches a hang: a busy machine draws slowly, not wrongly


def open_page(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    return page


def assert_healthy(page) -> None:
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


@pytest.mark.parametrize("index,path,heading,chart", [(i, *page) for i, page in enumerate(PAGES)],
                         ids=[p or "home" for p, _, _ in PAGES])
def test_page_renders_with_a_chart(app_server, chromium, index, path, heading, chart):
    page = open_page(chromium, f"{app_server.url}/{path}")
    try:
        page.wait_for_selector(".js-plotly-plot" if chart else "h1", timeout=WAIT_MS)
        assert_healthy(page)
        assert page.locator(".js-plotly-plot").count() >= (1 if chart else 0)
        assert heading.lower() in page.locator("h1").first.inner_text().lower()
        full_page_screenshot(page, SCREENSHOTS / f"{index}_{path or 'home'}.png")
    finally:
        page.close()


# --- presentation mode at a projector's 1280 x 720 ---------------------------------------------------

PROJECTOR = {"width": 1280, "height": 720}
MIN_TICK_PX = 14
#: (url path, what the page's key chart is): charts of the pages whose first chart is the key one.
KEY_CHART_PAGES = ["wavelets", "filters", "playground"]

_LAYOUT_JS = """
() => {
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.getBoundingClientRect().height > 0);
  const ticks = [...document.querySelectorAll('.xtick text, .ytick text')]
      .filter(t => t.getBoundingClientRect().width > 0).map(t => parseFloat(getComputedStyle(t).fontSize));
  const box = plot ? plot.getBoundingClientRect() : null;
  return {expanded: sidebar && sidebar.getAttribute('aria-expanded'),
          sidebarRight: sidebar ? sidebar.getBoundingClientRect().right : null,
          chart: box && {top: box.top, bottom: box.bottom}, minTick: ticks.length ? Math.min(...ticks) : null};
}
"""


def projector_page(browser, url: str, drawn: str = ".js-plotly-plot .xtick"):
    """A page opened at projector size (1280x720), idle, with a chart drawn (``drawn``: a CSS selector)."""
    page = browser.new_page(viewport=PROJECTOR)
    page.set_default_timeout(WAIT_MS)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.wait_for_selector(drawn, timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    return page


@pytest.mark.parametrize("path", KEY_CHART_PAGES)
def test_presentation_mode_collapses_the_sidebar_and_fits_the_key_chart(app_server, chromium, path):
    page = projector_page(chromium, f"{app_server.url}/{path}?present=1")
    try:
        assert_healthy(page)
        layout = page.evaluate(_LAYOUT_JS)
        assert layout["expanded"] == "false" or layout["sidebarRight"] <= 0, layout
        assert layout["chart"] is not None and layout["chart"]["bottom"] <= PROJECTOR["height"], layout
        assert layout["minTick"] >= MIN_TICK_PX, layout
    finally:
        page.close()


def test_normal_mode_keeps_the_sidebar_open_and_smaller_ticks(app_server, chromium):
    page = projector_page(chromium, f"{app_server.url}/filters")
    try:
        layout = page.evaluate(_LAYOUT_JS)
        assert layout["expanded"] != "false" and layout["sidebarRight"] > 200, layout
        assert layout["minTick"] < MIN_TICK_PX, layout
    finally:
        page.close()


def test_the_sidebar_toggle_switches_presentation_mode_and_the_url(app_server, chromium):
    page = projector_page(chromium, f"{app_server.url}/wavelets")
    try:
        page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
        page.wait_for_url("**present=1**", timeout=WAIT_MS)
        wait_for_app_idle(page)
        page.wait_for_function(
            "() => Math.min(...[...document.querySelectorAll('.xtick text')].map("
            "t => parseFloat(getComputedStyle(t).fontSize))) >= 14", timeout=WAIT_MS)
        page.wait_for_function(  # the sidebar folds away as soon as the mode is on
            "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right <= 0",
            timeout=WAIT_MS)
        assert_healthy(page)
    finally:
        page.close()
