"""Tests for multires.treeselect: which tree coefficients form the memory (docs/design.md, section 3)."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from multires.tree import coefficient_tree
from multires.treeselect import (
    LEARNED_LAGS_PER_BAND,
    Slot,
    candidate_slots,
    default_depth,
    kept_cells,
    learned_lags_per_band,
    max_uniform_memory,
    memory_slots,
    receptive_field,
)
from multires.wavelets import wavelet_filters

#: float64 round-off allowed when comparing the tree with PyWavelets' DWT.
DWT_ATOL = 1e-12
SEED = 20230501


def names(slots: list[Slot]) -> list[str]:
    return [str(s) for s in slots]


def detail_counts(slots: list[Slot], depth: int) -> list[int]:
    """Number of detail slots per level, coarse (``J``) to fine (1)."""
    return [sum(1 for s in slots if s.band == "detail" and s.level == lvl) for lvl in range(depth, 0, -1)]


# --- the worked example and the fading rule -------------------------------------------------------


def test_design_worked_example_uniform_k2_j3_m8():
    slots = memory_slots("uniform", depth=3, kernel_size=2, memory_size=8)
    assert names(slots) == ["a3[n]", "b3[n]", "b2[n]", "b2[n-4]", "b1[n]", "b1[n-2]", "b1[n-4]", "b1[n-6]"]
    assert slots == [
        Slot("approx", 3, 0),
        Slot("detail", 3, 0),
        Slot("detail", 2, 0),
        Slot("detail", 2, 4),
        Slot("detail", 1, 0),
        Slot("detail", 1, 2),
        Slot("detail", 1, 4),
        Slot("detail", 1, 6),
    ]


@pytest.mark.parametrize("depth", [1, 2, 3, 6], ids=lambda j: f"J{j}")
@pytest.mark.parametrize("kernel_size", [2, 3, 4], ids=lambda k: f"k{k}")
def test_fading_keeps_one_slot_per_level_at_lag_zero_coarse_to_fine(depth, kernel_size):
    slots = memory_slots("fading", depth=depth, kernel_size=kernel_size)
    expected = [Slot("approx", depth, 0)] + [Slot("detail", lvl, 0) for lvl in range(depth, 0, -1)]
    assert slots == expected
    assert len(slots) == depth + 1


def test_fading_example_names():
    assert names(memory_slots("fading", depth=3, kernel_size=2)) == ["a3[n]", "b3[n]", "b2[n]", "b1[n]"]


def test_fading_accepts_memory_size_equal_to_depth_plus_one():
    assert memory_slots("fading", 4, 2, memory_size=5) == memory_slots("fading", 4, 2)


# --- the uniform rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 6], ids=lambda k: f"k{k}")
def test_uniform_full_counts_follow_k_3k_minus_2_7k_minus_6(kernel_size):
    depth, k = 5, kernel_size
    slots = memory_slots("uniform", depth, k, memory_size=max_uniform_memory(depth, k))
    # a_J: 1; b_J: 1; then b_{J-1}, b_{J-2}, ... take c = k, 3k-2, 7k-6, 15k-14 (c_next = 2(c-1)+k)
    assert [s.band for s in slots].count("approx") == 1
    assert detail_counts(slots, depth) == [1, k, 3 * k - 2, 7 * k - 6, 15 * k - 14]


@pytest.mark.parametrize("kernel_size", [2, 3, 4], ids=lambda k: f"k{k}")
def test_uniform_lags_lie_on_each_levels_decimated_grid_most_recent_first(kernel_size):
    depth = 4
    slots = memory_slots("uniform", depth, kernel_size, memory_size=max_uniform_memory(depth, kernel_size))
    for level in range(1, depth + 1):
        lags = [s.lag for s in slots if s.band == "detail" and s.level == level]
        assert lags == [i * 2**level for i in range(len(lags))], f"level {level}"
    assert slots[0] == Slot("approx", depth, 0)


@pytest.mark.parametrize(
    ("kernel_size", "depth", "memory_size", "expected"),
    [
        # k=2, J=4: a4, b4, b3 x2, b2 x4, b1 x8; M=7 stops after 3 of b2's 4 slots, b1 gets none
        (2, 4, 7, ["a4[n]", "b4[n]", "b3[n]", "b3[n-8]", "b2[n]", "b2[n-4]", "b2[n-8]"]),
        # k=3, J=3: a3, b3, b2 x3, b1 x7; M=7 cuts b1 after 2
        (3, 3, 7, ["a3[n]", "b3[n]", "b2[n]", "b2[n-4]", "b2[n-8]", "b1[n]", "b1[n-2]"]),
        # k=4, J=3: a3, b3, b2 x4; M=4 cuts b2 after 2 (b1 gets none)
        (4, 3, 4, ["a3[n]", "b3[n]", "b2[n]", "b2[n-4]"]),
        # k=2, J=3: M=5 cuts b1 after 1
        (2, 3, 5, ["a3[n]", "b3[n]", "b2[n]", "b2[n-4]", "b1[n]"]),
    ],
    ids=["k2-J4-M7", "k3-J3-M7", "k4-J3-M4", "k2-J3-M5"],
)
def test_uniform_memory_size_cuts_a_level_part_way(kernel_size, depth, memory_size, expected):
    slots = memory_slots("uniform", depth, kernel_size, memory_size=memory_size)
    assert names(slots) == expected
    assert len(slots) == memory_size


@pytest.mark.parametrize("depth", [1, 3, 5], ids=lambda j: f"J{j}")
def test_uniform_memory_size_one_keeps_only_the_coarsest_approximation(depth):
    assert memory_slots("uniform", depth, 2, memory_size=1) == [Slot("approx", depth, 0)]


@pytest.mark.parametrize("depth", [1, 3, 5], ids=lambda j: f"J{j}")
def test_uniform_memory_size_two_adds_the_coarsest_detail(depth):
    assert memory_slots("uniform", depth, 2, memory_size=2) == [
        Slot("approx", depth, 0),
        Slot("detail", depth, 0),
    ]


@pytest.mark.parametrize(
    ("depth", "kernel_size", "expected"),
    [(1, 2, 2), (3, 2, 8), (6, 2, 64), (3, 3, 2 + 3 + 7), (3, 4, 2 + 4 + 10), (4, 3, 2 + 3 + 7 + 15)],
    ids=["J1-k2", "J3-k2", "J6-k2", "J3-k3", "J3-k4", "J4-k3"],
)
def test_max_uniform_memory_values(depth, kernel_size, expected):
    assert max_uniform_memory(depth, kernel_size) == expected
    assert len(memory_slots("uniform", depth, kernel_size, memory_size=expected)) == expected


@pytest.mark.parametrize("depth", [1, 2, 4, 7], ids=lambda j: f"J{j}")
def test_max_uniform_memory_for_haar_length_is_two_to_the_depth(depth):
    assert max_uniform_memory(depth, 2) == 2**depth


# --- uniform with k=2 is the ordinary DWT of the last 2**J samples --------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3, 4], ids=lambda j: f"J{j}")
def test_uniform_haar_memory_equals_pywt_wavedec_of_the_last_window(depth):
    """Pinned correspondence (no scaling, no sign change; unnormalised tree == orthonormal DWT).

    At time ``n`` the slot ``a_J[n]`` is ``cA_J[0]`` and the slot ``b_l[n - i*2**l]`` is
    ``cD_l[-1 - i]`` of ``pywt.wavedec(x[n-2**J+1 : n+1], "haar", level=J)``: the most recent slot
    of a level is the *last* DWT coefficient of that level. Haar taps are ``1/sqrt(2)``, so the
    undecimated tree already carries the orthonormal DWT's normalisation.
    """
    rng = np.random.default_rng(SEED)
    window = 2**depth
    x = rng.standard_normal(window + 13)
    h0, h1 = wavelet_filters("haar")
    tree = coefficient_tree(x, h0, h1, depth=depth)
    slots = memory_slots("uniform", depth, 2, memory_size=window)
    for n in (window - 1, window + 5, len(x) - 1):
        coeffs = pywt.wavedec(x[n - window + 1 : n + 1], "haar", level=depth)  # [cA_J, cD_J, ..., cD_1]
        expected = {Slot("approx", depth, 0): coeffs[0][0]}
        for position, level in enumerate(range(depth, 0, -1), start=1):
            cd = coeffs[position]
            assert len(cd) == 2 ** (depth - level)
            for i in range(len(cd)):
                expected[Slot("detail", level, i * 2**level)] = cd[-1 - i]
        assert set(slots) == set(expected)
        got = np.array([tree.value(s, n) for s in slots])
        want = np.array([expected[s] for s in slots])
        np.testing.assert_allclose(got, want, rtol=0, atol=DWT_ATOL, err_msg=f"n={n}")


# --- default depth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq_len", "kernel_size", "expected"),
    [
        (1, 2, 1),
        (2, 2, 1),
        (3, 2, 2),
        (4, 2, 2),
        (5, 2, 3),
        (64, 2, 6),
        (65, 2, 7),
        (1024, 2, 10),
        (1024, 4, 9),
        (100, 3, 6),
        (127, 3, 6),
        (128, 3, 7),
        (16384, 2, 14),
    ],
    ids=lambda v: str(v),
)
def test_default_depth_examples(seq_len, kernel_size, expected):
    assert default_depth(seq_len, kernel_size) == expected


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 8], ids=lambda k: f"k{k}")
def test_default_depth_is_the_smallest_depth_covering_the_sequence(kernel_size):
    for seq_len in range(2, 3000, 7):
        depth = default_depth(seq_len, kernel_size)
        assert receptive_field(depth, kernel_size) >= seq_len, seq_len
        assert depth == 1 or receptive_field(depth - 1, kernel_size) < seq_len, seq_len


def test_receptive_field_formula():
    assert receptive_field(3, 2) == 8
    assert receptive_field(3, 4) == 3 * 7 + 1


# --- candidate slots (menu of the learned rule) and kept cells ------------------------------------


def test_candidate_slots_example():
    assert names(candidate_slots(3, 2, max_lag=7)) == names(memory_slots("uniform", 3, 2, memory_size=8))


def test_candidate_slots_add_a_grid_point_per_band_at_the_top_period():
    assert names(candidate_slots(2, 2, max_lag=4)) == [
        "a2[n]",
        "a2[n-4]",
        "b2[n]",
        "b2[n-4]",
        "b1[n]",
        "b1[n-2]",
        "b1[n-4]",
    ]


@pytest.mark.parametrize("kernel_size", [2, 3], ids=lambda k: f"k{k}")
def test_candidate_slots_default_max_lag_is_receptive_field_minus_one(kernel_size):
    depth = 3
    default = candidate_slots(depth, kernel_size)
    assert default == candidate_slots(depth, kernel_size, max_lag=receptive_field(depth, kernel_size) - 1)
    assert max(s.lag for s in default) <= receptive_field(depth, kernel_size) - 1


def test_candidate_slots_are_in_weight_order_and_unique():
    slots = candidate_slots(4, 3, max_lag=40)
    assert len(set(slots)) == len(slots)
    order = [(s.band != "approx", -s.level, s.lag) for s in slots]
    assert order == sorted(order)


def test_learned_memory_slots_returns_the_bounded_candidates():
    slots = memory_slots("learned", 3, 2, memory_size=4, max_lag=10)
    assert slots == candidate_slots(3, 2, max_lag=10, lags_per_band=LEARNED_LAGS_PER_BAND)
    assert names(slots) == ["a3[n]", "a3[n-8]", "b3[n]", "b3[n-8]", "b2[n]", "b2[n-4]", "b2[n-8]",
                            "b1[n]", "b1[n-2]", "b1[n-4]"]


def test_candidate_cap_keeps_the_most_recent_lags_of_each_band():
    capped = candidate_slots(5, 2, lags_per_band=2)
    full = candidate_slots(5, 2)
    for band, level in {(s.band, s.level) for s in full}:
        lags = [s.lag for s in full if (s.band, s.level) == (band, level)]
        assert [s.lag for s in capped if (s.band, s.level) == (band, level)] == lags[:2]


@pytest.mark.parametrize("seq_len", [64, 1460, 16384], ids=lambda n: f"N{n}")
@pytest.mark.parametrize("kernel_size", [2, 4], ids=lambda k: f"k{k}")
def test_learned_menu_is_a_small_multiple_of_fading_at_equal_memory(seq_len, kernel_size):
    depth = default_depth(seq_len, kernel_size)
    fading = memory_slots("fading", depth, kernel_size)
    learned = memory_slots("learned", depth, kernel_size, memory_size=len(fading))
    assert set(fading) <= set(learned)
    assert len(learned) + 1 <= 3 * (len(fading) + 1)  # trainable weights, skip included


@pytest.mark.parametrize("memory_size", [4, 12, 40, 100])
def test_learned_menu_offers_at_least_twice_the_budget_when_the_lags_exist(memory_size):
    depth = default_depth(1460, 2)
    learned = memory_slots("learned", depth, 2, memory_size=memory_size, max_lag=2**20)
    assert len(learned) >= 2 * memory_size
    assert learned_lags_per_band(depth, memory_size) * (depth + 1) >= len(learned)


def test_learned_lags_per_band_rule():
    assert learned_lags_per_band(11, 12) == LEARNED_LAGS_PER_BAND == 3
    assert learned_lags_per_band(5, 13) == 5  # ceil(2 * 13 / 6)
    with pytest.raises(ValueError, match="memory_size must be a positive integer"):
        learned_lags_per_band(5, 0)


def test_kept_cells_reads_times_n_minus_lag_and_drops_negative_times():
    slots = memory_slots("uniform", 3, 2, memory_size=8)
    cells = kept_cells(slots, n=4)
    assert [(str(s), t) for s, t in cells] == [
        ("a3[n]", 4),
        ("b3[n]", 4),
        ("b2[n]", 4),
        ("b2[n-4]", 0),
        ("b1[n]", 4),
        ("b1[n-2]", 2),
        ("b1[n-4]", 0),
    ]
    assert len(kept_cells(slots, n=100)) == 8


def test_slot_str():
    assert str(Slot("approx", 5, 0)) == "a5[n]"
    assert str(Slot("detail", 2, 12)) == "b2[n-12]"


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: memory_slots("random", 3, 2), r"tree_select must be one of"),
        (lambda: memory_slots("uniform", 3, 2), r"needs memory_size"),
        (lambda: memory_slots("learned", 3, 2), r"needs memory_size"),
        (
            lambda: memory_slots("uniform", 3, 2, memory_size=9),
            r"larger than the uniform tree offers.*at most 8",
        ),
        (lambda: memory_slots("uniform", 3, 2, memory_size=0), r"memory_size must be a positive integer"),
        (
            lambda: memory_slots("learned", 3, 2, memory_size=9, max_lag=7),
            r"larger than the 8 candidate slots",
        ),
        (lambda: memory_slots("fading", 3, 2, memory_size=3), r"fading keeps exactly depth \+ 1 = 4"),
        (lambda: memory_slots("fading", 3, 1), r"kernel_size must be an integer >= 2"),
        (lambda: memory_slots("fading", 3, 2.0), r"kernel_size must be an integer >= 2"),
        (lambda: memory_slots("fading", 0, 2), r"depth must be an integer >= 1"),
        (lambda: memory_slots("fading", 2.5, 2), r"depth must be an integer >= 1"),
        (lambda: default_depth(0, 2), r"seq_len must be a positive integer"),
        (lambda: default_depth(10, 1), r"kernel_size must be an integer >= 2"),
        (lambda: candidate_slots(3, 2, max_lag=-1), r"max_lag must be a non-negative integer"),
        (lambda: candidate_slots(0, 2), r"depth must be an integer >= 1"),
        (lambda: kept_cells([], n=-1), r"time n must be >= 0"),
    ],
    ids=[
        "unknown-rule",
        "uniform-without-memory-size",
        "learned-without-memory-size",
        "uniform-memory-too-large",
        "uniform-memory-zero",
        "learned-memory-too-large",
        "fading-wrong-memory-size",
        "kernel-size-one",
        "kernel-size-float",
        "depth-zero",
        "depth-float",
        "seq-len-zero",
        "default-depth-kernel-size",
        "negative-max-lag",
        "candidates-depth-zero",
        "kept-cells-negative-time",
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
