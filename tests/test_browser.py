"""Real-browser tests: the app served on loopback, every page opened in headless Chromium."""

from __future__ import annotations

import pytest

from conftest import SCREENSHOTS, full_page_screenshot, wait_for_app_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: (url path, a heading the page must show)
PAGES = [
    ("", "Wavelet Memory Explorer"),
    ("wavelets", "Wavelets"),
    ("filters", "Filters"),
    ("tree", "Coefficient tree"),
    ("treeselect", "TREESELECT"),
    ("train", "Train"),
    ("compare", "Compare"),
]
VIEWPORT = {"width": 1440, "height": 900}


def open_page(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    return page


def assert_healthy(page) -> None:
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


@pytest.mark.parametrize("index,path,heading", [(i, p, h) for i, (p, h) in enumerate(PAGES)],
                         ids=[p or "home" for p, _ in PAGES])
def test_page_renders_with_a_chart(app_server, chromium, index, path, heading):
    page = open_page(chromium, f"{app_server.url}/{path}")
    try:
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        assert_healthy(page)
        assert page.locator(".js-plotly-plot").count() >= 1
        assert heading.lower() in page.locator("h1").first.inner_text().lower()
        full_page_screenshot(page, SCREENSHOTS / f"{index}_{path or 'home'}.png")
    finally:
        page.close()
