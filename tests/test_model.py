"""Tests for multires.model: ModelConfig (JSON contract) and MultiresNet (shapes, readouts, selection)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from multires.config import MODEL_PRESETS, ModelConfig
from multires.conv import MultiresConv
from multires.model import MultiresNet
from multires.options import CONFIG_LIMITS
from multires.wavelets import wavelet_filters

#: float64 FFT leakage allowed before a perturbed time step, relative to the perturbation.
CAUSAL_F64_RTOL = 1e-12
#: float32 readouts vs the parameters they come from.
READOUT_ATOL = 0.0
SEED = 99


def seeded_net(**fields) -> MultiresNet:
    torch.manual_seed(SEED)
    return MultiresNet(ModelConfig(**fields))


# --- ModelConfig ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {
            "d_input": 3,
            "d_output": 2,
            "d_model": 16,
            "n_layers": 3,
            "seq_len": 300,
            "kernel_size": 4,
            "depth": 5,
            "tree_select": "uniform",
            "memory_size": 12,
            "wavelet": None,
            "dropout": 0.1,
            "norm": "layer",
            "head": "sequence",
            "dropout_mode": "channel",
            "init": "paper",
            "indep_res_init": True,
        },
        {"tree_select": "learned", "memory_size": 6, "max_lag": 40, "wavelet": "db2", "head": "last"},
    ],
    ids=["defaults", "every-field", "learned"],
)
def test_config_json_round_trip(fields):
    config = ModelConfig(**fields)
    text = config.to_json()
    assert json.loads(text) == asdict(config)
    again = ModelConfig.from_json(text)
    assert again == config
    assert again.to_json() == text


def test_rebuilt_network_from_json_reproduces_outputs():
    net = seeded_net(d_model=8, seq_len=32, norm="layer").eval()
    copy = MultiresNet(ModelConfig.from_json(net.config.to_json())).eval()
    copy.load_state_dict(net.state_dict())
    x = torch.randn(2, 1, 32)
    torch.testing.assert_close(copy(x), net(x), rtol=0, atol=0)


def test_resolved_depth_and_kernel_size():
    assert ModelConfig(seq_len=1024, wavelet="db2").resolved_kernel_size == 4
    assert ModelConfig(seq_len=1024, wavelet="db2").resolved_depth == 9
    assert ModelConfig(seq_len=1024, wavelet=None, kernel_size=2).resolved_depth == 10
    assert ModelConfig(seq_len=1024, depth=4).resolved_depth == 4


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"d_model": 32, "learning_rate": 0.1}, r"unknown model config fields \['learning_rate'\]"),
        ({"d_model": 0}, r"d_model must be an integer in 1\.\.512, got 0"),
        ({"d_model": CONFIG_LIMITS["d_model"] + 1}, r"d_model must be an integer in 1\.\.512"),
        ({"n_layers": 17}, r"n_layers must be an integer in 1\.\.16"),
        ({"seq_len": 10**9}, r"seq_len must be an integer"),
        ({"kernel_size": 1}, r"kernel_size must be an integer in 2\.\.16"),
        ({"depth": 0}, r"depth must be an integer in 1\.\.16"),
        ({"d_model": 2.5}, r"d_model must be an integer"),
        ({"d_model": True}, r"d_model must be an integer"),
        ({"memory_size": -1, "tree_select": "uniform"}, r"memory_size must be an integer"),
        ({"max_lag": -1}, r"max_lag must be an integer in 0\.\."),
        ({"tree_select": "greedy"}, r"tree_select must be one of"),
        ({"tree_select": "uniform"}, r"needs memory_size"),
        ({"wavelet": "nope"}, r"unknown wavelet 'nope'"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"dropout": -0.1}, r"dropout must be in \[0, 1\)"),
        ({"norm": "group"}, r"norm must be one of \('batch', 'layer'\)"),
        ({"head": "max"}, r"head must be one of \('pool', 'last', 'sequence'\)"),
    ],
    ids=[
        "unknown-field",
        "d-model-zero",
        "d-model-too-large",
        "n-layers-too-large",
        "seq-len-too-large",
        "kernel-size-one",
        "depth-zero",
        "float-int",
        "bool-int",
        "memory-size-negative",
        "max-lag-negative",
        "unknown-tree-select",
        "uniform-without-memory",
        "unknown-wavelet",
        "dropout-one",
        "dropout-negative",
        "unknown-norm",
        "unknown-head",
    ],
)
def test_bad_config_raises_value_error(data, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig.from_dict(data)
    with pytest.raises(ValueError, match=match):
        ModelConfig.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "match"),
    [("{not json", r"not valid JSON"), ("[1, 2]", r"must be a JSON object, got list")],
    ids=["invalid-json", "not-an-object"],
)
def test_bad_config_text_raises_value_error(text, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig.from_json(text)


def test_mutated_config_is_rejected_by_the_network():
    config = ModelConfig()
    config.d_model = 0
    with pytest.raises(ValueError, match=r"d_model must be an integer"):
        MultiresNet(config)


# --- MultiresNet ------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize(
    ("head", "shape"),
    [("pool", (3, 5)), ("last", (3, 5)), ("sequence", (3, 5, 40))],
    ids=["pool", "last", "sequence"],
)
def test_output_shapes(head, shape, norm):
    net = seeded_net(d_input=2, d_output=5, d_model=8, n_layers=2, seq_len=40, head=head, norm=norm)
    x = torch.randn(3, 2, 40)
    assert net(x).shape == shape
    net.eval()
    assert net(x).shape == shape


def test_input_shape_is_checked():
    net = seeded_net(d_input=2, d_model=8, seq_len=16)
    with pytest.raises(ValueError, match=r"input must be \(batch, 2, length\)"):
        net(torch.randn(3, 1, 16))


@pytest.mark.parametrize("tree_select", ["fading", "uniform", "learned"])
def test_filters_memory_and_kernel_readouts_match_parameters(tree_select):
    memory = None if tree_select == "fading" else 6
    net = seeded_net(
        d_model=4, n_layers=2, seq_len=64, tree_select=tree_select, memory_size=memory, wavelet=None
    )
    if tree_select == "learned":
        net.update_selection(1.0)
    for layer, conv in enumerate(net.convs):
        for channel in (0, 3):
            h0, h1 = net.filters(layer, channel)
            assert h0.dtype == np.float64 and h0.shape == (conv.kernel_size,)
            np.testing.assert_allclose(h0, conv.h0[channel].detach().numpy(), rtol=0, atol=READOUT_ATOL)
            np.testing.assert_allclose(h1, conv.h1[channel].detach().numpy(), rtol=0, atol=READOUT_ATOL)
            slots, weights = net.memory(layer, channel)
            kept = conv.slot_mask[channel]
            assert slots == [s for s, keep in zip(conv.slots, kept.tolist()) if keep]
            assert len(slots) == conv.n_slots
            expected = torch.cat([conv.w[channel, :-1][kept], conv.w[channel, -1:]]).detach().numpy()
            np.testing.assert_allclose(weights, expected, rtol=0, atol=READOUT_ATOL)
            np.testing.assert_allclose(
                net.kernel(layer, channel), conv.kernel()[channel].detach().numpy(), rtol=0, atol=READOUT_ATOL
            )


def test_readouts_are_copies():
    net = seeded_net(d_model=4, seq_len=16)
    h0, _ = net.filters(0, 0)
    h0[:] = 123.0
    assert float(net.convs[0].h0[0, 0].detach()) != 123.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda net: net.filters(2, 0), r"layer must be in 0\.\.1"),
        (lambda net: net.filters(0, 4), r"channel must be in 0\.\.3"),
        (lambda net: net.memory(-1, 0), r"layer must be in 0\.\.1"),
        (lambda net: net.memory(0, 9), r"channel must be in 0\.\.3"),
        (lambda net: net.kernel(5, 0), r"layer must be in 0\.\.1"),
    ],
    ids=["filters-layer", "filters-channel", "memory-layer", "memory-channel", "kernel-layer"],
)
def test_readout_arguments_are_checked(call, match):
    net = seeded_net(d_model=4, n_layers=2, seq_len=16)
    with pytest.raises(ValueError, match=match):
        call(net)


@pytest.mark.parametrize("t", [0, 20, 47], ids=lambda t: f"t{t}")
@pytest.mark.parametrize("tree_select", ["fading", "uniform"])
def test_sequence_head_with_layer_norm_is_causal_in_eval_mode(tree_select, t):
    memory = 10 if tree_select == "uniform" else None
    net = (
        seeded_net(
            d_input=2,
            d_output=3,
            d_model=8,
            n_layers=2,
            seq_len=48,
            head="sequence",
            norm="layer",
            tree_select=tree_select,
            memory_size=memory,
        )
        .double()
        .eval()
    )
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(2, 2, 48, generator=g, dtype=torch.float64)
    bump = 1e3
    x2 = x.clone()
    x2[:, :, t] += bump
    with torch.no_grad():
        y, y2 = net(x), net(x2)  # (B d_output N)
    leak = (y2[..., :t] - y[..., :t]).abs().max().item() if t else 0.0
    assert leak <= CAUSAL_F64_RTOL * bump
    assert (y2[..., t] - y[..., t]).abs().max().item() > 1e-6  # the change does arrive at t


# --- learned selection --------------------------------------------------------------------------


def test_update_selection_is_a_no_op_for_fixed_rules():
    net = seeded_net(d_model=4, seq_len=32, tree_select="uniform", memory_size=5)
    net.update_selection(1.0)
    for conv in net.convs:
        assert bool(conv.slot_mask.all())


def test_update_selection_shrinks_monotonically_to_memory_size():
    memory = 5
    net = seeded_net(d_model=6, n_layers=2, seq_len=64, tree_select="learned", memory_size=memory)
    g = torch.Generator().manual_seed(SEED)
    previous = [conv.slot_mask.clone() for conv in net.convs]
    n_candidates = len(net.convs[0].slots)
    assert n_candidates > memory
    for progress in np.linspace(0.0, 1.0, 21):
        with torch.no_grad():  # stand-in for training: the weights keep moving between updates
            for conv in net.convs:
                conv.w.add_(0.5 * torch.randn(conv.w.shape, generator=g))
        net.update_selection(float(progress))
        for layer, conv in enumerate(net.convs):
            kept = conv.slot_mask.sum(dim=1)
            expected = min(conv.prune_schedule(float(progress)), int(previous[layer].sum(dim=1).min()))
            assert kept.tolist() == [expected] * conv.channels, f"progress {progress:.2f}, layer {layer}"
            regrown = conv.slot_mask & ~previous[layer]
            assert not bool(regrown.any()), (
                f"a pruned slot came back at progress {progress:.2f}, layer {layer}"
            )
            previous[layer] = conv.slot_mask.clone()
    for conv in net.convs:
        assert conv.slot_mask.sum(dim=1).tolist() == [memory] * conv.channels
        assert conv.n_slots == memory


def test_prune_schedule_reaches_memory_size_at_prune_end():
    net = seeded_net(d_model=2, seq_len=64, tree_select="learned", memory_size=4)
    conv = net.convs[0]
    assert conv.prune_schedule(0.0) == len(conv.slots)
    assert conv.prune_schedule(conv.PRUNE_END) == 4
    assert conv.prune_schedule(1.0) == 4
    counts = [conv.prune_schedule(p) for p in np.linspace(0, 1, 50)]
    assert counts == sorted(counts, reverse=True)


def test_pruned_slots_do_not_contribute():
    net = seeded_net(d_model=3, seq_len=32, tree_select="learned", memory_size=3, max_lag=16)
    net.update_selection(1.0)
    conv = net.convs[0].double()
    with torch.no_grad():
        before = conv.kernel()
        conv.w[:, :-1][~conv.slot_mask] += 100.0  # move only the pruned weights
        torch.testing.assert_close(conv.kernel(), before, rtol=0, atol=0)


# --- the paper preset (official classification network, thjashin/multires-conv) ------------------

#: Relative tolerance of an empirical standard deviation over ~10^5 uniform draws (its own
#: relative standard error is about 0.3 %).
INIT_STD_RTOL = 0.02


def test_paper_preset_sets_the_official_architecture_fields():
    config = ModelConfig.from_preset("paper", d_model=8, seq_len=64)
    assert MODEL_PRESETS["paper"] == {"norm": "layer", "dropout_mode": "channel", "dropout": 0.1, "init": "paper",
                                      "indep_res_init": False, "wavelet": None, "kernel_size": 2, "head": "pool"}
    assert (config.norm, config.dropout_mode, config.init, config.head) == ("layer", "channel", "paper", "pool")
    assert ModelConfig.from_json(config.to_json()) == config


def test_paper_preset_overrides_and_unknown_names():
    assert ModelConfig.from_preset("paper", dropout=0.25, wavelet="haar").dropout == 0.25
    with pytest.raises(ValueError, match=r"unknown model preset 'papr'; known presets: \['paper'\]"):
        ModelConfig.from_preset("papr")
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_preset("paper", drop=0.1)


def test_paper_network_structure_matches_the_official_block():
    net = seeded_net(**{**MODEL_PRESETS["paper"], "d_model": 8, "n_layers": 2, "seq_len": 64})
    # official: encoder Conv1d; per block MultiresLayer (conv, GELU, Dropout1d), Conv1d -> GLU ->
    # Dropout1d, residual, LayerNorm over channels (post-norm); mean pooling; Linear decoder.
    assert isinstance(net.encoder, torch.nn.Conv1d) and net.encoder.kernel_size == (1,)
    for layer, mixer, norm in zip(net.layers, net.mixers, net.norms):
        assert [type(m) for m in layer.children()] == [MultiresConv, torch.nn.Dropout1d]
        assert isinstance(mixer, torch.nn.Conv1d) and mixer.out_channels == 2 * mixer.in_channels
        assert isinstance(norm.norm, torch.nn.LayerNorm) and norm.norm.normalized_shape == (8,)
    assert type(net.dropout) is torch.nn.Dropout1d and net.dropout.p == 0.1
    assert isinstance(net.decoder, torch.nn.Linear)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules())


def test_channel_dropout_zeroes_whole_channels():
    net = seeded_net(d_model=64, seq_len=32, dropout=0.5, dropout_mode="channel").train()
    h = torch.ones(4, 64, 32)
    dropped = net.layers[0].dropout(h)
    per_channel = dropped.eq(0).all(dim=-1) | dropped.eq(2).all(dim=-1)  # (B H): all zero or all 1/(1-p)
    assert bool(per_channel.all())
    assert 0 < int(dropped.eq(0).all(dim=-1).sum()) < 4 * 64


def test_default_config_keeps_element_dropout_and_batchnorm():
    net = seeded_net(dropout=0.2)
    assert type(net.dropout) is torch.nn.Dropout and type(net.layers[0].dropout) is torch.nn.Dropout
    assert isinstance(net.norms[0], torch.nn.BatchNorm1d)


def test_config_without_the_new_fields_loads_with_the_old_behaviour():
    old = json.loads(ModelConfig().to_json())
    for name in ("dropout_mode", "init", "indep_res_init"):
        del old[name]
    config = ModelConfig.from_dict(old)
    assert (config.dropout_mode, config.init, config.indep_res_init) == ("element", "default", False)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"dropout_mode": "spatial"}, r"dropout_mode must be one of \('element', 'channel'\)"),
        ({"init": "xavier"}, r"init must be one of \('default', 'paper'\)"),
        ({"indep_res_init": 1}, r"indep_res_init must be true or false"),
    ],
    ids=["dropout-mode", "init", "indep-res-init"],
)
def test_new_fields_are_validated(fields, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**fields)


def _uniform_std(half_width: float) -> float:
    return half_width / np.sqrt(3.0)


@pytest.mark.parametrize("kernel_size", [2, 4], ids=lambda k: f"k{k}")
def test_paper_init_scales_of_h0_h1_w(kernel_size):
    channels, depth = 20000, 5
    torch.manual_seed(SEED)
    conv = MultiresConv(channels, depth=depth, kernel_size=kernel_size, init="paper")
    m = depth + 1
    # official: h ~ U(-1, 1) * sqrt(2 / (2k)), w ~ U(-1, 1) * sqrt(2 / (2m + 2))
    h_bound, w_bound = np.sqrt(2.0 / (2 * kernel_size)), np.sqrt(2.0 / (2 * m + 2))
    for name, values, bound in (("h0", conv.h0, h_bound), ("h1", conv.h1, h_bound), ("w", conv.w, w_bound)):
        values = values.detach().double()
        assert float(values.abs().max()) <= bound, name
        assert float(values.std()) == pytest.approx(_uniform_std(bound), rel=INIT_STD_RTOL), name
        assert abs(float(values.mean())) < 0.02 * bound, name


def test_paper_init_with_indep_res_init_draws_the_skip_weight_from_unit_uniform():
    torch.manual_seed(SEED)
    conv = MultiresConv(20000, depth=4, tree_select="uniform", memory_size=6, init="paper", indep_res_init=True)
    skip, memory = conv.w[:, -1].detach().double(), conv.w[:, :-1].detach().double()
    assert float(skip.std()) == pytest.approx(_uniform_std(1.0), rel=INIT_STD_RTOL)
    assert float(skip.abs().max()) <= 1.0
    assert float(memory.std()) == pytest.approx(_uniform_std(np.sqrt(2.0 / (2 * 6 + 2))), rel=INIT_STD_RTOL)


def test_default_init_scales_differ_from_the_papers():
    torch.manual_seed(SEED)
    conv = MultiresConv(20000, depth=5, kernel_size=2)
    assert float(conv.h0.detach().double().std()) == pytest.approx(_uniform_std(np.sqrt(3.0 / 2)), rel=INIT_STD_RTOL)
    assert float(conv.w.detach().double().std()) == pytest.approx(np.sqrt(2.0 / 7), rel=INIT_STD_RTOL)


@pytest.mark.parametrize("wavelet", ["haar", "db2"])
def test_paper_init_with_a_wavelet_keeps_its_exact_taps(wavelet):
    torch.manual_seed(SEED)
    conv = MultiresConv(16, depth=4, wavelet=wavelet, init="paper")
    lo, hi = wavelet_filters(wavelet)
    assert torch.equal(conv.h0, torch.tensor(lo, dtype=torch.float32).repeat(16, 1))
    assert torch.equal(conv.h1, torch.tensor(hi, dtype=torch.float32).repeat(16, 1))


# --- learned selection stays bounded at long lengths -------------------------------------------


@pytest.mark.parametrize("seq_len", [64, 1460], ids=lambda n: f"N{n}")
def test_learned_parameters_within_three_times_fadings_at_equal_memory(seq_len):
    fading = seeded_net(d_model=32, seq_len=seq_len)
    depth = fading.convs[0].depth
    learned = seeded_net(d_model=32, seq_len=seq_len, tree_select="learned", memory_size=depth + 1)
    conv_params = [sum(p.numel() for p in net.convs[0].parameters()) for net in (fading, learned)]
    assert conv_params[1] <= 3 * conv_params[0]
    assert learned.n_parameters() <= 3 * fading.n_parameters()


def test_learned_parameters_no_longer_grow_with_the_receptive_field():
    sizes = [sum(p.numel() for p in seeded_net(d_model=4, seq_len=n, tree_select="learned",
                                                memory_size=8).convs[0].parameters()) for n in (256, 4096, 65536)]
    assert sizes[2] - sizes[0] <= 4 * 3 * 8  # a few bands more (3 lags each), not 256x more weights
