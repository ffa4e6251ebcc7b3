"""Tests for multires.analysis.memory: memory matrix, reconstruction of the past, capacity, footprint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from multires import MultiresConv
from multires.analysis.footprint import footprint
from multires.analysis.memory import (
    memory_capacity,
    memory_matrix,
    reconstruct_past,
    reconstruction_error_by_lag,
)
from multires.analysis.span import cell_span, memory_span
from multires.kernel import slot_filters
from multires.tree import coefficient_tree
from multires.treeselect import Slot, memory_slots
from multires.wavelets import wavelet_filters

EXACT_TOL = 1e-10
#: Closed-form memory capacity vs a seeded simulation of SIM_SAMPLES steps (sampling error ~ 1/sqrt).
CAPACITY_SIM_TOL = 0.02
SIM_SAMPLES = 20_000
#: Mean squared reconstruction error over many simulated windows vs the closed form diag(I - P).
ERROR_SIM_TOL = 0.1
SEEDS = [0, 1]


def random_filters(seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=k), rng.normal(size=k)


def rule_cases() -> list[tuple[str, str, int, int | None]]:
    """(wavelet or 'random', tree_select, depth, memory_size)."""
    return [
        ("haar", "fading", 3, None),
        ("haar", "uniform", 3, 8),
        ("db2", "fading", 3, None),
        ("db2", "uniform", 3, 6),
        ("random", "fading", 2, None),
        ("random", "uniform", 3, 5),
    ]


def setup(case, seed: int = 0):
    name, select, depth, memory_size = case
    k = 3 if name == "random" else None
    h0, h1 = random_filters(seed, k) if name == "random" else wavelet_filters(name)
    slots = memory_slots(select, depth, len(h0), memory_size)
    return h0, h1, slots, depth


CASE_IDS = [f"{c[0]}-{c[1]}-J{c[2]}" for c in rule_cases()]


# --------------------------------------------------------------------------------------------
# memory_span and memory_matrix
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "select, depth, k, memory_size, expected",
    [
        ("fading", 3, 2, None, 8),  # receptive field (k-1)(2**J-1)+1
        ("fading", 3, 4, None, 22),
        ("uniform", 3, 2, 8, 8),  # b1[n-6] reaches back to lag 7, as a3[n] does
        ("uniform", 2, 4, 6, 10),  # a2 has 10 taps; b1[n-6] has 4 taps: 6 + 4
    ],
)
def test_memory_span_by_hand(select, depth, k, memory_size, expected):
    slots = memory_slots(select, depth, k, memory_size)
    assert memory_span(slots, depth, k) == max(s.lag + (k - 1) * (2**s.level - 1) + 1 for s in slots)
    assert memory_span(slots, depth, k) == expected


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_memory_matrix_is_reversed_slot_filters(case):
    h0, h1, slots, depth = setup(case)
    a = memory_matrix(h0, h1, slots, depth)
    g = slot_filters(torch.tensor(h0)[None], torch.tensor(h1)[None], slots, depth)[0].numpy()
    span = memory_span(slots, depth, len(h0))
    assert a.shape == (len(slots), span)
    np.testing.assert_allclose(a, g[:, :span][:, ::-1], atol=EXACT_TOL)
    assert np.all(g[:, span:] == 0)  # nothing is lost by trimming to the span


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
@pytest.mark.parametrize("n", [40, 63])
def test_memory_matrix_reproduces_the_tree(case, n):
    """``A @ x[n-W+1..n]`` equals the coefficients the slow tree computes at the slots."""
    h0, h1, slots, depth = setup(case)
    x = np.random.default_rng(n).normal(size=64)
    tree = coefficient_tree(x, h0, h1, depth)
    a = memory_matrix(h0, h1, slots, depth)
    window = x[n - a.shape[1] + 1 : n + 1]  # oldest first
    np.testing.assert_allclose(a @ window, [tree.value(s, n) for s in slots], atol=EXACT_TOL)


def test_memory_matrix_window_pads_oldest_and_truncates_oldest():
    h0, h1 = wavelet_filters("db2")
    slots = memory_slots("fading", 2, 4)
    a = memory_matrix(h0, h1, slots, 2)
    span = a.shape[1]
    longer = memory_matrix(h0, h1, slots, 2, window=span + 3)
    np.testing.assert_array_equal(longer[:, :3], 0.0)
    np.testing.assert_array_equal(longer[:, 3:], a)
    shorter = memory_matrix(h0, h1, slots, 2, window=4)
    np.testing.assert_array_equal(shorter, a[:, -4:])


def test_memory_matrix_accepts_a_layers_parameters():
    conv = MultiresConv(3, depth=3, kernel_size=2, tree_select="fading")
    a = memory_matrix(conv.h0[1], conv.h1[1], conv.slots, conv.depth)
    assert a.shape == (4, 8)
    expected = conv.slot_filters()[1, :, :8].detach().numpy()[:, ::-1]
    np.testing.assert_allclose(a, expected, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"slots": []}, "slots is empty"),
        ({"slots": [Slot("detail", 4, 0)]}, "outside 1..depth"),
        ({"slots": [Slot("approx", 2, 0)]}, "only a3"),
        ({"slots": [("detail", 1, 0)]}, "Slot objects"),
        ({"h1": [1.0, -1.0, 0.0]}, "same length"),
        ({"h0": [[1.0, 1.0]]}, "1-D"),
        ({"window": 0}, "window"),
        ({"depth": 0}, "depth"),
    ],
)
def test_memory_matrix_rejects_bad_arguments(kwargs, match):
    h0, h1 = wavelet_filters("haar")
    args = {"h0": h0, "h1": h1, "slots": memory_slots("fading", 3, 2), "depth": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        memory_matrix(**args)


# --------------------------------------------------------------------------------------------
# reconstruct_past
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_haar_full_memory_reconstructs_exactly(depth, seed):
    """k = 2, M = 2**J: the memory is the orthonormal DWT of the last 2**J samples."""
    h0, h1 = wavelet_filters("haar")
    slots = memory_slots("uniform", depth, 2, memory_size=2**depth)
    x = np.random.default_rng(seed).normal(size=50)
    t, x_window, x_hat = reconstruct_past(x, 40, h0, h1, slots, depth)
    np.testing.assert_array_equal(t, np.arange(41 - 2**depth, 41))
    np.testing.assert_array_equal(x_window, x[t])
    np.testing.assert_allclose(x_hat, x_window, atol=EXACT_TOL)
    a = memory_matrix(h0, h1, slots, depth)
    np.testing.assert_allclose(a @ a.T, np.eye(2**depth), atol=EXACT_TOL)  # orthonormal rows


def reconstruction_at_70(case, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``case``'s memory matrix, and the window and reconstruction of 80 white-noise samples' past at n = 70."""
    h0, h1, slots, depth = setup(case)
    x = np.random.default_rng(seed).normal(size=80)
    _, x_window, x_hat = reconstruct_past(x, 70, h0, h1, slots, depth)
    return memory_matrix(h0, h1, slots, depth), x_window, x_hat


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_reconstruction_is_consistent_with_the_memory(case):
    """x_hat produces the same memory as x (it lies in x's equivalence class) and is minimal."""
    a, x_window, x_hat = reconstruction_at_70(case, seed=3)
    np.testing.assert_allclose(a @ x_hat, a @ x_window, atol=1e-8)
    assert np.linalg.norm(x_hat) <= np.linalg.norm(x_window) + 1e-9


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_reconstruction_is_the_minimum_norm_signal_with_the_same_memory(case):
    """x_hat is orthogonal to the null space of A: every other signal with the same memory is longer."""
    a, x_window, x_hat = reconstruction_at_70(case, seed=4)
    null = np.linalg.svd(a)[2][np.linalg.matrix_rank(a):]  # (W - rank, W): signals the memory cannot see
    if null.shape[0] == 0:  # a memory that sees everything (Haar, uniform, M = 2**J) recovers x itself
        np.testing.assert_allclose(x_hat, x_window, atol=1e-8)
        return
    np.testing.assert_allclose(null @ x_hat, 0.0, atol=1e-8)
    other = x_hat + null.T @ np.random.default_rng(5).normal(size=null.shape[0])
    np.testing.assert_allclose(a @ other, a @ x_window, atol=1e-8)
    assert np.linalg.norm(other) > np.linalg.norm(x_hat)


@pytest.mark.parametrize("depth", [1, 3, 5])
def test_haar_coarsest_approximation_is_scaled_mean_of_the_last_samples(depth):
    """The pages' statement: with Haar, a_J[n] = 2**(J/2) * mean(x[n - 2**J + 1 .. n]) (zeros before 0)."""
    x = np.random.default_rng(6).normal(size=70)
    a_j = dict(coefficient_tree(x, *wavelet_filters("haar"), depth=depth).rows())[f"a{depth}"]
    padded = np.r_[np.zeros(2**depth - 1), x]
    means = np.array([padded[n : n + 2**depth].mean() for n in range(x.size)])
    np.testing.assert_allclose(a_j, 2 ** (depth / 2) * means, atol=EXACT_TOL)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("slot", [Slot("approx", 3, 0), Slot("detail", 1, 2), Slot("detail", 3, 8)])
def test_cell_span_is_where_an_impulse_reaches_the_cell(slot, k):
    """cell_span against the tree: the cell moves when x[s] changes exactly for s in the span."""
    rng = np.random.default_rng(7)
    h0, h1 = rng.uniform(0.2, 1.0, k), rng.uniform(0.2, 1.0, k)  # positive taps: no cancellation
    t, depth = 40, 3
    label = f"{'a' if slot.band == 'approx' else 'b'}{slot.level}"
    reached = [s for s in range(t + 1)
               if abs(dict(coefficient_tree(np.eye(t + 1)[s], h0, h1, depth=depth).rows())[label][t]) > 1e-12]
    assert cell_span(slot, t, k) == (reached[0], reached[-1]) and reached == list(range(reached[0], t + 1))


def test_reconstruction_near_the_start_uses_known_zero_history():
    h0, h1 = wavelet_filters("haar")
    slots = memory_slots("uniform", 3, 2, memory_size=8)
    x = np.random.default_rng(0).normal(size=20)
    t, x_window, x_hat = reconstruct_past(x, 3, h0, h1, slots, 3)
    np.testing.assert_array_equal(t, [0, 1, 2, 3])
    np.testing.assert_allclose(x_hat, x[:4], atol=EXACT_TOL)


def test_reconstruction_window_longer_than_span_is_zero_beyond_reach():
    h0, h1 = wavelet_filters("haar")
    slots = memory_slots("fading", 2, 2)
    x = np.random.default_rng(0).normal(size=30)
    t, x_window, x_hat = reconstruct_past(x, 20, h0, h1, slots, 2, window=10)
    assert t.tolist() == list(range(11, 21))
    np.testing.assert_array_equal(x_hat[:6], 0.0)
    np.testing.assert_allclose(x_hat[-2:], x[19:21], atol=EXACT_TOL)  # newest pair exact


@pytest.mark.parametrize("n", [-1, 30, 2.0])
def test_reconstruction_rejects_bad_time(n):
    h0, h1 = wavelet_filters("haar")
    with pytest.raises(ValueError, match="n must be"):
        reconstruct_past(np.zeros(30), n, h0, h1, memory_slots("fading", 2, 2), 2)


# --------------------------------------------------------------------------------------------
# reconstruction_error_by_lag
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_fading_haar_error_grows_with_lag(depth):
    slots = memory_slots("fading", depth, 2)
    lags, error = reconstruction_error_by_lag(*wavelet_filters("haar"), slots, depth)
    assert lags.tolist() == list(range(2**depth))
    assert np.all(np.diff(error) >= -EXACT_TOL)
    # the newest two samples are exact; the oldest half is known only through its mean
    assert error[0] == pytest.approx(0.0, abs=EXACT_TOL)
    assert error[-1] == pytest.approx(1 - 2.0 ** -(depth - 1), abs=EXACT_TOL)


@pytest.mark.parametrize("name", ["db2", "sym4"])
def test_fading_error_grows_with_lag_on_average(name):
    h0, h1 = wavelet_filters(name)
    lags, error = reconstruction_error_by_lag(h0, h1, memory_slots("fading", 4, len(h0)), 4)
    # long filters delay and smear every band (sym4's error at lag 0 is ~1), so only on average
    quarter = len(error) // 4
    assert error[:quarter].mean() < error[-quarter:].mean()


def test_uniform_haar_error_is_flat():
    lags, error = reconstruction_error_by_lag(*wavelet_filters("haar"), memory_slots("uniform", 3, 2, 8), 3)
    np.testing.assert_allclose(error, 0.0, atol=EXACT_TOL)


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_error_by_lag_matches_simulated_reconstructions(case):
    h0, h1, slots, depth = setup(case)
    span = memory_span(slots, depth, len(h0))
    x = np.random.default_rng(7).normal(size=3000)
    squared_errors = []
    for n in range(span, x.size, 3):
        _, x_window, x_hat = reconstruct_past(x, n, h0, h1, slots, depth)
        squared_errors.append((x_window - x_hat) ** 2)  # oldest first
    squared = np.mean(squared_errors, axis=0)
    _, error = reconstruction_error_by_lag(h0, h1, slots, depth)
    np.testing.assert_allclose(squared[::-1], error, atol=ERROR_SIM_TOL)


def test_error_by_lag_window_extends_with_ones():
    h0, h1 = wavelet_filters("haar")
    lags, error = reconstruction_error_by_lag(h0, h1, memory_slots("fading", 2, 2), 2, window=7)
    assert lags.tolist() == list(range(7))
    np.testing.assert_allclose(error[4:], 1.0)


# --------------------------------------------------------------------------------------------
# memory_capacity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_capacity_closed_form_matches_simulation(case):
    h0, h1, slots, depth = setup(case)
    lags, closed = memory_capacity(h0, h1, slots, depth, max_lag=24)
    lags_sim, simulated = memory_capacity(h0, h1, slots, depth, max_lag=24, n_samples=SIM_SAMPLES, seed=0)
    np.testing.assert_array_equal(lags, lags_sim)
    np.testing.assert_allclose(simulated, closed, atol=CAPACITY_SIM_TOL)


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
@pytest.mark.parametrize("ridge", [0.0, 1e-6, 1.0])
def test_capacity_is_a_fraction_and_bounded_by_slots(case, ridge):
    h0, h1, slots, depth = setup(case, seed=1)
    _, r2 = memory_capacity(h0, h1, slots, depth, max_lag=40, ridge=ridge)
    assert np.all((r2 >= 0) & (r2 <= 1))
    assert r2.sum() <= len(slots) + EXACT_TOL
    span = memory_span(slots, depth, len(h0))
    np.testing.assert_array_equal(r2[span:], 0.0)  # the memory cannot see beyond its span


@pytest.mark.parametrize("case", rule_cases(), ids=CASE_IDS)
def test_capacity_without_ridge_is_one_minus_reconstruction_error(case):
    h0, h1, slots, depth = setup(case)
    span = memory_span(slots, depth, len(h0))
    _, r2 = memory_capacity(h0, h1, slots, depth, max_lag=span - 1, ridge=0.0)
    _, error = reconstruction_error_by_lag(h0, h1, slots, depth)
    np.testing.assert_allclose(r2, 1 - error, atol=1e-8)


def test_capacity_decreases_with_ridge():
    h0, h1 = wavelet_filters("db2")
    slots = memory_slots("fading", 3, 4)
    totals = [memory_capacity(h0, h1, slots, 3, max_lag=30, ridge=r)[1].sum() for r in (0.0, 0.1, 10.0)]
    assert totals[0] > totals[1] > totals[2] > 0


def test_capacity_simulation_is_seeded():
    h0, h1 = wavelet_filters("haar")
    slots = memory_slots("fading", 2, 2)
    first = memory_capacity(h0, h1, slots, 2, max_lag=5, n_samples=500, seed=3)[1]
    again = memory_capacity(h0, h1, slots, 2, max_lag=5, n_samples=500, seed=3)[1]
    other = memory_capacity(h0, h1, slots, 2, max_lag=5, n_samples=500, seed=4)[1]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_lag": -1}, "max_lag"),
        ({"ridge": -1.0}, "ridge"),
        ({"ridge": float("nan")}, "ridge"),
        ({"n_samples": 2}, "n_samples"),
    ],
)
def test_capacity_rejects_bad_arguments(kwargs, match):
    h0, h1 = wavelet_filters("haar")
    args = {"max_lag": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        memory_capacity(h0, h1, memory_slots("fading", 2, 2), 2, **args)


# --------------------------------------------------------------------------------------------
# footprint
# --------------------------------------------------------------------------------------------


def test_footprint_by_hand():
    fp = footprint([1, 2, 5], depth=2, memory_size=3)
    expected = {
        "n": [1, 2, 5],
        "depth": [2, 2, 2],
        "full_history_per_step": [1, 2, 5],
        "full_history_total": [1, 3, 15],  # 1, 1+2, 1+2+3+4+5
        "tree_per_step": [3, 3, 3],
        "tree_total": [3, 6, 15],
        "fading_per_step": [3, 3, 3],
        "fading_total": [3, 6, 15],
        "uniform_per_step": [3, 3, 3],
        "uniform_total": [3, 6, 15],
    }
    assert {key: value.tolist() for key, value in fp.items()} == expected
    assert all(value.dtype == np.int64 for value in fp.values())


def test_footprint_default_depth_grows_like_log():
    fp = footprint([2, 16, 1024], depth=None, memory_size=4, kernel_size=2)
    assert fp["depth"].tolist() == [1, 4, 10]
    assert fp["fading_per_step"].tolist() == [2, 5, 11]
    assert fp["full_history_total"].tolist() == [3, 136, 1024 * 1025 // 2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_values": [0, 4]}, "n_values"),
        ({"n_values": [2.5]}, "n_values"),
        ({"n_values": []}, "n_values"),
        ({"depth": 0}, "depth"),
        ({"memory_size": 0}, "memory_size"),
    ],
)
def test_footprint_rejects_bad_arguments(kwargs, match):
    args = {"n_values": [4], "depth": 2, "memory_size": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        footprint(**args)
