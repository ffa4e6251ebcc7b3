"""A legal but costly checkpoint on the TREESELECT page (issue 23, item 9).

A learned layer of width 8, depth 16 and M = 1,800 (a 209 KB file, within every loading bound) kept
about 1,100 slots inside the analysed window: reconstructing the past from them took 85 s on a loaded
machine (28-34 s and +1.1 GB in the app). The page's analyses are bounded by a work model
(slots² x window, ``multires.options.MAX_ANALYSIS_WORK``): it analyses the slots nearest the present
and says how many it kept.
"""

from __future__ import annotations

import math

from test_presentation import run_app
from multires import ModelConfig
from multires.options import MAX_ANALYSED_WINDOW, MAX_ANALYSIS_WORK
from multires.model import build_model
from ui.safe_text import unescape
from ui.state import ModelEntry

BIG = ModelConfig(d_model=8, n_layers=2, depth=16, tree_select="learned", memory_size=1800, seq_len=4096)


def test_the_page_analyses_a_bounded_number_of_slots_and_says_so():
    net = build_model(BIG, seed=0).eval()
    entry = ModelEntry("big learned", net, {}, "uploaded")
    at = run_app("app_pages/4_TREESELECT.py", session_models={"big learned": entry}, model="big learned")
    most = math.isqrt(MAX_ANALYSIS_WORK // MAX_ANALYSED_WINDOW)
    captions = " ".join(unescape(c.value) for c in at.caption)
    assert f"the page analyses the {most} nearest the present" in captions, captions[:2000]
    assert "learned memory keeps" in captions
