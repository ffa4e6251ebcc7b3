"""The trainer: learns, stops cleanly, is reproducible without touching global RNG, keeps frozen
filters frozen, ends a learned selection at exactly M slots, refuses non-finite data."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from multires import wavelet_filters
from multires.tasks import load_task
from multires.training import (
    TRAIN_LIMITS,
    DistributedHooks,
    Progress,
    SelectionSnapshot,
    TrainConfig,
    TrainingError,
    build_model,
    evaluate,
    train,
)

# A small model that still learns digits well above chance (10 %) in two short epochs.
TINY = dict(d_model=16, epochs=2, batch_size=32, lr=0.02)
CHANCE_PLUS = 0.5
MEMORY_M = 7


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models train fastest on one thread (and a busy 2-core CI machine punishes two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    return load_task("digits", seed=0)


@pytest.fixture(scope="module")
def tiny_memory():
    return load_task("memory", seed=0, length=32, lags=(1, 4, 16), n_train=128, n_val=32, n_test=64)


def _state(net) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_learns_digits_above_chance(digits):
    result = train(digits, TrainConfig(**TINY))
    assert result.test["accuracy"] > CHANCE_PLUS
    assert result.test["metric_name"] == "accuracy" and result.test["n"] == len(digits.y_test)
    assert not result.stopped and result.steps == result.total_steps
    assert result.epochs_done == TINY["epochs"] == len(result.history.epoch_val)
    assert not result.net.training


def test_callback_gets_every_step_with_val_at_epoch_end(digits):
    seen: list[Progress] = []
    result = train(digits, TrainConfig(d_model=8, epochs=2, batch_size=128), seen.append)
    assert [p.step for p in seen] == list(range(1, result.total_steps + 1))
    ends = [p for p in seen if p.val_metric is not None]
    assert [p.epoch for p in ends] == [0, 1]
    assert ends[-1].step == result.total_steps
    assert all(np.isfinite(p.loss) and 0.0 <= p.metric <= 1.0 and p.elapsed >= 0 for p in seen)
    assert result.history.epoch_val == [p.val_metric for p in ends]


def test_stop_callback_stops_after_n_steps(digits):
    n = 3
    result = train(digits, TrainConfig(d_model=8, epochs=5), lambda p: p.step >= n)
    assert result.stopped and result.stop_reason == "callback"
    assert result.steps == n and len(result.history.step_loss) == n
    assert not result.net.training
    assert 0.0 <= evaluate(result.net, digits, "test")["accuracy"] <= 1.0


def test_max_seconds_stops_cleanly(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=500, max_seconds=0.5))
    assert result.stopped and result.stop_reason == "max_seconds"
    assert result.steps < result.total_steps
    assert result.train_time < 30  # one step past the bound, not the 500 epochs


def test_same_seed_gives_identical_weights_and_global_rng_is_untouched(digits):
    torch.manual_seed(1234)
    np.random.seed(1234)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    config = TrainConfig(d_model=8, epochs=1, seed=7)
    first, second = train(digits, config), train(digits, config)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    a, b = _state(first.net), _state(second.net)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert first.history.step_loss == second.history.step_loss
    other = train(digits, dataclasses.replace(config, seed=8))
    assert not torch.equal(other.net.encoder.weight, first.net.encoder.weight)


def test_dropout_run_is_reproducible_and_restores_global_rng(digits):
    torch_state = torch.get_rng_state()
    config = TrainConfig(d_model=8, epochs=1, dropout=0.2, seed=3)
    first, second = train(digits, config), train(digits, config)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert first.history.step_loss == second.history.step_loss


def test_train_never_sets_thread_count(digits, monkeypatch):
    def refuse(*_):
        raise AssertionError("train() must not call torch.set_num_threads")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    train(digits, TrainConfig(d_model=4, epochs=1, batch_size=256))


def test_frozen_filters_stay_exactly_haar(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=1, wavelet="haar", freeze_filters=True))
    lo, hi = (torch.tensor(f, dtype=torch.float32) for f in wavelet_filters("haar"))
    untrained = build_model(result.model_config, seed=result.config.seed)
    for conv, fresh in zip(result.net.convs, untrained.convs):
        assert torch.equal(conv.h0, lo.expand_as(conv.h0))
        assert torch.equal(conv.h1, hi.expand_as(conv.h1))
        assert not torch.equal(conv.w, fresh.w)  # the rest of the layer did train


def test_learned_filters_move_from_haar(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=1, wavelet="haar"))
    lo, _ = wavelet_filters("haar")
    assert not torch.equal(result.net.convs[0].h0, torch.tensor(lo, dtype=torch.float32).expand(8, 2))


def test_learned_selection_ends_with_exactly_m_slots_and_records_history(digits):
    config = TrainConfig(d_model=8, epochs=2, tree_select="learned", memory_size=MEMORY_M)
    result = train(digits, config)
    for conv in result.net.convs:
        assert conv.slot_mask.sum(dim=1).tolist() == [MEMORY_M] * conv.channels
    history = result.selection_history
    assert 15 <= len(history) <= 25
    assert history[0].step == 0 and all(m.all() for m in history[0].masks)
    assert [s.step for s in history] == sorted(s.step for s in history)
    assert all(np.array_equal(m, conv.slot_mask.numpy()) for m, conv in zip(history[-1].masks, result.net.convs))
    kept = [int(s.masks[0].sum(axis=1).max()) for s in history]
    assert kept == sorted(kept, reverse=True)  # the selection only ever shrinks


def test_stopped_learned_run_still_has_exactly_m_slots(digits):
    config = TrainConfig(d_model=8, epochs=3, tree_select="learned", memory_size=MEMORY_M)
    result = train(digits, config, lambda p: p.step >= 2)
    assert result.stopped
    for conv in result.net.convs:
        assert conv.slot_mask.sum(dim=1).tolist() == [MEMORY_M] * conv.channels


def test_selection_snapshot_json_round_trip():
    rng = np.random.default_rng(0)
    snapshot = SelectionSnapshot(5, 0.25, (rng.random((3, 11)) > 0.5, rng.random((3, 11)) > 0.3))
    back = SelectionSnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict())))
    assert back.step == 5 and back.progress == 0.25
    for a, b in zip(snapshot.masks, back.masks):
        assert np.array_equal(a, b) and b.dtype == bool


def test_non_finite_input_raises_training_error(digits):
    x = digits.x_train.clone()
    x[3, 0, 10] = float("nan")
    with pytest.raises(TrainingError, match="non-finite"):
        train(dataclasses.replace(digits, x_train=x), TrainConfig(d_model=4, epochs=1))


def test_non_finite_loss_raises_training_error(digits):
    huge = dataclasses.replace(digits, x_train=digits.x_train * 1e37)  # finite inputs that overflow
    with pytest.raises(TrainingError, match="loss became non-finite"):
        train(huge, TrainConfig(d_model=4, epochs=1))


def test_recall_task_reports_r2_per_lag(tiny_memory):
    result = train(tiny_memory, TrainConfig(d_model=8, epochs=2, batch_size=32))
    assert result.model_config.head == "last"
    assert result.test["metric_name"] == "r2_mean" and result.test["lags"] == [1, 4, 16]
    assert len(result.test["r2"]) == 3
    assert result.test["metric"] == pytest.approx(np.mean(result.test["r2"]))
    metrics = result.metrics()
    assert metrics["test_r2_per_lag"] == result.test["r2"]


def test_metrics_are_strict_json(digits):
    result = train(digits, TrainConfig(d_model=4, epochs=1, tree_select="learned", memory_size=MEMORY_M))
    metrics = result.metrics()
    text = json.dumps(metrics, allow_nan=False)
    assert json.loads(text)["test_accuracy"] == pytest.approx(result.test["accuracy"])
    assert metrics["train_config"] == result.config.to_dict()
    assert set(metrics["versions"]) >= {"torch", "multires", "python"}
    assert len(metrics["history"]["loss"]) <= 200 and metrics["selection_history"]


def test_train_config_json_round_trip_and_bounds():
    config = TrainConfig(tree_select="uniform", memory_size=8, wavelet=None, kernel_size=3, epochs=3, max_seconds=9.5)
    assert TrainConfig.from_json(config.to_json()) == config
    assert TRAIN_LIMITS["epochs"][0] == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 10**6}, "epochs"),
        ({"d_model": TRAIN_LIMITS["d_model"][1] + 1}, "d_model"),
        ({"max_seconds": 0.0}, "max_seconds"),
        ({"lr": float("nan")}, "lr"),
        ({"tree_select": "uniform"}, "memory_size"),
        ({"tree_select": "greedy"}, "tree_select"),
        ({"wavelet": "nope"}, "wavelet"),
        ({"freeze_filters": "yes"}, "freeze_filters"),
    ],
)
def test_train_config_rejects_bad_values(fields, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**fields)


def test_train_config_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown training config fields"):
        TrainConfig.from_dict({"epochs": 2, "learning_rate": 0.1})


def test_world_of_one_distributed_run_matches_single_process(digits, tmp_path):
    """The DDP path (hooks, DistributedSampler, all_reduce) is the same loop: at world size 1 it is bit-identical."""
    import torch.distributed as dist

    config = TrainConfig(d_model=8, epochs=1, tree_select="learned", memory_size=MEMORY_M)
    single = train(digits, config)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ranked = train(digits, config, distributed=DistributedHooks())
    finally:
        dist.destroy_process_group()
    assert ranked.world_size == 1
    for key, value in single.net.state_dict().items():
        assert torch.equal(value, ranked.net.state_dict()[key]), key
    assert single.history.step_loss == ranked.history.step_loss
