"""Baselines on a real dataset: aeon's MiniRocket and 1-NN DTW on ItalyPowerDemand (fast: length 24).

Published UCR archive figures for ItalyPowerDemand: 1-NN DTW (full window) 95.0 %, MiniRocket
about 95-96 %; the assertions leave room for the seed, never for a broken pipeline (chance is 50 %).
"""

from __future__ import annotations

import numpy as np
import pytest

from multires.data.baselines import _subsample, dtw_1nn, minirocket
from multires.data.tasks import load_task

CHANCE = 0.5


@pytest.fixture(scope="module")
def italy():
    return load_task("ucr:ItalyPowerDemand", seed=0)


@pytest.mark.slow  # the first MiniRocket fit compiles numba kernels (seconds to minutes on a busy machine)
def test_minirocket_on_italy_power_demand_beats_chance_by_far(italy):
    result = minirocket(italy, seed=0)
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["accuracy"] > 0.9 > CHANCE
    assert result["n_train"] == len(italy.y_train) + len(italy.y_val) == 67  # the official train split
    assert result["n_test"] == len(italy.y_test) == 1029
    assert result["fit_s"] > 0 and result["predict_s"] > 0


@pytest.mark.slow  # full-window DTW over a UCR test set: among the slowest tests
def test_dtw_1nn_matches_the_published_full_window_accuracy(italy):
    result = dtw_1nn(italy)
    assert result["accuracy"] == pytest.approx(0.950, abs=0.002)  # UCR archive: 0.950 (1-NN DTW, full window)
    assert result["window"] is None and result["n_test"] == 1029


def test_dtw_window_and_subsample_are_recorded_and_stratified(italy):
    result = dtw_1nn(italy, window=0.1, max_train=20, max_test=100)
    assert result["window"] == 0.1 and result["n_train"] == 20 and result["n_test"] == 100
    assert CHANCE < result["accuracy"] <= 1.0
    x = np.zeros((60, 1, 4))
    y = np.array([0] * 40 + [1] * 20)
    _, kept = _subsample(x, y, 30, seed=0)
    assert (np.sum(kept == 0), np.sum(kept == 1)) == (20, 10)


@pytest.mark.parametrize("window", [0.0, 1.5, -0.1, "full"])
def test_dtw_refuses_a_bad_window(italy, window):
    with pytest.raises(ValueError, match=r"window must be a fraction of the length in \(0, 1\]"):
        dtw_1nn(italy, window=window)


def test_baselines_refuse_a_regression_task():
    task = load_task("memory", seed=0, length=16, lags=(1, 2), n_train=8, n_val=4, n_test=4)
    with pytest.raises(ValueError, match="baselines are classifiers; task 'memory' is a 'recall' task"):
        minirocket(task)
