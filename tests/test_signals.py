"""Tests for multires.data.signals: the built-in signals (parsing uploads: tests/test_uploads.py)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import pywt

from multires.data import signals
from multires.data.signals import DEMO_SIGNAL_NAMES, load_signal
from multires.options import MAX_SIGNAL_LENGTH, MIN_SIGNAL_LENGTH, SIGNAL_NAMES

FLOAT_RTOL = 1e-12
ECG_NATIVE_LENGTH = 1024
NINO_NATIVE_LENGTH = 264


# --------------------------------------------------------------------------------------------
# built-in signals
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNAL_NAMES)
@pytest.mark.parametrize("n", [MIN_SIGNAL_LENGTH, 93, 1024, MAX_SIGNAL_LENGTH])
def test_builtin_signal_is_finite_float64_1d(name: str, n: int) -> None:
    values = load_signal(name, n=n)
    assert values.dtype == np.float64
    assert values.ndim == 1
    assert np.isfinite(values).all()
    if name == "ECG":
        expected = min(n, ECG_NATIVE_LENGTH)
    elif name == "Nino SST":
        expected = min(n, NINO_NATIVE_LENGTH)
    elif name == "Digit":
        expected = 64
    else:
        expected = n
    assert values.shape == (expected,)


@pytest.mark.parametrize("name", [s for s in DEMO_SIGNAL_NAMES if s != "Cusp"])
def test_demo_signals_match_pywavelets(name: str) -> None:
    n = 1024  # a length where pywt's own time grid has exactly n points
    np.testing.assert_allclose(load_signal(name, n=n), pywt.data.demo_signal(name, n), rtol=FLOAT_RTOL)


def test_cusp_follows_wavelab_formula() -> None:
    n = 512
    t = np.arange(1, n + 1) / n
    np.testing.assert_allclose(load_signal("Cusp", n=n), np.sqrt(np.abs(t - 0.37)), rtol=FLOAT_RTOL)


@pytest.mark.parametrize("n", [49, 93, 103, 117])
def test_doppler_is_finite_where_pywt_time_grid_overshoots(n: int) -> None:
    values = load_signal("Doppler", n=n)
    assert values.shape == (n,)
    assert np.isfinite(values).all()


def test_recordings_are_cropped_not_resampled() -> None:
    np.testing.assert_array_equal(load_signal("ECG", n=100), pywt.data.ecg()[:100].astype(float))
    _, sst = pywt.data.nino()
    np.testing.assert_array_equal(load_signal("Nino SST", n=4096), sst)


def test_impulse_and_step_switch_at_the_middle() -> None:
    n = 16
    impulse, step = load_signal("Impulse", n=n), load_signal("Step", n=n)
    assert impulse[n // 2] == 1.0 and impulse.sum() == 1.0
    np.testing.assert_array_equal(step, (np.arange(n) >= n // 2).astype(float))


def test_white_noise_is_seeded() -> None:
    np.testing.assert_array_equal(load_signal("White noise", seed=3), load_signal("White noise", seed=3))
    assert not np.array_equal(load_signal("White noise", seed=3), load_signal("White noise", seed=4))


def test_digit_index_picks_the_image() -> None:
    from sklearn.datasets import load_digits

    index = 5
    np.testing.assert_array_equal(load_signal("Digit", index=index), load_digits().data[index])


def test_names_are_case_insensitive() -> None:
    np.testing.assert_array_equal(load_signal("doppler", n=64), load_signal("Doppler", n=64))


def test_unknown_signal_lists_allowed_names() -> None:
    with pytest.raises(ValueError, match="allowed names are: ECG, Nino SST"):
        load_signal("Sawtooth")


@pytest.mark.parametrize("n", [0, MIN_SIGNAL_LENGTH - 1, MAX_SIGNAL_LENGTH + 1])
def test_out_of_range_length_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match=f"between {MIN_SIGNAL_LENGTH} and {MAX_SIGNAL_LENGTH}"):
        load_signal("Blocks", n=n)


@pytest.mark.parametrize("index", [-1, 1797])
def test_bad_digit_index_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="from 0 to 1796"):
        load_signal("Digit", index=index)


def test_builtin_signal_is_a_fresh_copy() -> None:
    first = load_signal("Digit", index=0)
    first[:] = -1.0
    assert load_signal("Digit", index=0).min() >= 0.0


def test_docstring_examples() -> None:
    result = doctest.testmod(signals, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
