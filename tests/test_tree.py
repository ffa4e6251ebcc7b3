"""Tests for multires.tree: the causal à trous coefficient tree (docs/design.md, section 1)."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from multires.tree import CoefficientTree, coefficient_tree, tree_levels
from multires.treeselect import Slot, default_depth, receptive_field
from multires.wavelets import wavelet_filters

#: float64 round-off when comparing with PyWavelets / numpy references.
F64_ATOL = 1e-12
#: Parseval: PyWavelets stores sym4/coif taps to ~1e-13, so the identity holds to a bit less.
ENERGY_RTOL = 1e-10
SEED = 1234

#: Orthogonal wavelets of several lengths (k = 2, 4, 6, 8): all PyWavelets filters have even length.
ORTHOGONAL = ["haar", "db2", "db3", "coif1", "sym4"]


def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


# --- hand-computed coefficients --------------------------------------------------------------------


def test_tiny_example_by_hand():
    # a1[n] = (x[n-1] + x[n]) / 2, b1[n] = (x[n-1] - x[n]) / 2, then the same with dilation 2 on a1.
    tree = coefficient_tree([1.0, 2.0, 3.0, 4.0], [0.5, 0.5], [0.5, -0.5], depth=2)
    np.testing.assert_allclose(tree.details[0], [-0.5, -0.5, -0.5, -0.5], atol=F64_ATOL)
    np.testing.assert_allclose(tree.details[1], [-0.25, -0.75, -1.0, -1.0], atol=F64_ATOL)
    np.testing.assert_allclose(tree.approx, [0.25, 0.75, 1.5, 2.5], atol=F64_ATOL)


def test_tap_order_is_cross_correlation_oldest_sample_first():
    # h0 = [1, 2, 3]: a1[n] = 1*x[n-2] + 2*x[n-1] + 3*x[n]; the impulse response is the reversed taps.
    # a2 = 3*a1[n] + 2*a1[n-2] + 1*a1[n-4] -> (3,2,1) convolved with (3,0,2,0,1) = (9,6,9,4,5,2,1).
    delta = np.zeros(10)
    delta[0] = 1.0
    tree = coefficient_tree(delta, [1.0, 2.0, 3.0], [0.0, 0.0, 1.0], depth=2)
    np.testing.assert_allclose(tree.approx, [9, 6, 9, 4, 5, 2, 1, 0, 0, 0], atol=F64_ATOL)
    # h1 = [0, 0, 1] is the identity: b_l = a_{l-1}
    np.testing.assert_allclose(tree.details[0], delta, atol=F64_ATOL)
    np.testing.assert_allclose(tree.details[1], [3, 2, 1, 0, 0, 0, 0, 0, 0, 0], atol=F64_ATOL)


def test_pure_delay_filter_delays_by_k_minus_one_times_dilation():
    x = rng().standard_normal(40)
    tree = coefficient_tree(x, [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], depth=3)
    # level l delays a_{l-1} by (k-1) * 2**(l-1) = 2**l; after 3 levels: 2 + 4 + 8 = 14
    np.testing.assert_allclose(tree.approx, np.r_[np.zeros(14), x[:-14]], atol=F64_ATOL)
    np.testing.assert_allclose(tree.details[2], np.r_[np.zeros(14), x[:-14]], atol=F64_ATOL)
    np.testing.assert_allclose(tree.details[0], np.r_[np.zeros(2), x[:-2]], atol=F64_ATOL)


@pytest.mark.parametrize("kernel_size", [2, 3, 5], ids=lambda k: f"k{k}")
def test_tree_equals_numpy_dilated_convolution(kernel_size):
    """Independent reference: ``np.convolve`` with reversed, zero-stuffed taps, truncated causally."""
    g = rng()
    x = g.standard_normal(90)
    h0, h1 = g.standard_normal(kernel_size), g.standard_normal(kernel_size)
    depth = 4
    tree = coefficient_tree(x, h0, h1, depth=depth)
    a = x
    for level in range(1, depth + 1):
        d = 2 ** (level - 1)
        lo, hi = np.zeros((kernel_size - 1) * d + 1), np.zeros((kernel_size - 1) * d + 1)
        lo[::d], hi[::d] = h0[::-1], h1[::-1]
        b = np.convolve(a, hi)[: len(x)]
        a = np.convolve(a, lo)[: len(x)]
        np.testing.assert_allclose(tree.details[level - 1], b, atol=F64_ATOL, err_msg=f"b{level}")
    np.testing.assert_allclose(tree.approx, a, atol=F64_ATOL)


# --- against pywt.swt ------------------------------------------------------------------------------


def swt_valid_range(n: int, level: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Times ``t`` where our causal padding is not reached, and the swt index ``t - (k/2)(2**l - 1)``.

    swt (periodic) index ``i`` is clean of wrap-around when ``i >= (k/2 - 1)(2**l - 1)`` (its
    filter support, centred the swt way, stays inside the signal) and ``i < n``.
    """
    times = np.arange((k - 1) * (2**level - 1), n)
    index = times - (k // 2) * (2**level - 1)
    keep = (index >= 0) & (index < n)
    return times[keep], index[keep]


@pytest.mark.parametrize("name", ORTHOGONAL + ["bior2.2", "rbio3.3"])
@pytest.mark.parametrize("depth", [1, 3, 4], ids=lambda j: f"J{j}")
def test_tree_matches_pywt_swt_at_the_design_offset(name, depth):
    """Our ``b_l[n]`` == ``pywt.swt(x, name, level=J, trim_approx=False, norm=False)`` level ``l``
    detail at index ``n - (k/2)(2**l - 1)`` away from both boundaries; the same for ``a_l``."""
    n = 256
    x = rng().standard_normal(n)
    h0, h1 = wavelet_filters(name)
    k = len(h0)
    swt = pywt.swt(x, name, level=depth, trim_approx=False, norm=False)  # [(cA_J, cD_J), ..., (cA_1, cD_1)]
    tree = coefficient_tree(x, h0, h1, depth=depth)
    for level in range(1, depth + 1):
        cA, cD = swt[depth - level]
        times, index = swt_valid_range(n, level, k)
        assert len(times) >= n // 2, "too few clean samples to compare"
        np.testing.assert_allclose(
            tree.details[level - 1][times], cD[index], atol=F64_ATOL, err_msg=f"b{level}"
        )
        approx_l = coefficient_tree(x, h0, h1, depth=level).approx  # a_l is a_J of the depth-l tree
        np.testing.assert_allclose(approx_l[times], cA[index], atol=F64_ATOL, err_msg=f"a{level}")


# --- shapes, types and batching ----------------------------------------------------------------------


def test_numpy_in_gives_numpy_out():
    x = rng().standard_normal(50).tolist()
    tree = coefficient_tree(x, *wavelet_filters("db2"), depth=3)
    assert isinstance(tree, CoefficientTree)
    assert isinstance(tree.approx, np.ndarray) and isinstance(tree.details, np.ndarray)
    assert tree.approx.dtype == np.float64
    assert tree.approx.shape == (50,)
    assert tree.details.shape == (3, 50)
    assert tree.depth == 3


def test_default_depth_covers_the_sequence():
    tree = coefficient_tree(np.ones(100), *wavelet_filters("db2"))
    assert tree.depth == default_depth(100, 4) == 6


def test_tensor_batch_with_per_channel_filters_matches_channel_by_channel():
    g = rng()
    b, c, n, k, depth = 3, 4, 60, 3, 4
    x = torch.from_numpy(g.standard_normal((b, c, n)))
    h0, h1 = g.standard_normal((c, k)), g.standard_normal((c, k))
    tree = coefficient_tree(x, torch.from_numpy(h0), torch.from_numpy(h1), depth=depth)
    assert isinstance(tree.approx, torch.Tensor)
    assert tree.approx.shape == (b, c, n)
    assert tree.details.shape == (b, c, depth, n)
    for i in range(b):
        for ch in range(c):
            single = coefficient_tree(x[i, ch].numpy(), h0[ch], h1[ch], depth=depth)
            np.testing.assert_allclose(tree.approx[i, ch].numpy(), single.approx, atol=F64_ATOL)
            np.testing.assert_allclose(tree.details[i, ch].numpy(), single.details, atol=F64_ATOL)


def test_tensor_batch_with_shared_filters_broadcasts():
    g = rng()
    x = torch.from_numpy(g.standard_normal((2, 3, 40)))
    h0, h1 = wavelet_filters("db2")
    shared = coefficient_tree(x, h0, h1, depth=3)
    per_channel = coefficient_tree(x, np.tile(h0, (3, 1)), np.tile(h1, (3, 1)), depth=3)
    torch.testing.assert_close(shared.details, per_channel.details, rtol=0, atol=F64_ATOL)


def test_tree_levels_layout():
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 3, 33, generator=g, dtype=torch.float64)
    h0 = torch.randn(3, 2, generator=g, dtype=torch.float64)
    h1 = torch.randn(3, 2, generator=g, dtype=torch.float64)
    approx, details = tree_levels(x, h0, h1, 5)
    assert approx.shape == (2, 3, 33)
    assert details.shape == (2, 3, 5, 33)


def test_band_value_and_rows_accessors():
    x = rng().standard_normal(20)
    tree = coefficient_tree(x, *wavelet_filters("haar"), depth=3)
    np.testing.assert_array_equal(tree.band("approx", 3), tree.approx)
    np.testing.assert_array_equal(tree.band("detail", 2), tree.details[1])
    assert tree.value(Slot("detail", 1, 4), 10) == tree.details[0][6]
    assert tree.value(Slot("detail", 1, 4), 3) == 0.0  # before time 0
    labels = [label for label, _ in tree.rows()]
    assert labels == ["a3", "b3", "b2", "b1"]


# --- properties ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haar", "db2", "sym4"])
@pytest.mark.parametrize("t", [0, 17, 63], ids=lambda t: f"t{t}")
def test_changing_x_at_t_never_changes_any_coefficient_before_t(name, t):
    x = rng().standard_normal(64)
    h0, h1 = wavelet_filters(name)
    before = coefficient_tree(x, h0, h1, depth=4)
    x2 = x.copy()
    x2[t] += 1e6
    after = coefficient_tree(x2, h0, h1, depth=4)
    np.testing.assert_array_equal(after.approx[:t], before.approx[:t])
    np.testing.assert_array_equal(after.details[:, :t], before.details[:, :t])
    assert np.abs(after.details[0, t:] - before.details[0, t:]).max() > 1e3  # the change does arrive


@pytest.mark.parametrize("name", ORTHOGONAL)
@pytest.mark.parametrize("depth", [1, 3, 5], ids=lambda j: f"J{j}")
def test_parseval_for_orthogonal_wavelets(name, depth):
    """Energy: ``sum_l ||b_l||^2 / 2**l + ||a_J||^2 / 2**J == ||x||^2``.

    Each undecimated level with orthonormal ``h0, h1`` doubles the energy (``|H0|^2 + |H1|^2 = 2``),
    exactly for the *full* linear convolution. So ``x`` is followed by ``receptive field - 1`` zeros,
    which lets every coefficient of the full convolution fit inside the causal window.
    """
    h0, h1 = wavelet_filters(name)
    x = np.r_[rng().standard_normal(50), np.zeros(receptive_field(depth, len(h0)) - 1)]
    tree = coefficient_tree(x, h0, h1, depth=depth)
    energy = sum(np.sum(tree.details[lvl - 1] ** 2) / 2**lvl for lvl in range(1, depth + 1))
    energy += np.sum(tree.approx**2) / 2**depth
    np.testing.assert_allclose(energy, np.sum(x**2), rtol=ENERGY_RTOL)


def test_parseval_does_not_hold_for_biorthogonal_wavelets():
    """The identity above is a property of orthogonal filters; bior2.2 is a counterexample."""
    h0, h1 = wavelet_filters("bior2.2")
    x = np.r_[rng().standard_normal(50), np.zeros(receptive_field(3, len(h0)) - 1)]
    tree = coefficient_tree(x, h0, h1, depth=3)
    energy = (
        sum(np.sum(tree.details[lvl - 1] ** 2) / 2**lvl for lvl in range(1, 4)) + np.sum(tree.approx**2) / 8
    )
    assert abs(energy / np.sum(x**2) - 1) > 0.01


@pytest.mark.parametrize("name", ["haar", "db2"])
def test_tree_is_linear(name):
    g = rng()
    x1, x2 = g.standard_normal(70), g.standard_normal(70)
    h0, h1 = wavelet_filters(name)
    t1, t2 = coefficient_tree(x1, h0, h1, depth=4), coefficient_tree(x2, h0, h1, depth=4)
    t = coefficient_tree(2.0 * x1 - 3.0 * x2, h0, h1, depth=4)
    np.testing.assert_allclose(t.details, 2.0 * t1.details - 3.0 * t2.details, atol=1e-11)
    np.testing.assert_allclose(t.approx, 2.0 * t1.approx - 3.0 * t2.approx, atol=1e-11)


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: coefficient_tree(np.zeros((2, 5)), [1, 1], [1, -1]), r"numpy signal must be 1-D"),
        (
            lambda: coefficient_tree(torch.zeros(5), [1, 1], [1, -1]),
            r"tensor input must be \(batch, channels, N\)",
        ),
        (lambda: coefficient_tree(np.zeros(0), [1, 1], [1, -1]), r"signal is empty"),
        (lambda: coefficient_tree(np.zeros(8), [1, 1], [1, -1, 0]), r"h0 and h1 must both be"),
        (lambda: coefficient_tree(np.zeros(8), [1], [1]), r"k >= 2"),
        (
            lambda: coefficient_tree(torch.zeros(1, 2, 8), np.ones((3, 2)), np.ones((3, 2))),
            r"3 channels.*has 2",
        ),
        (
            lambda: coefficient_tree(np.zeros(8), [1, 1], [1, -1], depth=0),
            r"depth must be a positive integer",
        ),
        (
            lambda: coefficient_tree(np.zeros(8), [1, 1], [1, -1], depth=2).band("approx", 1),
            r"only the coarsest",
        ),
        (
            lambda: coefficient_tree(np.zeros(8), [1, 1], [1, -1], depth=2).band("detail", 3),
            r"detail level must",
        ),
    ],
    ids=[
        "numpy-2d",
        "tensor-1d",
        "empty",
        "filter-shapes-differ",
        "filter-too-short",
        "channel-mismatch",
        "depth-zero",
        "approx-not-coarsest",
        "detail-level-out-of-range",
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
