"""The trainer: learns, stops cleanly, is reproducible without touching global RNG, keeps frozen
filters frozen, ends a learned selection at exactly M slots, refuses non-finite data; budgets in
steps, eval-mode scores and warnings, best-epoch selection, the schedule and the paper preset."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

import multires.training.runstate as runstate_module
from multires import wavelet_filters
from multires.data.tasks import load_task
from multires.model import build_model
from multires.options import TRAIN_LIMITS
from multires.training import (
    DistributedHooks,
    Progress,
    SelectionSnapshot,
    TrainConfig,
    TrainingError,
    TrainingWarning,
    evaluate,
    train,
)
from multires.training.config import preset_values
from multires.training.diagnostics import score_warnings
from multires.training.optimization import WARMUP_FRACTION, build_optimizer, lr_factor, param_groups

# A small model that still learns digits well above chance (10 %) in two short epochs.
TINY = dict(d_model=16, epochs=2, min_steps=0, batch_size=32, lr=0.02)
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
    result = train(digits, TrainConfig(d_model=8, min_steps=0, epochs=2, batch_size=128), seen.append)
    assert [p.step for p in seen] == list(range(1, result.total_steps + 1))
    ends = [p for p in seen if p.val_metric is not None]
    assert [p.epoch for p in ends] == [0, 1]
    assert ends[-1].step == result.total_steps
    assert all(np.isfinite(p.loss) and 0.0 <= p.metric <= 1.0 and p.elapsed >= 0 for p in seen)
    assert result.history.epoch_val == [p.val_metric for p in ends]
    # progress.net: the model being trained (the one returned), outside repr and equality
    assert all(p.net is result.net for p in seen)
    assert "net=" not in repr(seen[0]) and dataclasses.replace(seen[0], net=None) == seen[0]


def test_stop_callback_stops_after_n_steps(digits):
    n = 3
    result = train(digits, TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=5), lambda p: p.step >= n)
    assert result.stopped and result.stop_reason == "callback"
    assert result.steps == n and len(result.history.step_loss) == n
    assert not result.net.training
    assert 0.0 <= evaluate(result.net, digits, "test")["accuracy"] <= 1.0


def test_max_seconds_stops_cleanly(digits):
    result = train(digits, TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=500, max_seconds=0.5))
    assert result.stopped and result.stop_reason == "max_seconds"
    # at the bound, not the 500 epochs: it stops before the step that would end past the bound
    assert result.steps < result.total_steps


def test_same_seed_gives_identical_weights_and_global_rng_is_untouched(digits):
    torch.manual_seed(1234)
    np.random.seed(1234)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    config = TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=1, seed=7)
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
    config = TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=1, dropout=0.2, seed=3)
    first, second = train(digits, config), train(digits, config)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert first.history.step_loss == second.history.step_loss


def test_train_never_sets_thread_count(digits, monkeypatch):
    def refuse(*_):
        raise AssertionError("train() must not call torch.set_num_threads")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    train(digits, TrainConfig(d_model=4, min_steps=0, epochs=1, batch_size=256))


def test_frozen_filters_stay_exactly_haar(digits):
    result = train(digits, TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=1, wavelet="haar", freeze_filters=True))
    lo, hi = (torch.tensor(f, dtype=torch.float32) for f in wavelet_filters("haar"))
    untrained = build_model(result.model_config, seed=result.config.seed)
    for conv, fresh in zip(result.net.convs, untrained.convs):
        assert torch.equal(conv.h0, lo.expand_as(conv.h0))
        assert torch.equal(conv.h1, hi.expand_as(conv.h1))
        assert not torch.equal(conv.w, fresh.w)  # the rest of the layer did train


def test_learned_filters_move_from_haar(digits):
    result = train(digits, TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=1, wavelet="haar"))
    lo, _ = wavelet_filters("haar")
    assert not torch.equal(result.net.convs[0].h0, torch.tensor(lo, dtype=torch.float32).expand(8, 2))


def test_learned_selection_ends_with_exactly_m_slots_and_records_history(digits):
    config = TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=2, tree_select="learned", memory_size=MEMORY_M)
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
    config = TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=3, tree_select="learned", memory_size=MEMORY_M)
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
        train(dataclasses.replace(digits, x_train=x), TrainConfig(d_model=4, min_steps=0, batch_size=64, epochs=1))


def test_non_finite_loss_raises_training_error(digits):
    huge = dataclasses.replace(digits, x_train=digits.x_train * 1e37)  # finite inputs that overflow
    with pytest.raises(TrainingError, match="loss became non-finite"):
        train(huge, TrainConfig(d_model=4, min_steps=0, batch_size=64, epochs=1))


def test_recall_task_reports_r2_per_lag(tiny_memory):
    result = train(tiny_memory, TrainConfig(d_model=8, min_steps=0, epochs=2, batch_size=32))
    assert result.model_config.head == "last"
    assert result.test["metric_name"] == "r2_mean" and result.test["lags"] == [1, 4, 16]
    assert len(result.test["r2"]) == 3
    assert result.test["metric"] == pytest.approx(np.mean(result.test["r2"]))
    metrics = result.metrics()
    assert metrics["test_r2_per_lag"] == result.test["r2"]


def test_metrics_are_strict_json(digits):
    result = train(digits, TrainConfig(d_model=4, min_steps=0, batch_size=64, epochs=1, tree_select="learned", memory_size=MEMORY_M))
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

    config = TrainConfig(d_model=8, min_steps=0, batch_size=64, epochs=1, tree_select="learned", memory_size=MEMORY_M)
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


# --------------------------------------------------------------------------------------------
# Budget, eval-mode scores, warnings, best epoch, schedule, presets (issue 10)
# --------------------------------------------------------------------------------------------

SMALL_N = 50  # series in the small-data task: GunPoint's training-set size
LR_EPS = 1e-12


@pytest.fixture(scope="module")
def small_two_class(digits):
    """Digits 0 vs 1, only 50 training series: the size at which TrainConfig() used to fail silently."""
    def pick(x, y, n):
        keep = torch.nonzero(y < 2).flatten()[:n]
        return x[keep], y[keep]

    x_train, y_train = pick(digits.x_train, digits.y_train, SMALL_N)
    x_val, y_val = pick(digits.x_val, digits.y_val, 40)
    x_test, y_test = pick(digits.x_test, digits.y_test, 80)
    return dataclasses.replace(digits, name="digits01", x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                               x_test=x_test, y_test=y_test, n_classes=2, class_names=("0", "1"))


@pytest.mark.parametrize(
    ("epochs", "min_steps", "steps_per_epoch", "expected"),
    [(15, 300, 1, 300), (15, 300, 20, 15), (15, 300, 7, 43), (2, 0, 1, 2), (500, 300, 1, 500)],
)
def test_total_epochs_reach_min_steps_in_whole_epochs(epochs, min_steps, steps_per_epoch, expected):
    config = TrainConfig(epochs=epochs, min_steps=min_steps)
    assert config.total_epochs(steps_per_epoch) == expected
    assert expected * steps_per_epoch >= min_steps and expected >= epochs


def test_default_budget_on_50_series_trains_min_steps_not_15(small_two_class):
    """The issue's silent failure: 50 series at batch 64 used to be 15 steps and chance accuracy."""
    config = TrainConfig(d_model=16, batch_size=64)  # the default recipe at the batch size
    result = train(small_two_class, config)
    assert result.steps == result.total_steps == config.min_steps == result.total_epochs  # one step per epoch
    assert result.test["accuracy"] > 0.9
    assert result.train["accuracy"] > 0.9  # eval mode, not batch statistics
    assert not [w for w in result.warnings if "BatchNorm" in w]


def test_too_few_steps_for_batchnorm_warns_and_records_it(digits):
    config = TrainConfig(d_model=8, epochs=1, min_steps=0, batch_size=256)  # 5 steps
    with pytest.warns(TrainingWarning, match="BatchNorm running statistics cannot have converged"):
        result = train(digits, config)
    assert result.steps == 5
    assert any("needs at least 44" in w for w in result.warnings)
    assert json.loads(json.dumps(result.metrics()))["warnings"] == result.warnings


def test_layer_norm_run_has_no_batchnorm_warning(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=1, min_steps=0, batch_size=256, norm="layer"))
    assert not [w for w in result.warnings if "BatchNorm" in w]


def test_train_score_gap_warning(digits):
    """An eval-mode training score far below the batch-statistics one is flagged."""
    result = train(digits, TrainConfig(d_model=4, epochs=1, min_steps=0, norm="layer"))
    faked = dataclasses.replace(result, train={**result.train, "metric": 0.52}, best_epoch=1,
                                history=dataclasses.replace(result.history, epoch_train=[0.96]))
    messages = score_warnings(faked)
    assert len(messages) == 1 and "0.520" in messages[0] and "0.960" in messages[0]
    assert score_warnings(dataclasses.replace(faked, train={**result.train, "metric": 0.9})) == []


def test_result_train_score_is_eval_mode_on_the_training_split(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=1, min_steps=0))
    assert result.train == evaluate(result.net, digits, "train")
    metrics = result.metrics()
    assert metrics["train_accuracy_eval_mode"] == pytest.approx(result.train["accuracy"])
    assert metrics["train_metric_batch_stats"] == pytest.approx(result.history.epoch_train[-1])


def test_returned_model_is_the_best_validation_epoch(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=4, min_steps=0, lr=0.05, norm="layer"))
    h = result.history
    keys = [(m, -loss) for m, loss in zip(h.epoch_val, h.epoch_val_loss)]
    best = max(range(len(keys)), key=lambda i: (keys[i], -i))  # first of equals
    assert result.best_epoch == best + 1 and result.best_step == h.epoch_step[best]
    # the restored weights score exactly what that epoch scored
    assert result.val["metric"] == h.epoch_val[best] and result.val["loss"] == pytest.approx(h.epoch_val_loss[best])
    assert result.metrics()["best_epoch"] == result.best_epoch


def test_batchnorm_epochs_compete_only_once_statistics_can_have_converged(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=4, min_steps=0, batch_size=64))  # 20 steps per epoch
    assert result.history.epoch_step == [20, 40, 60, 80]
    assert result.best_epoch in (3, 4) and result.best_step >= 44
    assert not [w for w in result.warnings if "BatchNorm" in w]


def test_select_best_false_keeps_the_last_epoch(digits):
    result = train(digits, TrainConfig(d_model=8, epochs=3, min_steps=0, select_best=False))
    assert result.best_epoch is None
    assert result.val["metric"] == result.history.epoch_val[-1]


def test_patience_stops_after_that_many_epochs_without_improvement(digits, monkeypatch):
    scripted = iter([0.5, 0.6, 0.55, 0.58, 0.59, 0.9, 0.9])
    real = runstate_module.evaluate

    def fake(net, task, split="test"):
        score = real(net, task, split)
        if split == "val":
            score.update(metric=next(scripted), loss=1.0)
        return score

    monkeypatch.setattr(runstate_module, "evaluate", fake)
    result = train(digits, TrainConfig(d_model=4, epochs=10, min_steps=0, batch_size=256, patience=3, norm="layer"))
    assert result.stopped and result.stop_reason == "early_stopping"
    assert result.epochs_done == 5 and result.best_epoch == 2


def test_learned_selection_best_epoch_comes_after_pruning(digits):
    config = TrainConfig(d_model=8, epochs=5, min_steps=0, tree_select="learned", memory_size=MEMORY_M)
    result = train(digits, config)
    prune_end = result.net.convs[0].PRUNE_END
    assert result.best_epoch is not None and result.best_step >= prune_end * result.total_steps - 1
    for conv in result.net.convs:
        assert conv.slot_mask.sum(dim=1).tolist() == [MEMORY_M] * conv.channels


@pytest.mark.parametrize("warmup", [0.0, 0.05, 0.25, 1.0])
def test_lr_factor_warms_up_linearly_then_cosine_to_zero(warmup):
    grid = np.linspace(0, 1, 401)
    factors = np.array([lr_factor(p, warmup) for p in grid])
    assert factors.min() >= 0 and factors.max() <= 1 + LR_EPS
    assert lr_factor(1.0, warmup) == pytest.approx(0.0, abs=LR_EPS) or warmup == 1.0
    rising, falling = factors[grid < warmup], factors[grid >= warmup]
    assert np.all(np.diff(rising) > 0) and np.all(np.diff(falling) <= LR_EPS)
    if warmup > 0:
        assert lr_factor(warmup / 2, warmup) == pytest.approx(0.5)
    if warmup < 1:
        assert lr_factor(warmup + (1 - warmup) / 2, warmup) == pytest.approx(0.5)


def test_step_lrs_follow_the_schedule(digits):
    config = TrainConfig(d_model=4, epochs=3, min_steps=0, lr=0.02)
    result = train(digits, config)
    total = result.total_steps
    expected = [config.lr * lr_factor(i / total, WARMUP_FRACTION) for i in range(total)]
    assert result.history.step_lr == pytest.approx(expected, rel=1e-6, abs=LR_EPS)


def test_time_capped_run_stops_below_its_step_schedule(digits):
    config = TrainConfig(d_model=4, epochs=500, min_steps=0, batch_size=32, max_seconds=2.0)
    result = train(digits, config)
    assert result.stop_reason == "max_seconds" and result.steps < result.total_steps
    # The lr actually used never exceeds the peak and ends below the step schedule's value at that step
    # (how far below depends on the machine's speed; the exact values are checked on a simulated clock).
    assert max(result.history.step_lr) <= config.lr * (1 + 1e-6)
    step_schedule = config.lr * lr_factor((result.steps - 1) / result.total_steps, WARMUP_FRACTION)
    assert result.history.step_lr[-1] < step_schedule


def test_time_budget_drives_the_schedule_to_its_peak_and_down_to_a_low_learning_rate(digits):
    config = TrainConfig(d_model=4, epochs=500, min_steps=0, batch_size=32, max_seconds=2.0)
    net = build_model(config.model_config(digits))
    total = 10_000  # far more steps than the time budget allows: time drives the schedule
    optimizer, scheduler, clock = build_optimizer(net, config, steps_per_epoch=40, total_steps=total)

    def lr_at(step: int, elapsed: float) -> float:
        clock.step, clock.elapsed = step, elapsed
        scheduler.step()
        return optimizer.param_groups[0]["lr"]

    warmup_end = WARMUP_FRACTION * config.max_seconds
    assert lr_at(1, warmup_end) == pytest.approx(config.lr, rel=0.05)  # the warm-up reaches the peak
    # At step 600 the step schedule alone would still be near the peak; the time budget has it annealed.
    assert config.lr * lr_factor(600 / total, WARMUP_FRACTION) > 0.9 * config.lr
    assert lr_at(600, 0.999 * config.max_seconds) <= 0.05 * config.lr


def test_paper_preset_fields_and_overrides():
    paper = TrainConfig(preset="paper")
    for name, value in preset_values("paper").items():
        assert getattr(paper, name) == value, name
    assert (paper.decay, paper.norm, paper.warmup_epochs, paper.lr, paper.weight_decay) == ("all", "layer", 1.0, 0.01, 0.01)
    assert (paper.d_model, paper.n_layers, paper.dropout, paper.epochs, paper.batch_size) == (128, 4, 0.1, 100, 64)
    assert paper.wavelet is None and paper.select_best
    assert (paper.dropout_mode, paper.init, paper.indep_res_init) == ("channel", "paper", False)
    model = paper.model_config(load_task("digits", seed=0))
    assert (model.norm, model.dropout_mode, model.init, model.dropout) == ("layer", "channel", "paper", 0.1)
    assert TrainConfig.from_json(paper.to_json()) == paper
    custom = TrainConfig(preset="paper", lr=3e-3, d_model=16)
    assert (custom.lr, custom.d_model, custom.decay) == (3e-3, 16, "all")
    with pytest.raises(ValueError, match="preset must be one of"):
        TrainConfig(preset="fast")
    kept = TrainConfig.from_preset("paper", min_steps=300, batch_size=16)  # default-recipe values, given
    assert (kept.min_steps, kept.batch_size, kept.decay) == (300, 16, "all")
    assert TrainConfig.from_json(kept.to_json()) == kept
    assert TrainConfig.from_dict({"preset": "paper"}) == paper


def test_paper_preset_decays_all_parameters_default_only_dense(digits):
    config = TrainConfig(preset="paper", d_model=8, n_layers=1)
    net = build_model(config.model_config(digits))
    optimizer, _, _ = build_optimizer(net, config, steps_per_epoch=10, total_steps=100)
    assert len(optimizer.param_groups) == 1
    group = optimizer.param_groups[0]
    assert group["weight_decay"] == 0.01
    assert {id(p) for p in group["params"]} == {id(p) for p in net.parameters()}
    dense = param_groups(net, 0.01, "dense")
    decayed = {id(p) for p in dense[0]["params"]}
    assert id(net.convs[0].h0) not in decayed and id(net.convs[0].w) not in decayed
    assert id(net.decoder.weight) in decayed and dense[1]["weight_decay"] == 0.0


def test_paper_preset_warms_up_one_whole_epoch_then_cosine(digits):
    config = TrainConfig(preset="paper", d_model=4, n_layers=1, epochs=3)
    seen: list[Progress] = []
    result = train(digits, config, seen.append)
    per_epoch = result.total_steps // 3
    lrs = np.array(result.history.step_lr)
    assert lrs[0] == 0.0 and lrs[per_epoch] == pytest.approx(config.lr)  # peak after exactly one epoch
    assert np.all(np.diff(lrs[: per_epoch + 1]) > 0) and np.all(np.diff(lrs[per_epoch:]) < 0)
    assert lrs[per_epoch // 2] == pytest.approx(config.lr * (per_epoch // 2) / per_epoch)
    assert result.best_epoch is not None and seen[-1].best_epoch == result.best_epoch
