"""Presentation mode in a real browser at a projector's 1280 x 720: every page's key chart (its first
chart) is fully above the fold, the lesson path's too, and its Next button moves the step in the URL."""

from __future__ import annotations

import pytest

from conftest import wait_for_app_idle
from test_browser import PROJECTOR, WAIT_MS, projector_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Every page, with the key chart first on each (Train: the dataset it will learn from, before a run).
PAGES = ["", "lesson?step=1", "lesson?step=5", "lesson?step=9", "wavelets", "filters", "playground", "tree",
         "treeselect", "train", "compare", "study"]

_FIRST_CHART_JS = """
() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.getBoundingClientRect().height > 0);
  const box = plot ? plot.getBoundingClientRect() : null;
  return box && {top: box.top, bottom: box.bottom};
}
"""


@pytest.mark.parametrize("path", PAGES, ids=[p or "home" for p in PAGES])
def test_the_key_chart_is_above_the_fold_in_presentation_mode(app_server, chromium, path):
    joiner = "&" if "?" in path else "?"
    page = projector_page(chromium, f"{app_server.url}/{path}{joiner}present=1", drawn=".js-plotly-plot .main-svg")
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        chart = page.evaluate(_FIRST_CHART_JS)
        assert chart is not None and 0 <= chart["top"] and chart["bottom"] <= PROJECTOR["height"], (path, chart)
    finally:
        page.close()


def test_the_lesson_link_opens_its_step_and_next_moves_the_url(app_server, chromium):
    page = projector_page(chromium, f"{app_server.url}/lesson?step=2", drawn=".js-plotly-plot .main-svg")
    try:
        assert page.locator("h1").first.inner_text().startswith("Lesson 2/")
        page.get_by_role("button", name="Next").click()
        page.wait_for_url("**step=3**", timeout=WAIT_MS)
        wait_for_app_idle(page)
        page.wait_for_function("() => document.querySelector('h1') && "
                               "document.querySelector('h1').innerText.startsWith('Lesson 3/')", timeout=WAIT_MS)
    finally:
        page.close()
