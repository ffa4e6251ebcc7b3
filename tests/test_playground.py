"""The wavelet playground: the library part (multires.analysis.playground) and the page under AppTest.

The page's checks must be exactly :func:`multires.analysis.filters.filter_diagnostics` of the taps typed in,
the derived highpass must be PyWavelets' ``dec_hi`` in the layer's convention, and bad taps must
give a message while the page keeps working.
"""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch
from streamlit.testing.v1 import AppTest

from conftest import open_app
from multires import ModelConfig, MultiresNet
from multires.analysis.cascade import normalize_filters
from multires.analysis.filters import filter_diagnostics, quadrature_mirror
from multires.analysis.playground import (
    MAX_TAPS,
    TapsError,
    cascade_diverges,
    check_taps,
    parse_taps,
    playground_pair,
    preset_pair,
    random_pair,
)
from multires.options import TAP_PRESETS
from multires.wavelets import wavelet_filters
from ui.models import ModelEntry
from ui.safe_text import unescape

PAGE = "app_pages/2b_Playground.py"
EXACT = 1e-12  # float64 round-off for filters PyWavelets stores to ~1e-16
MODEL = "playground test net"


# --- library -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haar", "db2", "db3", "db4", "sym4", "coif1"])
def test_quadrature_mirror_is_pywavelets_dec_hi(name):
    wavelet = pywt.Wavelet(name)
    h1 = quadrature_mirror(np.asarray(wavelet.dec_lo[::-1]))
    np.testing.assert_allclose(h1, np.asarray(wavelet.dec_hi[::-1]), rtol=0, atol=EXACT)


def test_derived_pair_is_the_wavelet_and_passes_every_check():
    h0, h1 = playground_pair(wavelet_filters("db3")[0])
    np.testing.assert_allclose(h1, wavelet_filters("db3")[1], rtol=0, atol=EXACT)
    diag = filter_diagnostics(h0, h1)
    assert diag.orthonormality_error < EXACT and diag.perfect_reconstruction_error < EXACT
    assert diag.nearest_wavelet == "db3"


@pytest.mark.parametrize("values,message", [
    ([0.0, 0.0, 0.0], "h0 is all zeros"),
    ([1.0, np.nan], r"h0\[1\] is nan: every tap must be a finite number"),
    ([1.0, np.inf, 0.0], r"h0\[1\] is inf"),
    ([1.0], "h0 has 1 taps: use 2 to 8 taps"),
    (list(range(1, MAX_TAPS + 2)), "h0 has 9 taps: use 2 to 8 taps"),
    (["a", "b"], "h0 must be real numbers"),
])
def test_bad_taps_say_what_is_wrong(values, message):
    with pytest.raises(TapsError, match=message):
        check_taps(values)


@pytest.mark.parametrize("text,message", [
    ("1, x", "'x' is not a number"),
    ("", "h0 has 0 taps"),
    ("0 0", "all zeros"),
])
def test_parse_taps_rejects_bad_text(text, message):
    with pytest.raises(TapsError, match=message):
        parse_taps(text)


def test_parse_taps_accepts_commas_spaces_semicolons():
    assert parse_taps("0.5, 0.5;1  -1").tolist() == [0.5, 0.5, 1.0, -1.0]


def test_pair_lengths_must_match():
    with pytest.raises(TapsError, match="h0 has 2 taps but h1 has 3"):
        playground_pair([1.0, 1.0], [1.0, 0.0, -1.0])


@pytest.mark.parametrize("preset,k", [("Haar", 2), ("db2", 4), ("db3", 6), ("sym4", 8)])
def test_named_presets_are_the_pywavelets_filters(preset, k):
    h0, h1 = preset_pair(preset)
    assert h0.size == k
    np.testing.assert_array_equal(h0, wavelet_filters(preset.lower())[0])
    np.testing.assert_array_equal(h1, wavelet_filters(preset.lower())[1])


def test_random_pair_is_seeded_and_bounded_like_the_layer_init():
    a, b = random_pair(5, seed=7)
    np.testing.assert_array_equal(a, random_pair(5, seed=7)[0])
    assert not np.array_equal(a, random_pair(5, seed=8)[0])
    assert a.shape == b.shape == (5,)
    assert np.abs(np.concatenate([a, b])).max() <= np.sqrt(3 / 5)
    with pytest.raises(TapsError, match="from 2 to 8"):
        random_pair(9)
    with pytest.raises(ValueError, match="use one of"):
        preset_pair("db9")  # type: ignore[arg-type]
    assert "random pair" in TAP_PRESETS


def test_cascade_diverges_flags_unbounded_functions():
    assert cascade_diverges(np.array([0.0, 21.0]), np.zeros(2))
    assert not cascade_diverges(np.array([0.0, 1.0]), np.array([1.0, -1.0]))


# --- the page ------------------------------------------------------------------------------------


def open_playground(**state) -> AppTest:
    return open_app(PAGE, **state)


def type_taps(at: AppTest, h0: np.ndarray) -> None:
    at.slider(key="pg_k").set_value(int(h0.size)).run()
    for i, value in enumerate(h0):
        at.number_input(key=f"pg_h0_{i}").set_value(float(value))
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def shown_checks(at: AppTest) -> dict[str, str]:
    table = at.table[0].value
    return dict(zip(table["check"], table["value"]))


def expected_checks(h0: np.ndarray, h1: np.ndarray) -> dict[str, str]:
    return {row["quantity"]: "—" if row["value"] is None else f"{row['value']:.6f}"
            for row in filter_diagnostics(h0, h1).rows() if row["ideal"] is not None}


@pytest.mark.parametrize("name", ["haar", "db2"])
def test_typed_in_taps_give_the_library_diagnostics(name):
    at = open_playground()
    at.selectbox(key="pg_preset").set_value("random pair").run()  # start away from the answer
    h0, h1 = wavelet_filters(name)
    at.radio(key="pg_mode").set_value("derive").run()
    type_taps(at, h0)
    assert shown_checks(at) == expected_checks(h0, h1)
    assert float(shown_checks(at)["orthonormality error"]) == 0.0
    assert len(at.get("plotly_chart")) == 3  # cascade, frequency response, tree
    assert f"**{name}**" in " ".join(m.value for m in at.markdown)  # nearest named wavelet


def test_edited_highpass_is_used_as_typed():
    at = open_playground()
    at.radio(key="pg_mode").set_value("edit").run()
    h0 = np.array([at.number_input(key=f"pg_h0_{i}").value for i in range(4)])
    h1 = np.array([at.number_input(key=f"pg_h1_{i}").value for i in range(4)])
    np.testing.assert_allclose(h1, quadrature_mirror(h0), atol=EXACT)  # editing starts from the mirror
    at.number_input(key="pg_h1_0").set_value(0.0).run()
    h1[0] = 0.0
    assert shown_checks(at) == expected_checks(h0, h1)
    assert float(shown_checks(at)["quadrature-mirror error"]) > 0.1


def test_all_zero_taps_give_a_message_and_the_page_recovers():
    at = open_playground()
    type_taps(at, np.zeros(2))
    assert any("h0 is all zeros" in unescape(e.value) for e in at.error)
    assert not at.table and not at.get("plotly_chart")
    type_taps(at, wavelet_filters("haar")[0])
    assert not at.error and len(at.get("plotly_chart")) == 3


@pytest.mark.parametrize("text,message", [
    ("1, nan", "h0[1] is nan"),
    ("1 2 3 4 5 6 7 8 9", "h0 has 9 taps: use 2 to 8 taps"),
    ("0, 0", "all zeros"),
])
def test_bad_pasted_taps_are_refused_and_the_taps_kept(text, message):
    at = open_playground()
    before = shown_checks(at)
    at.text_input(key="pg_paste").set_value(text).run()
    assert not at.exception
    assert any(message in unescape(w.value) for w in at.warning), [w.value for w in at.warning]
    assert shown_checks(at) == before


def test_pasted_taps_replace_h0_and_set_k():
    at = open_playground()
    at.text_input(key="pg_paste").set_value("0.5, 0.5, 0.5").run()
    assert at.slider(key="pg_k").value == 3
    h0 = np.array([0.5, 0.5, 0.5])
    assert shown_checks(at) == expected_checks(h0, quadrature_mirror(h0))
    assert shown_checks(at)["distance to nearest"] == "—"  # no orthogonal wavelet has 3 taps


def test_learned_preset_loads_the_sidebar_models_normalised_filters():
    torch.manual_seed(0)
    net = MultiresNet(ModelConfig(d_model=2, n_layers=1, seq_len=32, kernel_size=3, wavelet=None))
    entry = ModelEntry(MODEL, net, {}, "trained")
    at = open_playground(session_models={MODEL: entry}, model=MODEL)
    at.selectbox(key="pg_preset").set_value("the selected model's learned filters").run()
    raw0, raw1 = (net.convs[0].h0[0].detach().double().numpy(), net.convs[0].h1[0].detach().double().numpy())
    h0, h1, _ = normalize_filters(raw0, raw1)
    assert at.slider(key="pg_k").value == 3 and at.radio(key="pg_mode").value == "edit"
    assert shown_checks(at) == expected_checks(h0, h1)


def test_taps_survive_a_visit_to_another_page():
    at = open_playground()
    type_taps(at, np.array([0.3, 0.9, 0.1]))
    at.switch_page("app_pages/1_Wavelets.py").run()
    at.switch_page(PAGE).run()
    assert at.slider(key="pg_k").value == 3
    assert [at.number_input(key=f"pg_h0_{i}").value for i in range(3)] == [0.3, 0.9, 0.1]
