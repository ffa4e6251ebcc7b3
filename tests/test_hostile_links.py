"""Bad and hostile link parameters: each is refused in words (once, not on every rerun), the view falls
back to its default while the session keeps its models, values are echoed as plain text (never as
Markdown, a link or an image), and rejected values are removed from the URL (issue 23).

``int()`` reads Unicode digits (``layer=١`` was accepted); rejected values and repeated keys stayed in
the address bar, so sharing the page shared the bad link again; a link with ``n=`` made Streamlit log
a warning with a stack trace (the time-step slider had a value and a session-state value).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import (
    SESSION_MODEL,
    CaseLog,
    assert_shown,
    live_markup,
    open_app,
    session_model,
    snapshot,
)
from ui import defaults
from ui.links import _int_param
from ui.models import DEFAULT_MODEL
from ui.safe_text import plain, unescape

CASES = CaseLog()


@pytest.mark.parametrize("value", ["١", "²", "٣٠", "1e3", "+1", " 1_0", "9" * 5000, "-1"])
def test_only_plain_ascii_whole_numbers_are_link_numbers(value):
    assert _int_param(value, 0, 15) is None


def test_plain_numbers_are_read():
    assert _int_param("3", 0, 15) == 3 and _int_param(" 15 ", 0, 15) == 15 and _int_param("16", 0, 15) is None


def _link_warnings(at) -> str:
    return " ".join(unescape(w.value) for w in at.warning if "link parameter" in unescape(w.value))


def test_rejected_values_are_reported_and_removed_from_the_url():
    at = open_app(query={"layer": "١", "signal": "x" * 5000, "wavelet": "haar"})
    shown = _link_warnings(at)
    assert "layer='١' must be a whole number" in shown
    assert "(5,000 characters)" in shown and len(shown) < 1000, "a long value is quoted shortened"
    # The URL holds the view shown (the sidebar's current layer and signal), not the rejected values.
    assert at.query_params.get("layer") != "١" and at.query_params.get("signal") != "x" * 5000
    assert at.query_params.get("wavelet") == "haar", "an accepted value stays"


def test_a_repeated_key_is_kept_once():
    at = open_app(query={"wavelet": ["db2", "haar"]})
    assert at.query_params.get("wavelet") in ("haar", ["haar"]), at.query_params.get("wavelet")


def test_a_linked_time_step_sets_treeselect_without_a_streamlit_warning(caplog):
    at = open_app("app_pages/4_TREESELECT.py", query={"n": "5"})
    assert at.slider(key="ts_n").value == 5
    assert not [r for r in caplog.records if "Session State API" in r.getMessage()]


# --- each bad parameter: warned once, the view falls back, the session kept ---------------------------

# id -> (query parameters, the warning, what the view falls back to)
QUERY_CASES: dict[str, tuple[dict[str, str], str, dict]] = {
    "layer-too-big": ({"layer": "999"}, r"layer='999' must be a whole number in 0\.\.15", {"layer": 0}),
    "layer-negative": ({"layer": "-1"}, r"layer='-1' must be a whole number", {"layer": 0}),
    "layer-not-a-number": ({"layer": "abc"}, r"layer='abc' must be a whole number", {"layer": 0}),
    "layer-float": ({"layer": "1.5"}, r"layer='1.5' must be a whole number", {"layer": 0}),
    "layer-beyond-this-model": ({"model": SESSION_MODEL, "layer": "9"}, r"layer=9 does not exist in model .*layers 0\.\.2",
                                {"model": SESSION_MODEL, "layer": 0}),
    "channel-beyond-this-model": ({"model": SESSION_MODEL, "channel": "200"},
                                  r"channel=200 does not exist in model .*channels 0\.\.3", {"model": SESSION_MODEL, "channel": 0}),
    "channel-huge": ({"channel": "1" + "0" * 40}, "channel=.* must be a whole number in 0..511", {"channel": 0}),
    "n-too-big": ({"n": "999999999"}, r"n='999999999' must be a whole number in 0\.\.16384", {}),
    "model-unknown": ({"model": "no such model"}, "model 'no such model' is not available", {"model": DEFAULT_MODEL}),
    "signal-unknown": ({"signal": "<script>alert(1)</script>"}, "is not one of the built-in signals",
                       {"signal": defaults.default_signal()}),
    "wavelet-continuous": ({"wavelet": "morl"}, "wavelet 'morl' is not a discrete PyWavelets wavelet",
                           {"wavelet": "haar"}),
    "wavelet-empty": ({"wavelet": ""}, "wavelet '' is not a discrete", {"wavelet": "haar"}),
    "good-and-bad-mixed": ({"model": SESSION_MODEL, "layer": "1", "signal": "Bumps", "wavelet": "nope"},
                           "wavelet 'nope' is not a discrete",
                           {"model": SESSION_MODEL, "layer": 1, "signal": "Bumps", "wavelet": "haar"}),
}
DEFAULT_VIEW = {"model": DEFAULT_MODEL, "layer": 0, "channel": 0, "signal": defaults.default_signal(),
                "wavelet": "haar"}


@pytest.mark.parametrize("case", list(QUERY_CASES))
def test_bad_link_parameter_warns_and_falls_back_to_defaults(case):
    params, warning, expected = QUERY_CASES[case]
    entry = session_model()
    at = open_app(query=params, session_models={SESSION_MODEL: entry})
    assert_shown(at.warning, f"Ignored a link parameter: .*{warning}")
    view = snapshot(at)
    assert {k: view[k] for k in DEFAULT_VIEW} == {**DEFAULT_VIEW, **expected}
    assert view["models"] == {SESSION_MODEL: id(entry)}
    # The URL now shows the view actually drawn, not the bad value.
    for key in ("layer", "channel", "signal", "wavelet"):
        assert at.query_params[key] == str(view[key])
    at.run()  # the warning is shown once, not on every rerun
    assert not any("Ignored a link parameter" in w.value for w in at.warning)
    CASES.passed_case("query_string", case)


# --- values are echoed as plain text, never Markdown (issue 13) -------------------------------------

# id -> (link parameter, hostile value): each would render as a link, an image the browser fetches,
# raw HTML, a formula, a coloured directive or icon, a heading, or an autolink if echoed as Markdown.
HOSTILE_LINKS: dict[str, tuple[str, str]] = {
    "phishing-link": ("model", "[Session expired: click here](https://evil.example/login)"),
    "tracking-image": ("signal", "![x](http://127.0.0.1:9/t.png)"),
    "raw-html": ("wavelet", "<img src=http://127.0.0.1:9/h.png onerror=alert(1)>"),
    "latex-directive-icon": ("model", "$\\frac{1}{0}$ :red[ALERT] :material/warning: **bold** `code`"),
    "heading-after-newline": ("signal", "ECG\n# Session expired\n> quote"),
    "bare-url-autolink": ("wavelet", "https://evil.example/auto www.evil.example"),
    "escape-the-escape": ("model", "\\[x\\](https://evil.example)"),
}


@pytest.mark.parametrize("case", list(HOSTILE_LINKS))
def test_hostile_link_parameter_is_echoed_as_plain_text(case):
    key, value = HOSTILE_LINKS[case]
    at = open_app(query={key: value})
    warnings = [w.value for w in at.warning if "Ignored a link parameter" in w.value]
    assert len(warnings) == 1, [w.value for w in at.warning]
    body = warnings[0]
    assert plain(repr(value)) in body  # every punctuation character of the value escaped, line breaks folded
    assert "\n" not in body
    assert repr(value) in unescape(body)  # and reads as the value the link gave
    assert live_markup(at) == []
    CASES.passed_case("markdown_injection", f"link-{case}")


def test_n_link_parameter_sets_the_treeselect_time_step_and_follows_it():
    at = open_app("app_pages/4_TREESELECT.py", query={"n": "100"})
    assert at.slider(key="ts_n").value == 100
    assert at.query_params["n"] == "100"
    at.slider(key="ts_n").set_value(40).run()
    assert at.query_params["n"] == "40"  # the URL shares the step shown
    CASES.passed_case("query_string", "n-sets-time-step")


def test_n_beyond_the_signal_is_reported_on_treeselect():
    last = (defaults.real_series(defaults.default_signal()) if defaults.real_signal_names() else np.zeros(512)).size - 1
    at = open_app("app_pages/4_TREESELECT.py", query={"n": "5000"})
    assert_shown(at.warning, rf"Ignored a link parameter: n=5000 is not a time step of this signal \(0\.\.{last}\)")
    assert at.slider(key="ts_n").value == last
    CASES.passed_case("query_string", "n-beyond-the-signal")


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    CASES.record({"query_string": len(QUERY_CASES) + 2, "markdown_injection": len(HOSTILE_LINKS)})
