"""Checkpoints: bit-identical round trips, and every kind of bad file refused with CheckpointError
before anything is unpickled, allocated or built."""

from __future__ import annotations

import copy
import json
import pickle
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import multires.checkpoint.io as checkpoint_module
from conftest import rewrite_checkpoint
from multires import ModelConfig
from multires.checkpoint import (
    FORMAT,
    MAX_HEADER_BYTES,
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
    save_run,
)
from multires.model import build_model
from multires.treeselect import candidate_slots

CONFIGS = {
    "fading": ModelConfig(d_model=6, n_layers=2, seq_len=64),
    "uniform": ModelConfig(d_model=6, n_layers=2, seq_len=64, tree_select="uniform", memory_size=8,
                           wavelet="db2", norm="layer"),
    "learned": ModelConfig(d_model=6, n_layers=3, seq_len=64, tree_select="learned", memory_size=5,
                           wavelet=None, kernel_size=3, head="last", d_output=4),
}
METRICS = {"task": "digits", "test_accuracy": 0.875, "history": {"loss": [2.3, 1.1, float("nan")]}}


def _model(kind: str):
    """A model whose every tensor differs from a fresh build (so a round trip proves something)."""
    net = build_model(CONFIGS[kind], seed=11)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.1)
        for name, buffer in net.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn(buffer.shape, generator=generator))
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)
            elif name.endswith("num_batches_tracked"):
                buffer.fill_(17)
    net.update_selection(1.0)  # learned: exactly memory_size slots per channel
    return net.eval()


@pytest.fixture(scope="module")
def saved() -> bytes:
    return checkpoint_bytes(_model("fading"), METRICS)


def _compacted(net):
    """A copy of ``net`` whose learned layers keep only the slots some channel uses (what is stored)."""
    net = copy.deepcopy(net)
    for conv in net.convs:
        if conv.tree_select == "learned":
            conv.compact()
    return net


def _assert_identical(a, b) -> None:
    """``b`` (loaded) computes exactly what ``a`` (saved) computes and holds ``a``'s compacted state."""
    x = torch.randn(3, a.config.d_input, a.config.seq_len, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
    sa, sb = _compacted(a).state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype, key
        assert torch.equal(sa[key], sb[key]), key


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_file_round_trip_is_bit_identical(kind, tmp_path):
    net = _model(kind)
    path = save_checkpoint(tmp_path / "sub" / "model.safetensors", net, METRICS)
    loaded, config, metrics = load_checkpoint(path)
    assert config == net.config and not loaded.training
    _assert_identical(net, loaded)
    assert metrics["test_accuracy"] == 0.875
    assert metrics["history"]["loss"] == [2.3, 1.1, None]  # NaN stored as null: strict JSON
    assert "versions" in metrics


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_bytes_round_trip_is_bit_identical(kind):
    net = _model(kind)
    loaded, _, _ = load_checkpoint(checkpoint_bytes(net, METRICS))
    _assert_identical(net, loaded)
    again, _, _ = load_checkpoint(bytearray(checkpoint_bytes(loaded, METRICS)))
    _assert_identical(net, again)


def test_file_is_plain_safetensors_with_metadata(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", _model("learned"), METRICS)
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
        keys = set(f.keys())
    assert metadata["format"] == FORMAT and metadata["format_version"] == "1"
    assert ModelConfig.from_json(metadata["config"]) == CONFIGS["learned"]
    assert json.loads(metadata["metrics"])["task"] == "digits"
    assert "layers.0.conv.slot_mask" in keys


def test_save_run_writes_sidecars(tmp_path):
    net = _model("uniform")
    path = save_run(tmp_path / "run", net, METRICS)
    assert path.name == "model.safetensors"
    assert ModelConfig.from_json((tmp_path / "run" / "config.json").read_text()) == net.config
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test_accuracy"] == 0.875
    loaded, _, _ = load_checkpoint(tmp_path / "run")  # a run directory works too
    _assert_identical(net, loaded)


def test_loading_leaves_global_rng_untouched(saved):
    state = torch.get_rng_state()
    load_checkpoint(saved)
    assert torch.equal(torch.get_rng_state(), state)


def test_read_metadata_builds_nothing(saved, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "state_layout", _forbidden)
    config, metrics = read_metadata(saved)
    assert config == CONFIGS["fading"] and metrics["task"] == "digits"


# --- refused files -------------------------------------------------------------------------------


def _forbidden(*_args, **_kwargs):
    raise AssertionError("nothing may be built or allocated for this file")


class _Marker:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "absent.safetensors")


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_pickle_renamed_is_refused_and_never_unpickled(writer, tmp_path):
    probe = tmp_path / "probe_marker"
    pickle.loads(pickle.dumps(_Marker(probe)))
    assert probe.exists()  # the payload is live: unpickling it would create a file

    marker = tmp_path / "marker"
    path = tmp_path / "model.safetensors"
    if writer == "pickle":
        path.write_bytes(pickle.dumps({"state_dict": _Marker(marker)}))
    else:
        torch.save({"state_dict": _Marker(marker)}, path)
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 5, 100, -1])
def test_truncated_file(saved, keep, tmp_path):
    path = tmp_path / "cut.safetensors"
    path.write_bytes(saved[:keep] if keep >= 0 else saved[:-7])
    with pytest.raises(CheckpointError, match="too short|truncated"):
        load_checkpoint(path)


def test_huge_declared_header_is_refused_before_reading_it(monkeypatch):
    monkeypatch.setattr(checkpoint_module.json, "loads", _forbidden)
    data = struct.pack("<Q", 2**62) + b"{" * 64
    with pytest.raises(CheckpointError, match="declare a header of"):
        load_checkpoint(data)
    data = struct.pack("<Q", MAX_HEADER_BYTES + 1) + b" " * 64
    with pytest.raises(CheckpointError, match="header"):
        load_checkpoint(data)


def test_header_that_is_not_json():
    with pytest.raises(CheckpointError, match="not JSON"):
        load_checkpoint(struct.pack("<Q", 10) + b"\xff" * 10)


def test_plain_safetensors_without_our_metadata():
    with pytest.raises(CheckpointError, match="metadata"):
        load_checkpoint(st_save({"w": torch.zeros(2)}))


def test_other_format(saved):
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "format": "someone-else"})
    with pytest.raises(CheckpointError, match="format is 'someone-else'"):
        load_checkpoint(data)


def test_unknown_format_version(saved):
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "format_version": "2"})
    with pytest.raises(CheckpointError, match="format_version '2' is not supported"):
        load_checkpoint(data)


def test_missing_metadata_field(saved):
    data = rewrite_checkpoint(saved, metadata=lambda m: {k: v for k, v in m.items() if k != "metrics"})
    with pytest.raises(CheckpointError, match="lacks"):
        load_checkpoint(data)


def test_wrong_shape(saved):
    data = rewrite_checkpoint(saved, tensors=lambda t: {**t, "decoder.weight": torch.zeros(10, 7)})
    with pytest.raises(CheckpointError, match="decoder.weight"):
        load_checkpoint(data)


def test_wrong_dtype(saved):
    data = rewrite_checkpoint(saved, tensors=lambda t: {**t, "encoder.weight": t["encoder.weight"].double()})
    with pytest.raises(CheckpointError, match="encoder.weight.*F64"):
        load_checkpoint(data)


def test_unknown_key(saved):
    data = rewrite_checkpoint(saved, tensors=lambda t: {**t, "backdoor.weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match="does not know: backdoor.weight"):
        load_checkpoint(data)


def test_missing_key(saved):
    data = rewrite_checkpoint(saved, tensors=lambda t: {k: v for k, v in t.items() if k != "layers.1.conv.w"})
    with pytest.raises(CheckpointError, match="lacks tensors.*layers.1.conv.w"):
        load_checkpoint(data)


def test_non_finite_weights(saved):
    def poison(t):
        w = t["layers.0.conv.h0"].clone()
        w[0, 0] = float("inf")
        return {**t, "layers.0.conv.h0": w}

    with pytest.raises(CheckpointError, match="non-finite"):
        load_checkpoint(rewrite_checkpoint(saved, tensors=poison))


def test_inconsistent_selection_mask():
    data = checkpoint_bytes(_model("learned"))

    def unmask(t):
        mask = t["layers.0.conv.slot_mask"].clone()
        mask[0, :] = True  # one channel keeps every candidate, the others memory_size
        return {**t, "layers.0.conv.slot_mask": mask}

    with pytest.raises(CheckpointError, match="inconsistent memory selection"):
        load_checkpoint(rewrite_checkpoint(data, tensors=unmask))


@pytest.mark.parametrize("field", ["d_model", "n_layers", "seq_len", "memory_size"])
def test_absurd_config_is_refused_before_any_allocation(saved, field, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "state_layout", _forbidden)
    monkeypatch.setattr(checkpoint_module, "_safetensors_load", _forbidden)
    config = {**json.loads(ModelConfig().to_json()), field: 10**9}
    if field == "memory_size":
        config["tree_select"] = "uniform"
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "config": json.dumps(config)})
    with pytest.raises(CheckpointError, match=f"invalid model config.*{field}"):
        load_checkpoint(data)


def test_config_of_another_architecture(saved, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "state_layout", _forbidden)
    gpt = {"n_layer": 12, "n_head": 12, "n_embd": 768, "vocab_size": 50257, "block_size": 1024}
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "config": json.dumps(gpt)})
    with pytest.raises(CheckpointError, match="unknown model config fields"):
        load_checkpoint(data)


def test_valid_config_that_does_not_fit_the_weights(saved):
    other = ModelConfig(d_model=12, n_layers=2, seq_len=64)
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "config": other.to_json()})
    with pytest.raises(CheckpointError, match="the config needs"):
        load_checkpoint(data)


def test_config_that_is_not_json(saved):
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "config": "{not json"})
    with pytest.raises(CheckpointError, match="invalid model config"):
        load_checkpoint(data)


def test_metrics_that_are_not_an_object(saved):
    data = rewrite_checkpoint(saved, metadata=lambda m: {**m, "metrics": "[1, 2]"})
    with pytest.raises(CheckpointError, match="metrics must be a JSON object"):
        load_checkpoint(data)


def test_trailing_garbage(saved):
    with pytest.raises(CheckpointError, match="unexpected bytes"):
        load_checkpoint(saved + b"\x00" * 16)


def test_not_a_path_or_bytes():
    with pytest.raises(CheckpointError, match="expected a file path or bytes"):
        load_checkpoint(12345)


# --- learned layers are stored compacted; pre-cap checkpoints still load ---------------------------


def _pre_cap_checkpoint(net) -> tuple[bytes, object]:
    """``net``'s learned layers re-expressed on the old unbounded menu, saved as before the cap."""
    legacy = copy.deepcopy(net)
    for conv in legacy.convs:
        old_menu = candidate_slots(conv.depth, conv.kernel_size, legacy.config.max_lag)
        index = {s: i for i, s in enumerate(old_menu)}
        columns = [index[s] for s in conv.slots]
        w, mask = conv.w.detach().clone(), conv.slot_mask.clone()
        conv.use_candidates(old_menu)
        with torch.no_grad():
            conv.w[:, columns] = w[:, :-1]
            conv.w[:, -1] = w[:, -1]
        conv.slot_mask.zero_()
        conv.slot_mask[:, columns] = mask
    state = {k: v.contiguous() for k, v in legacy.state_dict().items()}
    data = rewrite_checkpoint(checkpoint_bytes(net), tensors=lambda _: state)
    return data, legacy


def test_learned_checkpoint_stores_only_the_kept_slots():
    net = _model("learned")
    data = checkpoint_bytes(net)
    tensors = st_load(data)
    for index, conv in enumerate(net.convs):
        table = tensors[f"layers.{index}.conv.candidates"]
        assert table.dtype == torch.int32 and table.shape == (conv.distinct_slots(), 3)
        assert tensors[f"layers.{index}.conv.w"].shape == (conv.channels, conv.distinct_slots() + 1)
        assert conv.distinct_slots() < len(conv.slots)


def test_pre_cap_learned_checkpoint_loads_with_identical_outputs_and_the_new_one_is_smaller():
    net = _model("learned")
    old, legacy = _pre_cap_checkpoint(net)
    assert len(legacy.convs[0].slots) > len(net.convs[0].slots)  # the old menu really was larger
    loaded, _, _ = load_checkpoint(old)
    x = torch.randn(3, 1, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded(x), legacy(x))
        assert torch.equal(loaded(x), net(x))
    assert [c.distinct_slots() for c in loaded.convs] == [len(c.slots) for c in loaded.convs]
    assert len(checkpoint_bytes(loaded)) < len(old)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.to(torch.float32), r"expected an int32 table"),
        (lambda t: t[:2], r"2 stored candidate slots; expected 5\.\."),
        (lambda t: torch.cat([t[:, :1] + 5, t[:, 1:]], dim=1), r"bands must be 0 \(approx\) or 1 \(detail\)"),
        (lambda t: t.flip(0), r"invalid candidate slots: .*weight order"),
        (lambda t: torch.cat([t[:, :1], t[:, 1:2] + 40, t[:, 2:]], dim=1), r"invalid candidate slots: .*outside"),
        (lambda t: torch.cat([t[:, :2], t[:, 2:] + 2**30], dim=1), r"invalid candidate slots: .*lags 0\.\."),
    ],
    ids=["dtype", "too-few", "band-code", "order", "level", "huge-lag"],
)
def test_bad_candidate_tables_are_refused(edit, match):
    data = checkpoint_bytes(_model("learned"))

    def forge(t):
        return {**t, "layers.1.conv.candidates": edit(t["layers.1.conv.candidates"]).contiguous()}

    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(rewrite_checkpoint(data, tensors=forge))
