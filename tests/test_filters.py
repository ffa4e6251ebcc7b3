"""Tests for multires.analysis.filters: filter-bank diagnostics, normalisation, cascade and wavelet families."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import pywt

from multires.analysis.cascade import cascade, normalize_filters
from multires.analysis.families import family_gram, wavelet_family, wavelet_properties
from multires.analysis.filters import (
    ORTHOGONAL_FAMILIES,
    FilterDiagnostics,
    filter_diagnostics,
    frequency_response,
    nearest_wavelet,
)
from multires.wavelets import wavelet_filters

ORTHOGONAL_WAVELETS = ["haar", "db2", "db4", "sym4", "coif1"]
#: Exact conditions of an orthogonal wavelet hold to rounding (sym4's published taps: ~1e-12).
ORTHO_TOL = 1e-10
#: A random pair is far from orthonormal: each error is at least this large.
RANDOM_PAIR_MIN_ERROR = 0.05
EXACT_TOL = 1e-12
#: Cascade integrals of haar/db/sym/coif are exact dyadic sums.
INTEGRAL_TOL = 1e-9
#: Trapezoid Gram of the family with levels=3, level=8 (see family_gram docstring).
GRAM_TOL = 0.02
#: A 1% perturbation of db2 moves its unit-norm lowpass by about this much.
PERTURBATION = 0.01
SEEDS = [0, 1, 2]


def random_pair(seed: int, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=k), rng.normal(size=k)


# --------------------------------------------------------------------------------------------
# frequency_response
# --------------------------------------------------------------------------------------------


def direct_response(h: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """DTFT of the causal kernel ``h[::-1]`` evaluated term by term (the slow reference)."""
    kernel = np.asarray(h)[::-1]
    return np.exp(-2j * np.pi * np.outer(freqs, np.arange(kernel.size))) @ kernel


@pytest.mark.parametrize("k, n_freqs", [(4, 64), (7, 3), (12, 5), (2, 2)])
def test_frequency_response_matches_direct_dtft(k, n_freqs):
    h = np.random.default_rng(k).normal(size=k)
    freqs, magnitude, phase = frequency_response(h, n_freqs=n_freqs)
    expected = direct_response(h, freqs)
    np.testing.assert_allclose(freqs, np.linspace(0, 0.5, n_freqs), atol=EXACT_TOL)
    np.testing.assert_allclose(magnitude, np.abs(expected), atol=EXACT_TOL)
    np.testing.assert_allclose(np.exp(1j * phase), expected / np.abs(expected), atol=1e-9)


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
def test_frequency_response_is_power_complementary(name):
    """|H0|^2 + |H1|^2 = 2 for an orthonormal two-channel bank; lowpass sqrt 2 at DC, 0 at Nyquist."""
    h0, h1 = wavelet_filters(name)
    _, m0, _ = frequency_response(h0, 128)
    _, m1, _ = frequency_response(h1, 128)
    np.testing.assert_allclose(m0**2 + m1**2, 2.0, atol=ORTHO_TOL)
    assert m0[0] == pytest.approx(math.sqrt(2), abs=ORTHO_TOL)
    assert m0[-1] == pytest.approx(0.0, abs=ORTHO_TOL)


def test_frequency_response_haar_phase_is_half_sample_delay():
    freqs, _, phase = frequency_response(wavelet_filters("haar")[0], 33)
    np.testing.assert_allclose(phase[:-1], -np.pi * freqs[:-1], atol=1e-12)


@pytest.mark.parametrize("n_freqs", [1, 0, 2.5, "many"])
def test_frequency_response_rejects_bad_n_freqs(n_freqs):
    with pytest.raises(ValueError, match="n_freqs"):
        frequency_response([1.0, 1.0], n_freqs=n_freqs)


# --------------------------------------------------------------------------------------------
# filter_diagnostics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
def test_diagnostics_vanish_for_orthogonal_wavelets(name):
    d = filter_diagnostics(*wavelet_filters(name))
    assert d.kernel_size == pywt.Wavelet(name).dec_len
    assert abs(d.highpass_sum) < ORTHO_TOL
    assert d.lowpass_dc_gain == pytest.approx(math.sqrt(2), abs=ORTHO_TOL)
    assert d.dc_gain_error < ORTHO_TOL
    assert d.orthonormality_error < ORTHO_TOL
    assert d.qmf_error < ORTHO_TOL
    assert d.perfect_reconstruction_error < ORTHO_TOL
    assert d.nearest_wavelet == name
    assert d.nearest_distance < ORTHO_TOL


@pytest.mark.parametrize(
    "field", ["dc_gain_error", "orthonormality_error", "qmf_error", "perfect_reconstruction_error"]
)
@pytest.mark.parametrize("seed", SEEDS)
def test_diagnostics_are_clearly_nonzero_for_random_pair(field, seed):
    d = filter_diagnostics(*random_pair(seed))
    assert getattr(d, field) > RANDOM_PAIR_MIN_ERROR


@pytest.mark.parametrize("seed", SEEDS)
def test_random_pair_has_nonzero_highpass_sum_and_distance(seed):
    d = filter_diagnostics(*random_pair(seed))
    assert abs(d.highpass_sum) > 1e-3
    assert d.nearest_distance > RANDOM_PAIR_MIN_ERROR


def test_qmf_error_ignores_the_sign_of_h1():
    h0, h1 = wavelet_filters("db2")
    assert filter_diagnostics(h0, -h1).qmf_error < ORTHO_TOL


def test_diagnostics_are_computed_on_filters_as_given():
    """A scaled orthogonal pair is not orthonormal; normalising it restores every condition."""
    h0, h1 = wavelet_filters("db2")
    scaled = filter_diagnostics(2 * h0, 2 * h1)
    assert scaled.orthonormality_error == pytest.approx(3.0)  # autocorrelation 4 instead of 1
    assert scaled.perfect_reconstruction_error == pytest.approx(3.0)  # distortion 8 instead of 2
    assert scaled.nearest_wavelet == "db2"
    restored = filter_diagnostics(*normalize_filters(2 * h0, 2 * h1)[:2])
    assert restored.orthonormality_error < ORTHO_TOL


def test_diagnostics_rows_explain_every_field():
    d = filter_diagnostics(*wavelet_filters("db2"))
    rows = d.rows()
    assert [r["quantity"] for r in rows][:2] == ["kernel size k", "highpass sum"]
    assert len(rows) == len(d.to_dict())
    for row in rows:
        assert set(row) == {"quantity", "value", "ideal", "meaning"}
        assert len(row["meaning"]) > 20
    assert "zero mean" in rows[1]["meaning"]
    json.dumps(d.to_dict())  # serialisable for the app / logs


def test_diagnostics_is_frozen():
    d = filter_diagnostics(*wavelet_filters("haar"))
    with pytest.raises(AttributeError):
        d.qmf_error = 1.0  # type: ignore[misc]
    assert isinstance(d, FilterDiagnostics)


def test_diagnostics_for_odd_length_has_no_nearest_wavelet():
    d = filter_diagnostics([0.5, 0.7, 0.2], [0.3, -0.6, 0.3])
    assert d.nearest_wavelet is None and d.nearest_distance is None
    assert d.kernel_size == 3


@pytest.mark.parametrize(
    "h0, h1, match",
    [
        ([1.0, 1.0], [1.0, -1.0, 0.0], "same length"),
        ([1.0], [1.0], "at least 2"),
        ([[1.0, 1.0]], [[1.0, -1.0]], "1-D"),
        ([1.0, np.nan], [1.0, -1.0], "NaN"),
        (["a", "b"], [1.0, -1.0], "real numbers"),
    ],
)
def test_diagnostics_reject_bad_filters(h0, h1, match):
    with pytest.raises(ValueError, match=match):
        filter_diagnostics(h0, h1)


def test_diagnostics_accept_torch_parameters():
    torch = pytest.importorskip("torch")
    h0, h1 = (torch.nn.Parameter(torch.tensor(h)) for h in wavelet_filters("db2"))
    assert filter_diagnostics(h0, h1).nearest_wavelet == "db2"


# --------------------------------------------------------------------------------------------
# nearest_wavelet
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_nearest_wavelet_of_perturbed_db2_is_db2(seed, sign):
    h0, _ = wavelet_filters("db2")
    noisy = sign * 3.0 * (h0 + PERTURBATION * np.random.default_rng(seed).normal(size=h0.size))
    name, distance = nearest_wavelet(noisy)
    assert name == "db2"
    assert distance < 5 * PERTURBATION


@pytest.mark.parametrize("name", ["db3", "sym5", "coif2", "db7"])
def test_nearest_wavelet_finds_every_orthogonal_family(name):
    assert nearest_wavelet(wavelet_filters(name)[0]) == (name, pytest.approx(0.0, abs=ORTHO_TOL))


def test_nearest_wavelet_ties_go_to_first_family():
    """db1 = haar and sym2 = db2 exactly: the first of haar, db, sym, coif wins."""
    assert ORTHOGONAL_FAMILIES[:2] == ("haar", "db")
    assert nearest_wavelet(wavelet_filters("db1")[0])[0] == "haar"
    assert nearest_wavelet(wavelet_filters("sym2")[0])[0] == "db2"


def test_nearest_wavelet_rejects_zero_filter():
    with pytest.raises(ValueError, match="all zeros"):
        nearest_wavelet([0.0, 0.0])


# --------------------------------------------------------------------------------------------
# normalize_filters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
def test_normalize_leaves_pywt_filters_unchanged(name):
    h0, h1 = wavelet_filters(name)
    n0, n1, note = normalize_filters(h0, h1)
    np.testing.assert_allclose(n0, h0, atol=EXACT_TOL)
    np.testing.assert_allclose(n1, h1, atol=EXACT_TOL)


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
@pytest.mark.parametrize("scale0, scale1", [(-3.0, 0.5), (0.2, -7.0), (-1.0, -1.0)])
def test_normalize_undoes_scale_and_sign(name, scale0, scale1):
    h0, h1 = wavelet_filters(name)
    n0, n1, note = normalize_filters(scale0 * h0, scale1 * h1)
    np.testing.assert_allclose(n0, h0, atol=ORTHO_TOL)
    np.testing.assert_allclose(n1, h1, atol=ORTHO_TOL)
    assert "scaled h0" in note and "scaled h1" in note


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 6])
def test_normalize_is_idempotent_and_meets_its_rule(seed, k):
    h0, h1 = random_pair(seed, k)
    n0, n1, _ = normalize_filters(h0, h1)
    assert n0.sum() == pytest.approx(math.sqrt(2), abs=EXACT_TOL)
    assert np.linalg.norm(n1) == pytest.approx(np.linalg.norm(n0), abs=EXACT_TOL)
    mirror = (-1.0) ** np.arange(k) * n0[::-1]
    assert n1 @ mirror >= 0
    m0, m1, note = normalize_filters(n0, n1)
    np.testing.assert_allclose(m0, n0, atol=EXACT_TOL)
    np.testing.assert_allclose(m1, n1, atol=EXACT_TOL)
    assert note.startswith("already normalised")


def test_normalize_note_describes_the_scaling():
    _, _, note = normalize_filters([-2.0, -2.0], [1.0, -1.0])
    assert "scaled h0 by -0.3536 (sign flipped)" in note
    assert "sum h0 = sqrt 2" in note


def test_normalize_falls_back_to_unit_norm_without_dc_gain():
    """A zero-mean h0 cannot be read as a lowpass: scaled to unit norm, largest tap positive."""
    n0, n1, note = normalize_filters([1.0, -3.0, 2.0], [1.0, 1.0, 1.0])
    assert np.linalg.norm(n0) == pytest.approx(1.0)
    assert n0[1] > 0  # the largest-magnitude tap (-3) became positive
    assert np.linalg.norm(n1) == pytest.approx(1.0)
    assert "not a lowpass" in note
    m0, m1, _ = normalize_filters(n0, n1)
    np.testing.assert_allclose(m0, n0, atol=EXACT_TOL)
    np.testing.assert_allclose(m1, n1, atol=EXACT_TOL)


@pytest.mark.parametrize("h0, h1", [([0.0, 0.0], [1.0, -1.0]), ([1.0, 1.0], [0.0, 0.0])])
def test_normalize_rejects_zero_filters(h0, h1):
    with pytest.raises(ValueError, match="all zeros"):
        normalize_filters(h0, h1)


# --------------------------------------------------------------------------------------------
# cascade
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
@pytest.mark.parametrize("level", [3, 6])
def test_cascade_matches_pywt_wavefun(name, level):
    x, phi, psi = cascade(*wavelet_filters(name), level=level)
    phi_ref, psi_ref, x_ref = pywt.Wavelet(name).wavefun(level=level)
    np.testing.assert_allclose(x, x_ref, atol=EXACT_TOL)
    np.testing.assert_allclose(phi, phi_ref, atol=ORTHO_TOL)
    np.testing.assert_allclose(psi, psi_ref, atol=ORTHO_TOL)


def test_cascade_normalises_a_learned_pair_first():
    h0, h1 = wavelet_filters("db2")
    x, phi, psi = cascade(-4.0 * h0, 0.3 * h1, level=5)
    _, phi_ref, psi_ref = cascade(h0, h1, level=5)
    np.testing.assert_allclose(phi, phi_ref, atol=ORTHO_TOL)
    np.testing.assert_allclose(psi, psi_ref, atol=ORTHO_TOL)


def test_cascade_runs_for_a_random_pair():
    x, phi, psi = cascade(*random_pair(0), level=4)
    assert x.shape == phi.shape == psi.shape
    assert np.all(np.isfinite(phi)) and np.all(np.isfinite(psi))


@pytest.mark.parametrize("level", [0, 21, 2.0])
def test_cascade_rejects_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        cascade(*wavelet_filters("haar"), level=level)


# --------------------------------------------------------------------------------------------
# wavelet_family, wavelet_properties, family_gram
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
def test_family_gram_is_identity_for_orthogonal_wavelets(name):
    family = wavelet_family(name, levels=3, level=8)
    gram = family_gram(family)
    np.testing.assert_allclose(gram, np.eye(len(family.members)), atol=GRAM_TOL)


@pytest.mark.parametrize("name, levels", [("haar", 1), ("haar", 3), ("db2", 2), ("coif1", 3)])
def test_family_has_every_shift_that_fits(name, levels):
    family = wavelet_family(name, levels=levels, level=5)
    support = pywt.Wavelet(name).dec_len - 1
    expected = [(j, k) for j in range(levels) for k in range(support * (2**j - 1) + 1)]
    assert [(j, k) for j, k, _ in family.members] == expected
    assert family.support == support
    assert family.t[0] == 0 and family.t[-1] == support
    assert all(values.shape == family.t.shape for _, _, values in family.members)


def test_family_members_are_dilated_shifted_mother():
    family = wavelet_family("db2", levels=2, level=6)
    _, psi, x = pywt.Wavelet("db2").wavefun(level=6)
    np.testing.assert_allclose(family.psi, np.interp(family.t, x, psi), atol=EXACT_TOL)
    j, k, values = family.members[3]
    assert (j, k) == (1, 2)
    expected = math.sqrt(2) * np.interp(2 * family.t - 2, x, psi, left=0.0, right=0.0)
    np.testing.assert_allclose(values, expected, atol=EXACT_TOL)


@pytest.mark.parametrize("name", ORTHOGONAL_WAVELETS)
def test_wavelet_properties_zero_mean_unit_energy(name):
    p = wavelet_properties(name)
    assert p.psi_integral == pytest.approx(0.0, abs=INTEGRAL_TOL)
    assert p.psi_energy == pytest.approx(1.0, abs=INTEGRAL_TOL)
    assert p.phi_integral == pytest.approx(1.0, abs=INTEGRAL_TOL)
    assert p.vanishing_moments == pywt.Wavelet(name).vanishing_moments_psi
    assert [r["quantity"] for r in p.rows()][:2] == ["integral of psi", "integral of psi^2"]


@pytest.mark.parametrize("func", [wavelet_family, wavelet_properties])
@pytest.mark.parametrize(
    "name, match", [("bior2.2", "biorthogonal"), ("nope", "unknown wavelet"), ("morl", "unknown")]
)
def test_family_rejects_non_orthogonal_and_unknown(func, name, match):
    with pytest.raises(ValueError, match=match):
        func(name)


@pytest.mark.parametrize("kwargs", [{"levels": 0}, {"levels": 9}, {"level": 0}, {"level": 17}])
def test_wavelet_family_rejects_bad_levels(kwargs):
    with pytest.raises(ValueError, match="level"):
        wavelet_family("haar", **kwargs)
