"""Tests for multires.conv / multires.kernel: the FFT long-convolution path against the slow tree.

``MultiresConv.forward`` builds the composite kernel ``K`` and applies it with ``torch.fft``
(docs/design.md, section 6); ``forward_reference`` runs the level-by-level tree (section 1) and reads the
slots (section 2). They must agree in outputs *and* gradients.
"""

from __future__ import annotations

import pytest
import pywt
import torch
from torch.func import functional_call

from multires import kernel as kernel_module
from multires.conv import MultiresConv
from multires.kernel import _band_sum_kernel, causal_fft_conv, composite_kernel, slot_filters, synthesis_plan
from multires.tree import coefficient_tree
from multires.treeselect import Slot, default_depth, memory_slots, receptive_field

#: fast vs reference in float32, relative to the largest magnitude of the reference.
F32_RTOL = 1e-5
#: fast vs reference in float64.
F64_RTOL = 1e-10
#: float64 FFT leakage allowed before the perturbed time, relative to the perturbation.
CAUSAL_F64_RTOL = 1e-12
#: float32 FFT leakage allowed before the perturbed time, relative to the perturbation.
CAUSAL_F32_RTOL = 1e-5
SEED = 7

RULES = ["fading", "uniform", "learned"]
LEARNED_MEMORY = 5
#: Largest candidate lag of the learned layers here: enough candidates (~2 * 96) to prune from,
#: few enough that the slot-by-slot reference stays quick.
LEARNED_MAX_LAG = 96


def assert_rel_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float, what: str = "") -> None:
    """``max|actual - expected| <= rtol * max|expected|`` (a norm-wise relative error)."""
    assert actual.shape == expected.shape, what
    error = (actual - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert error <= rtol * scale, f"{what}: max error {error:.3e} > {rtol:g} * max |expected| {scale:.3e}"


def partial_uniform_memory(k: int) -> int:
    """A uniform ``M`` that fills ``a_J, b_J, b_{J-1}`` and cuts ``b_{J-2}`` (``3k-2`` slots) half way."""
    return 2 + k + (3 * k - 2) // 2


def make_conv(rule: str, k: int, n: int, channels: int = 3, seed: int = SEED) -> MultiresConv:
    """A random layer; for ``learned`` with random weights and a pruned mask of ``LEARNED_MEMORY`` slots."""
    torch.manual_seed(seed)
    memory = {"fading": None, "uniform": partial_uniform_memory(k), "learned": LEARNED_MEMORY}[rule]
    max_lag = LEARNED_MAX_LAG if rule == "learned" else None
    conv = MultiresConv(
        channels, kernel_size=k, tree_select=rule, memory_size=memory, seq_len=n, max_lag=max_lag
    )
    if rule == "learned":
        with torch.no_grad():
            conv.w.normal_()
        conv.select_top(LEARNED_MEMORY)
    return conv


def outputs_and_grads(conv: MultiresConv, forward, x: torch.Tensor, probe: torch.Tensor):
    x = x.detach().clone().requires_grad_(True)
    y = forward(x)
    grads = torch.autograd.grad((y * probe).sum(), [x, conv.h0, conv.h1, conv.w])
    return {"y": y.detach(), "dx": grads[0], "dh0": grads[1], "dh1": grads[2], "dw": grads[3]}


# --- fast path == reference -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [77, 300, 1000], ids=lambda n: f"N{n}")
@pytest.mark.parametrize("k", [2, 3, 4], ids=lambda k: f"k{k}")
@pytest.mark.parametrize("rule", RULES)
def test_fast_forward_matches_reference_outputs_and_gradients_float32(rule, k, n):
    conv = make_conv(rule, k, n)
    g = torch.Generator().manual_seed(SEED + n)
    x = torch.randn(2, 3, n, generator=g)
    probe = torch.randn(2, 3, n, generator=g)
    fast = outputs_and_grads(conv, conv.forward, x, probe)
    ref = outputs_and_grads(conv, conv.forward_reference, x, probe)
    for name in fast:
        assert_rel_close(fast[name], ref[name], F32_RTOL, name)


@pytest.mark.parametrize("n", [77, 300], ids=lambda n: f"N{n}")
@pytest.mark.parametrize("k", [2, 3, 4], ids=lambda k: f"k{k}")
@pytest.mark.parametrize("rule", RULES)
def test_fast_forward_matches_reference_float64(rule, k, n):
    conv = make_conv(rule, k, n).double()
    g = torch.Generator().manual_seed(SEED + n)
    x = torch.randn(2, 3, n, generator=g, dtype=torch.float64)
    probe = torch.randn(2, 3, n, generator=g, dtype=torch.float64)
    fast = outputs_and_grads(conv, conv.forward, x, probe)
    ref = outputs_and_grads(conv, conv.forward_reference, x, probe)
    for name in fast:
        assert_rel_close(fast[name], ref[name], F64_RTOL, name)


def test_partial_uniform_memory_really_cuts_a_level():
    for k in (2, 3, 4):
        depth = default_depth(300, k)
        slots = memory_slots("uniform", depth, k, partial_uniform_memory(k))
        cut = [s for s in slots if s.band == "detail" and s.level == depth - 2]
        assert 0 < len(cut) < 3 * k - 2, k


def test_learned_mask_keeps_memory_size_slots_per_channel():
    conv = make_conv("learned", 2, 77)
    assert conv.slot_mask.sum(dim=1).tolist() == [LEARNED_MEMORY] * 3


# --- the layer's properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 40, 119], ids=lambda t: f"t{t}")
@pytest.mark.parametrize("rule", RULES)
def test_causality_changing_x_t_never_changes_y_before_t(rule, t):
    conv = make_conv(rule, 3, 120).double()
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 3, 120, generator=g, dtype=torch.float64)
    bump = 1e6
    x2 = x.clone()
    x2[:, :, t] += bump
    with torch.no_grad():
        fast, fast2 = conv(x), conv(x2)
        ref, ref2 = conv.forward_reference(x), conv.forward_reference(x2)
    torch.testing.assert_close(ref2[..., :t], ref[..., :t], rtol=0, atol=0)  # direct convolution: exact
    leak = (fast2[..., :t] - fast[..., :t]).abs().max().item() if t else 0.0
    assert leak <= CAUSAL_F64_RTOL * bump
    with torch.no_grad():
        first_tap = conv.kernel()[:, 0]  # (C): the bump arrives at time t scaled by K[0]
    assert_rel_close(fast2[..., t] - fast[..., t], (first_tap * bump).expand(2, -1), F64_RTOL, "y[t] change")
    assert (fast2[..., t:] - fast[..., t:]).abs().max().item() > 1e-3 * bump


@pytest.mark.parametrize("rule", RULES)
def test_causality_float32_fast_path(rule):
    conv = make_conv(rule, 2, 1000)
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(1, 3, 1000, generator=g)
    x2 = x.clone()
    x2[:, :, 500] += 1e3
    with torch.no_grad():
        leak = (conv(x2)[..., :500] - conv(x)[..., :500]).abs().max().item()
    assert leak <= CAUSAL_F32_RTOL * 1e3


@pytest.mark.parametrize("rule", RULES)
def test_layer_is_linear(rule):
    conv = make_conv(rule, 2, 200).double()
    g = torch.Generator().manual_seed(SEED)
    x1 = torch.randn(2, 3, 200, generator=g, dtype=torch.float64)
    x2 = torch.randn(2, 3, 200, generator=g, dtype=torch.float64)
    with torch.no_grad():
        assert_rel_close(conv(2.5 * x1 - 0.5 * x2), 2.5 * conv(x1) - 0.5 * conv(x2), F64_RTOL, "linearity")


# --- the weight order contract -------------------------------------------------------------------------


def one_hot_cases():
    cases = []
    for rule, k, memory in [("fading", 2, None), ("uniform", 3, 9), ("uniform", 2, 8)]:
        depth = 3
        for index, slot in enumerate(memory_slots(rule, depth, k, memory)):
            cases.append(pytest.param(rule, k, memory, index, id=f"{rule}-k{k}-{slot}"))
    return cases


@pytest.mark.parametrize(("rule", "k", "memory", "index"), one_hot_cases())
def test_one_hot_weight_reads_that_slots_coefficient_at_its_lag(rule, k, memory, index):
    """``w = e_s`` gives ``y[n] = coeff_s[n - lag_s]``: the weight order is the slot order."""
    torch.manual_seed(SEED)
    conv = MultiresConv(2, depth=3, kernel_size=k, tree_select=rule, memory_size=memory).double()
    with torch.no_grad():
        conv.w.zero_()
        conv.w[:, index] = 1.0
    x = torch.randn(1, 2, 50, dtype=torch.float64)
    tree = coefficient_tree(x, conv.h0.detach(), conv.h1.detach(), depth=3)
    slot = conv.slots[index]
    coeff = tree.band(slot.band, slot.level)  # (1 2 N)
    expected = torch.nn.functional.pad(coeff, (slot.lag, 0))[..., :50]
    with torch.no_grad():
        assert_rel_close(conv(x), expected, F64_RTOL, str(slot))
        assert_rel_close(conv.forward_reference(x), expected, F64_RTOL, str(slot))


def test_last_weight_is_the_skip():
    conv = MultiresConv(2, depth=3).double()
    with torch.no_grad():
        conv.w.zero_()
        conv.w[:, -1] = 1.0
    x = torch.randn(3, 2, 40, dtype=torch.float64)
    with torch.no_grad():
        assert_rel_close(conv(x), x, F64_RTOL, "skip")


@pytest.mark.parametrize("rule", ["fading", "uniform"])
def test_kernel_is_the_weighted_sum_of_slot_filters_plus_skip_delta(rule):
    conv = make_conv(rule, 3, 100).double()
    with torch.no_grad():
        kernel = conv.kernel()  # (C L)
        filters = conv.slot_filters()  # (C S L)
        expected = torch.einsum("cs,csl->cl", conv.w[:, :-1], filters)
        expected[:, 0] += conv.w[:, -1]
    assert kernel.shape[-1] == receptive_field(conv.depth, 3) + max(s.lag for s in conv.slots)
    assert_rel_close(kernel, expected, F64_RTOL, "kernel")


@pytest.mark.parametrize(
    "lags",
    [[0, 4, 8], [3, 9, 6], [5, 5], [0, 0], [2, 7, 13], [16, 0, 48]],
    ids=["grid", "unsorted-offset-grid", "duplicate", "duplicate-zero", "coprime", "sparse"],
)
def test_composite_kernel_with_arbitrary_lags_matches_slot_filters(lags):
    """The comb path of ``composite_kernel`` for several slots of one band, any lags (even repeated)."""
    g = torch.Generator().manual_seed(SEED)
    h0 = torch.randn(2, 3, generator=g, dtype=torch.float64)
    h1 = torch.randn(2, 3, generator=g, dtype=torch.float64)
    slots = [Slot("detail", 2, lag) for lag in lags] + [Slot("approx", 3, 1), Slot("detail", 3, lags[0])]
    w = torch.randn(2, len(slots) + 1, generator=g, dtype=torch.float64)
    expected = torch.einsum("cs,csl->cl", w[:, :-1], slot_filters(h0, h1, slots, 3))
    expected[:, 0] += w[:, -1]
    assert_rel_close(composite_kernel(h0, h1, w, slots, 3), expected, F64_RTOL, str(lags))


def random_grid_slots(depth: int, count: int, generator: torch.Generator) -> list[Slot]:
    """``count`` random slots whose lags lie on their level's grid (multiples of ``2**(level-1)``)."""
    slots = []
    for _ in range(count):
        level = int(torch.randint(1, depth + 1, (1,), generator=generator))
        band = "approx" if level == depth and bool(torch.rand(1, generator=generator) < 0.3) else "detail"
        slots.append(Slot(band, level, 2 ** (level - 1) * int(torch.randint(0, 6, (1,), generator=generator))))
    return slots


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("depth", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_synthesis_kernel_equals_the_band_sum_with_gradients(k, depth, seed):
    """Horner's rule over the levels (the fast path) == the sum of shifted band responses, any grid slots."""
    g = torch.Generator().manual_seed(seed)
    slots = random_grid_slots(depth, 9, g)  # repeats and any order included
    h0, h1 = (torch.randn(3, k, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2))
    w = torch.randn(3, len(slots) + 1, generator=g, dtype=torch.float64, requires_grad=True)
    plan = synthesis_plan(slots, depth, k)
    assert plan is not None
    fast = composite_kernel(h0, h1, w, slots, depth, plan=plan)
    slow = _band_sum_kernel(h0, h1, w, slots, depth)
    assert_rel_close(fast, slow, F64_RTOL, "kernel")
    probe = torch.randn(slow.shape, generator=g, dtype=torch.float64)
    for a, b, name in zip(torch.autograd.grad((fast * probe).sum(), [h0, h1, w]),
                          torch.autograd.grad((slow * probe).sum(), [h0, h1, w]), ["h0", "h1", "w"]):
        assert_rel_close(a, b, F64_RTOL, name)


def test_synthesis_kernel_gradcheck():
    g = torch.Generator().manual_seed(SEED)
    slots = [Slot("approx", 3, 4), Slot("detail", 3, 0), Slot("detail", 2, 2), Slot("detail", 1, 3)]
    h0, h1 = (torch.randn(2, 3, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2))
    w = torch.randn(2, len(slots) + 1, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: composite_kernel(a, b, c, slots, 3), (h0, h1, w))


@pytest.mark.parametrize(
    ("slot", "on_grid"),
    [(Slot("detail", 1, 3), True), (Slot("detail", 3, 4), True), (Slot("detail", 3, 2), False),
     (Slot("approx", 4, 8), True), (Slot("approx", 4, 12), False)],
    ids=str,
)
def test_synthesis_plan_needs_lags_on_the_level_grid(slot, on_grid):
    assert (synthesis_plan([Slot("detail", 2, 0), slot], 4, 2) is not None) is on_grid


@pytest.mark.parametrize("keep_bytes", [0, 2**40], ids=["recomputed", "kept"])
def test_fft_conv_backward_is_the_same_whether_rfft_x_is_kept_or_recomputed(keep_bytes, monkeypatch):
    monkeypatch.setattr(kernel_module, "KEEP_SPECTRUM_BYTES", keep_bytes)
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 2, 9, generator=g, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(2, 6, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(causal_fft_conv, (x, kernel))


def test_slot_importance_is_weight_times_slot_filter_norm():
    conv = make_conv("learned", 3, 200).double()
    with torch.no_grad():
        expected = conv.w[:, :-1].abs() * conv.slot_filters().norm(dim=-1)
    assert_rel_close(conv.slot_importance(), expected, F64_RTOL, "importance")


def test_kernel_is_the_impulse_response():
    conv = make_conv("uniform", 2, 64).double()
    with torch.no_grad():
        kernel = conv.kernel()
        delta = torch.zeros(1, 3, kernel.shape[-1], dtype=torch.float64)
        delta[..., 0] = 1.0
        assert_rel_close(conv.forward_reference(delta)[0], kernel, F64_RTOL, "impulse response")


@pytest.mark.parametrize("n", [1, 5, 64, 65, 1000], ids=lambda n: f"N{n}")
def test_causal_fft_conv_matches_direct_convolution(n):
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 3, n, generator=g, dtype=torch.float64)
    kernel = torch.randn(3, 37, generator=g, dtype=torch.float64)
    direct = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, (36, 0)), kernel.flip(-1).unsqueeze(1), groups=3
    )
    assert_rel_close(causal_fft_conv(x, kernel), direct, F64_RTOL, "fft conv")


@pytest.mark.parametrize(
    ("n", "kernel_len"), [(1, 1), (9, 4), (9, 9), (9, 15)], ids=["N1-L1", "short", "equal", "long"]
)
def test_causal_fft_conv_gradcheck(n, kernel_len):
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 2, n, generator=g, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(2, kernel_len, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(causal_fft_conv, (x, kernel))


def test_causal_fft_conv_promotes_mixed_dtypes():
    x = torch.randn(1, 2, 10, dtype=torch.float64)
    kernel = torch.randn(2, 3, dtype=torch.float32)
    assert causal_fft_conv(x, kernel).dtype == torch.float64
    assert causal_fft_conv(x.float(), kernel.double()).dtype == torch.float64


def test_composite_kernel_rejects_wrong_weight_shape():
    slots = memory_slots("fading", 3, 2)
    h = torch.ones(4, 2)
    with pytest.raises(ValueError, match=r"w must be \(channels, n_slots \+ 1\)"):
        composite_kernel(h, h, torch.ones(4, len(slots)), slots, 3)


def test_slot_filters_shape():
    slots = memory_slots("uniform", 3, 2, 8)
    h = torch.ones(4, 2)
    assert slot_filters(h, h, slots, 3).shape == (4, 8, 8 + 6)


# --- constructor ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haar", "db2", "sym4", "coif1"])
def test_wavelet_sets_kernel_size_and_filters(name):
    conv = MultiresConv(3, depth=4, wavelet=name, kernel_size=2)
    w = pywt.Wavelet(name)
    assert conv.kernel_size == w.dec_len
    assert conv.h0.shape == conv.h1.shape == (3, w.dec_len)
    expected_lo = torch.tensor(w.dec_lo[::-1], dtype=torch.float32).expand(3, -1)
    expected_hi = torch.tensor(w.dec_hi[::-1], dtype=torch.float32).expand(3, -1)
    torch.testing.assert_close(conv.h0.detach(), expected_lo, rtol=0, atol=0)
    torch.testing.assert_close(conv.h1.detach(), expected_hi, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("kwargs", "depth"),
    [
        ({"seq_len": 1024}, 10),
        ({"seq_len": 1024, "kernel_size": 4}, 9),
        ({"seq_len": 1024, "wavelet": "db2"}, 9),
        ({"seq_len": 64}, 6),
        ({"seq_len": 1024, "depth": 3}, 3),
    ],
    ids=["N1024-k2", "N1024-k4", "N1024-db2", "N64", "explicit-depth-wins"],
)
def test_depth_from_seq_len(kwargs, depth):
    assert MultiresConv(2, **kwargs).depth == depth


@pytest.mark.parametrize(
    ("rule", "memory", "n_weights"),
    [("fading", None, 5 + 1), ("uniform", 7, 7 + 1), ("uniform", 16, 16 + 1)],
    ids=["fading", "uniform-7", "uniform-full"],
)
def test_parameter_shapes(rule, memory, n_weights):
    conv = MultiresConv(6, depth=4, tree_select=rule, memory_size=memory)
    assert conv.h0.shape == conv.h1.shape == (6, 2)
    assert conv.w.shape == (6, n_weights)
    assert conv.n_slots == n_weights - 1


@pytest.mark.parametrize("rule", ["fading", "uniform"])
def test_gradcheck_tiny_double(rule):
    memory = 5 if rule == "uniform" else None
    torch.manual_seed(SEED)
    conv = MultiresConv(2, depth=3, kernel_size=3, tree_select=rule, memory_size=memory).double()
    x = torch.randn(1, 2, 9, dtype=torch.float64, requires_grad=True)
    params = {name: p.detach().clone().requires_grad_(True) for name, p in conv.named_parameters()}

    def run(x, h0, h1, w):
        return functional_call(conv, {"h0": h0, "h1": h1, "w": w}, (x,))

    assert torch.autograd.gradcheck(run, (x, params["h0"], params["h1"], params["w"]))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: MultiresConv(2, depth=3)(torch.zeros(2, 8)),
            r"input must be a tensor \(batch, channels, length\)",
        ),
        (
            lambda: MultiresConv(2, depth=3)(torch.zeros(1, 3, 8)),
            r"input has 3 channels, the layer expects 2",
        ),
        (
            lambda: MultiresConv(2, depth=3).forward_reference(torch.zeros(1, 2, 3, 8)),
            r"input must be a tensor",
        ),
        (lambda: MultiresConv(2, depth=3)(torch.zeros(1, 2, 0)), r"input sequence is empty"),
        (lambda: MultiresConv(2, depth=3, wavelet="haar2"), r"unknown wavelet 'haar2'.*pywt\.wavelist"),
        (lambda: MultiresConv(2, depth=3, wavelet="morl"), r"unknown wavelet 'morl'.*pywt\.wavelist"),
        (lambda: MultiresConv(2, depth=3, tree_select="uniform"), r"needs memory_size"),
        (lambda: MultiresConv(2, depth=3, tree_select="uniform", memory_size=9), r"at most 8"),
        (lambda: MultiresConv(2, depth=3, tree_select="best"), r"tree_select must be one of"),
        (lambda: MultiresConv(2), r"give depth, or seq_len"),
        (lambda: MultiresConv(2, depth=0), r"depth must be a positive integer"),
        (lambda: MultiresConv(0, depth=3), r"channels must be a positive integer"),
        (lambda: MultiresConv(2, depth=3, kernel_size=1), r"kernel_size must be an integer >= 2"),
        (lambda: MultiresConv(2, depth=3).select_top(2), r"select_top only applies"),
        (lambda: MultiresConv(2, depth=3).kept_slots(2), r"channel must be in 0..1"),
    ],
    ids=[
        "input-rank-2",
        "wrong-channels",
        "reference-input-rank-4",
        "empty-input",
        "unknown-wavelet",
        "continuous-wavelet",
        "uniform-without-memory",
        "memory-too-large",
        "unknown-rule",
        "neither-depth-nor-seq-len",
        "depth-zero",
        "channels-zero",
        "kernel-size-one",
        "select-top-not-learned",
        "kept-slots-bad-channel",
    ],
)
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- budget counting and compaction ----------------------------------------------------------------


@pytest.mark.parametrize("rule", ["fading", "uniform"])
def test_hand_made_rules_read_the_same_slots_in_every_channel(rule):
    conv = make_conv(rule, 2, 64, channels=5)
    assert conv.slots_per_channel() == conv.distinct_slots() == len(conv.slots)


def test_learned_distinct_slots_count_the_union_over_channels():
    conv = make_conv("learned", 2, 64, channels=4)
    union = {s for c in range(4) for s in conv.kept_slots(c)}
    assert conv.slots_per_channel() == LEARNED_MEMORY
    assert conv.distinct_slots() == len(union)
    assert LEARNED_MEMORY <= len(union) <= 4 * LEARNED_MEMORY


def test_learned_channels_that_agree_count_once():
    conv = MultiresConv(3, depth=4, tree_select="learned", memory_size=3)
    conv.slot_mask.zero_()
    conv.slot_mask[:, :3] = True
    assert conv.distinct_slots() == 3


@pytest.mark.parametrize("k", [2, 3])
def test_compact_keeps_outputs_bit_identical_and_drops_unused_candidates(k):
    conv = make_conv("learned", k, 200, channels=4)
    x = torch.randn(2, 4, 200, generator=torch.Generator().manual_seed(SEED))
    kept = [conv.kept_weights(c) for c in range(4)]
    with torch.no_grad():
        before = conv(x)
    n_before = len(conv.slots)
    conv.compact()
    assert len(conv.slots) == conv.distinct_slots() < n_before
    assert conv.w.shape == (4, len(conv.slots) + 1) and conv.slot_mask.shape == (4, len(conv.slots))
    with torch.no_grad():
        assert torch.equal(conv(x), before)
    for c in range(4):
        slots, weights = conv.kept_weights(c)
        assert slots == kept[c][0] and torch.equal(weights, kept[c][1])


@pytest.mark.parametrize(
    ("slots", "match"),
    [
        ([Slot("approx", 2, 0), Slot("detail", 1, 0), Slot("detail", 1, 2)], r"outside a depth-3 tree.*\['a2\[n\]'\]"),
        ([Slot("detail", 3, 0), Slot("detail", 2, 0), Slot("detail", 1, 2**40)], r"lags 0\.\.7: \['b1\[n-1099511627776\]'\]"),
        ([Slot("detail", 1, 0), Slot("detail", 3, 0), Slot("detail", 2, 0)], "in weight order"),
        ([Slot("detail", 3, 0), Slot("detail", 3, 0), Slot("detail", 2, 0)], "unique"),
        ([Slot("detail", 3, 0), Slot("detail", 2, 0)], "cannot hold memory_size=3"),
    ],
    ids=["approx-not-at-J", "lag-beyond-the-menu", "order", "duplicate", "too-few"],
)
def test_use_candidates_refuses_bad_menus(slots, match):
    conv = MultiresConv(2, depth=3, tree_select="learned", memory_size=3)
    with pytest.raises(ValueError, match=match):
        conv.use_candidates(slots)


@pytest.mark.parametrize("method", ["compact", "use_candidates"])
def test_compaction_is_for_learned_layers_only(method):
    conv = MultiresConv(2, depth=3)
    with pytest.raises(ValueError, match="only applies to tree_select='learned'"):
        getattr(conv, method)(*([conv.slots] if method == "use_candidates" else []))
