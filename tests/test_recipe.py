"""The small-data recipe (multires.training.recipe.fit): protocol, refit, test read once, ensembles, device,
diagnostics. Small synthetic tasks and tiny models; no wall-clock asserts."""

from __future__ import annotations

import copy as copy_module
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import multires.training.evaluation as evaluation_module
import multires.training.recipe as recipe_module
import multires.training.runstate as runstate_module
from multires.checkpoint import CheckpointError, load_checkpoint
from multires.config import ModelConfig
from multires.data.tasks import from_arrays
from multires.model import build_model
from multires.training.augment import make_augmenter, make_mixup
from multires.training.batchnorm import recalibrate_batchnorm
from multires.training.cli import main
from multires.training.config import TrainConfig
from multires.training.crossval import CV_MAX_SERIES, resolve_protocol
from multires.training.device import DeviceError, available_devices, resolve_device
from multires.training.diagnostics import plateau_gap, undertrained_warnings
from multires.training.ensemble import MultiresEnsemble, load_model, save_model
from multires.training.history import TrainingError
from multires.training.inference import predict
from multires.training.loop import forward_backward, train
from multires.training.plan import RunRefused, check_plan, plan_run
from multires.training.recipe import fit
from multires.training.runstate import next_step_passes

# One tree depth (no depth search: tests/test_cv_depth.py covers it), so the sub-runs here are the folds and refits.
TINY = dict(d_model=4, n_layers=1, epochs=3, min_steps=0, batch_size=16, norm="layer", folds=3, cv_depths="full")


def _task(n_per_class=(14, 10, 6), length=24, seed=0, n_test=9):
    """Three classes of noisy sines at different frequencies (learnable, imbalanced)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)

    def draw(counts):
        X, y = [], []
        for label, count in enumerate(counts):
            for _ in range(count):
                X.append(np.sin(2 * np.pi * (label + 1) * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(length))
                y.append(f"c{label}")
        return np.array(X), y

    X_train, y_train = draw(n_per_class)
    X_test, y_test = draw([n_test // len(n_per_class)] * len(n_per_class))
    return from_arrays("sines", X_train, y_train, X_test, y_test, seed=seed)


@pytest.fixture(scope="module")
def task():
    return _task()


def _pool_labels(task):
    return torch.cat([task.y_train, task.y_val]).numpy()


def test_auto_protocol_is_cv_on_small_data_and_holdout_on_large():
    small = _task()
    assert resolve_protocol(small, TrainConfig()).name == "cv"
    per_class = (CV_MAX_SERIES // 2 + 5, CV_MAX_SERIES // 2 + 5)
    large = _task(n_per_class=per_class, length=4)
    protocol = resolve_protocol(large, TrainConfig())
    assert protocol.name == "holdout" and str(CV_MAX_SERIES) in protocol.reason
    assert resolve_protocol(small, TrainConfig(protocol="holdout")).name == "holdout"


def test_folds_are_capped_by_the_smallest_class_and_cv_refuses_no_refit(task):
    # the smallest class has 6 series in the whole training split
    protocol = resolve_protocol(task, TrainConfig(folds=10))
    assert protocol.folds == 6 and "smallest class" in protocol.reason
    with pytest.raises(ValueError, match="refit"):
        resolve_protocol(task, TrainConfig(protocol="cv", refit=False))


def test_cv_folds_are_stratified_partition_the_training_split_and_vary_with_the_seed(task):
    first = fit(task, TrainConfig(**TINY, seed=0))
    second = fit(task, TrainConfig(**TINY, seed=1))
    labels = _pool_labels(task)
    for result in (first, second):
        held = result.cv["held_out_indices"]
        assert result.cv["splitter"] == "StratifiedKFold" and len(held) == 3
        everything = sorted(i for fold in held for i in fold)
        assert everything == list(range(len(labels)))  # every training series held out exactly once
        for fold in held:  # each class's share in every fold within one series of its share overall
            for label in np.unique(labels):
                expected = (labels == label).sum() / 3
                assert abs((labels[fold] == label).sum() - expected) <= 1
    assert first.cv["held_out_indices"] != second.cv["held_out_indices"]


def test_refit_uses_all_training_series_and_test_is_read_once_at_the_end(task, monkeypatch):
    events = []
    real_train, real_eval = recipe_module.train, evaluation_module.evaluate

    def spy_train(run_task, config, callback=None, **kw):
        assert not any(x is task.x_test for x in (run_task.x_train, run_task.x_val, run_task.x_test))
        events.append(("train", len(run_task.x_train), run_task.x_train.clone()))
        return real_train(run_task, config, callback, **kw)

    def spy_eval(net, run_task, split="test"):
        if split == "test" and run_task.x_test is task.x_test:
            events.append(("test", None, None))
        return real_eval(net, run_task, split)

    monkeypatch.setattr(recipe_module, "train", spy_train)
    monkeypatch.setattr(recipe_module, "evaluate", spy_eval)
    monkeypatch.setattr(runstate_module, "evaluate", spy_eval)
    result = fit(task, TrainConfig(**TINY))
    kinds = [e[0] for e in events]
    assert kinds == ["train"] * 4 + ["test"]  # 3 folds, 1 refit, then the test split once
    pool = torch.cat([task.x_train, task.x_val])
    refit_x = events[3][2]
    assert events[3][1] == len(pool) == result.n_train_used
    assert sorted(map(tuple, refit_x.flatten(1).tolist())) == sorted(map(tuple, pool.flatten(1).tolist()))
    assert all(n < len(pool) for _, n, _ in events[:3])  # folds train on part of it
    assert result.budget_epochs == result.cv["chosen_epochs"] == result.members[0].epochs_done
    assert result.members[0].best_epoch is None  # the refit keeps its last weights


def test_no_sub_run_receives_the_test_split(task):
    """A test split holding NaN would make train() refuse the task: fit() never hands it over."""
    poisoned = task.__class__(**{**task.__dict__, "x_test": torch.full_like(task.x_test, float("nan"))})
    result = fit(poisoned, TrainConfig(**TINY))
    assert result.protocol.name == "cv" and result.test["n"] == len(task.x_test)
    with pytest.raises(TrainingError, match="non-finite"):
        train(poisoned, TrainConfig(**TINY))


def test_holdout_refit_trains_on_train_and_validation(task):
    result = fit(task, TrainConfig(**TINY, protocol="holdout", refit=True))
    assert result.protocol.name == "holdout" and result.protocol.refit
    assert result.n_train_used == len(task.x_train) + len(task.x_val)
    assert result.budget_epochs == result.holdout[0].best_epoch
    plain = fit(task, TrainConfig(**TINY, protocol="holdout"))
    assert plain.n_train_used == len(task.x_train) and plain.members == plain.holdout


def test_fixed_protocol_is_one_run_on_all_training_series_for_the_configured_budget(task, monkeypatch):
    sub_runs = []
    real_train = recipe_module.train
    monkeypatch.setattr(recipe_module, "train", lambda t, c, cb=None, **kw: sub_runs.append(c) or real_train(t, c, cb, **kw))
    config = TrainConfig(**{**TINY, "epochs": 4}, protocol="fixed")
    plan = plan_run(task, config, calibrate=False)
    result = fit(task, config, plan=plan)
    n_pool = len(task.x_train) + len(task.x_val)
    assert len(sub_runs) == 1 and not sub_runs[0].select_best  # no selection, last weights
    assert result.protocol.name == "fixed" and result.n_train_used == n_pool and result.holdout == []
    assert result.budget_epochs == 4 == result.members[0].epochs_done
    assert [what for what, _, _ in plan.runs] == ["the whole training split"]
    assert plan.total_steps == 4 * -(-n_pool // TINY["batch_size"])
    assert "no selection" in result.metrics()["protocol"]["description"]
    with pytest.raises(ValueError, match="fixed"):
        resolve_protocol(task, TrainConfig(**TINY, protocol="fixed", refit=False))


def test_a_refit_scores_its_curve_on_at_most_500_of_its_training_series():
    big = _task(n_per_class=(700, 650, 600), length=8)
    pooled = recipe_module._pooled_task(big)
    assert len(pooled.y_train) == 1950 and 250 < len(pooled.y_val) <= 500
    assert len(recipe_module._pooled_task(_task()).y_val) == 30  # a small pool is scored whole


def test_metrics_say_which_protocol_was_used(task):
    metrics = fit(task, TrainConfig(**TINY)).metrics()
    assert metrics["protocol"]["name"] == "cv" and metrics["protocol"]["folds"] == 3
    assert "cross-validation" in metrics["protocol"]["description"]
    assert metrics["val_metric"] is None and 0 <= metrics["test_accuracy"] <= 1
    json.dumps(metrics)


@pytest.mark.parametrize("refit", [False, True])
def test_training_time_counts_each_run_once(task, refit):
    result = fit(task, TrainConfig(**TINY, protocol="holdout", refit=refit))
    runs = [*result.holdout, *([] if not refit else result.members)]
    assert len(runs) == 1 + refit and (result.members[0] is result.holdout[0]) != refit
    assert result.metrics()["train_time_s"] == pytest.approx(sum(r.train_time for r in runs), abs=2e-3)


def test_best_epoch_ties_go_to_the_later_epoch(task, monkeypatch):
    real = runstate_module.evaluate

    def flat(net, run_task, split="test"):
        score = real(net, run_task, split)
        if split == "val":
            score.update(metric=0.5, loss=float(np.random.default_rng().uniform()))
        return score

    monkeypatch.setattr(runstate_module, "evaluate", flat)
    result = train(task, TrainConfig(**{**TINY, "epochs": 4}))
    assert result.best_epoch == 4


def test_ensemble_averages_probabilities_and_round_trips_through_one_file(task, tmp_path):
    result = fit(task, TrainConfig(**TINY, ensemble=2))
    ens = result.net
    assert isinstance(ens, MultiresEnsemble) and ens.n_members == 2
    assert [m.config.seed for m in result.members] == [0, 1]
    x = task.x_test
    probs = torch.stack([m(x).softmax(-1) for m in ens.members]).mean(0)
    assert torch.allclose(ens(x).exp(), probs, atol=1e-6)
    path = save_model(tmp_path / "model.safetensors", ens, result.metrics())
    loaded = load_model(tmp_path)
    assert isinstance(loaded, MultiresEnsemble) and loaded.metrics["ensemble_members"] == 2
    assert torch.allclose(loaded(x), ens(x))
    X = x[:, 0].numpy().astype(np.float64)
    assert (predict(loaded, X, class_names=task.class_names) == predict(ens, X, class_names=task.class_names)).all()
    with pytest.raises(CheckpointError, match="ensemble of 2 models"):  # the single-model loader says what it is
        load_checkpoint(path)
    assert (predict(ens, X, device="cpu") == predict(ens, X)).all()  # predict's device option
    with pytest.raises(CheckpointError):  # truncated
        load_model(path.read_bytes()[:-20])
    single = fit(task, TrainConfig(**TINY)).net
    save_model(tmp_path / "one.safetensors", single)
    assert not isinstance(load_model(tmp_path / "one.safetensors"), MultiresEnsemble)


def test_device_option_runs_on_cpu_and_auto_picks_an_available_device(task):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == available_devices()[0]
    result = train(task, TrainConfig(**TINY, device="cpu"))
    assert next(result.net.parameters()).device.type == "cpu"
    with pytest.raises(ValueError, match="device"):
        TrainConfig(device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the refusal cannot be shown")
def test_missing_accelerator_is_refused_with_a_message():
    with pytest.raises(DeviceError, match="not available"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="accelerator-specific: no CUDA device on this machine")
def test_training_on_cuda_returns_a_cpu_model(task):  # pragma: no cover - needs a GPU
    result = train(task, TrainConfig(**TINY, device="cuda"))
    assert next(result.net.parameters()).device.type == "cpu"


def test_augmentations_keep_shape_are_seeded_and_do_not_modify_the_batch():
    x = torch.randn(5, 2, 40)
    before = x.clone()
    for spec in ("crop", "jitter", "scale", "crop+jitter+scale"):
        a, b = make_augmenter(spec, seed=3), make_augmenter(spec, seed=3)
        out = a(x)
        assert out.shape == x.shape and torch.equal(out, b(x)) and not torch.equal(out, x)
        assert torch.equal(x, before)
    with pytest.raises(ValueError, match="augment"):
        TrainConfig(augment="crop+warp")


def test_mixup_mixes_each_series_with_the_one_whose_targets_it_returns():
    x, y = torch.eye(6)[:, None, :] * 10.0, torch.arange(6)  # row i is 10 * e_i: the mix can be read off
    before = x.clone()
    mixed, other, lam = make_mixup(0.4, seed=5)(x, y)
    assert 0.5 <= lam <= 1.0 and torch.equal(x, before)
    for i in range(6):
        expected = torch.zeros(6)
        expected[i] += 10.0 * lam
        expected[int(other[i])] += 10.0 * (1.0 - lam)
        assert torch.allclose(mixed[i, 0], expected)
    again = make_mixup(0.4, seed=5)(x, y)
    assert torch.equal(again[0], mixed) and torch.equal(again[1], other) and again[2] == lam
    lams = [make_mixup(0.4, seed=s)(x, y)[2] for s in range(40)]
    assert len(set(lams)) == 40 and min(lams) < 0.75  # drawn per seed, and not all near 1
    assert make_mixup(0.0, seed=0) is None
    with pytest.raises(ValueError, match="mixup"):
        TrainConfig(mixup=-0.1)


def test_mixup_loss_is_the_mix_of_both_targets_losses():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(5, 1, 8), torch.tensor([0, 1, 2, 0, 1])
    out, loss = forward_backward(model, optimizer, x, y, "classify", 0.0, make_mixup(1.0, seed=2))
    mixed, other, lam = make_mixup(1.0, seed=2)(x, y)
    logits = model(mixed)
    expected = lam * torch.nn.functional.cross_entropy(logits, y) + (1 - lam) * torch.nn.functional.cross_entropy(logits, other)
    assert torch.allclose(out, logits) and torch.allclose(loss, expected)
    assert lam < 1.0 and not torch.allclose(loss, torch.nn.functional.cross_entropy(logits, y))


def test_mixup_trains_and_the_recipe_recalibrates_batchnorm(task, monkeypatch):
    calls = []
    monkeypatch.setattr(recipe_module, "recalibrate_batchnorm", lambda net, x: calls.append(len(x)))
    config = TrainConfig(**{**TINY, "norm": "batch"}, mixup=0.4, protocol="holdout")
    assert config.transforms_inputs and TrainConfig.from_json(config.to_json()).mixup == 0.4
    result = fit(task, config)
    assert np.isfinite(result.members[0].history.step_loss).all() and calls == [len(task.x_train)]


def test_label_smoothing_and_augmentation_train(task):
    result = train(task, TrainConfig(**TINY, augment="crop+jitter", label_smoothing=0.1))
    assert np.isfinite(result.history.step_loss).all()


def test_next_step_rule_keeps_runs_within_one_step_of_the_bound():
    assert not next_step_passes(10.0, now=8.0, steps=8)  # next ends at 9 s
    assert next_step_passes(10.0, now=9.5, steps=10)  # next would end at 10.45 s


def test_undertrained_warnings_name_the_cause():
    history = SimpleNamespace(epoch_train=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    cut = SimpleNamespace(stop_reason="max_seconds", steps=27, total_steps=200, history=history,
                          train={"metric": 0.667})
    messages = undertrained_warnings(cut)
    assert any("27 of 200 planned steps" in m for m in messages)
    assert any("still rising" in m for m in messages)
    done = SimpleNamespace(stop_reason=None, steps=200, total_steps=200, history=SimpleNamespace(
        epoch_train=[0.5, 0.9, 1.0, 1.0, 1.0, 1.0]), train={"metric": 1.0})
    assert undertrained_warnings(done) == [] and plateau_gap([1.0] * 8) == 0.0


def test_plan_is_refused_far_past_the_time_limit(task):
    plan = plan_run(task, TrainConfig(**TINY))
    assert plan.total_steps > 0 and "cross-validation" in plan.summary()
    check_plan(plan, max_seconds=plan.seconds)  # within the limit: no refusal
    with pytest.raises(RunRefused, match="under-trained"):
        check_plan(plan, max_seconds=plan.seconds / 3)


def test_cli_refuses_a_run_far_past_max_seconds_and_runs_with_force(tmp_path, capsys):
    status = main(["--task", "ucr:GunPoint", "--out", str(tmp_path / "r"), "--max-seconds", "1", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "refused:" in err and "planned at about" in err
    assert not (tmp_path / "r" / "model.safetensors").exists()


def test_cli_trains_with_the_recipe_and_records_protocol_and_device(tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["--task", "ucr:GunPoint", "--out", str(out), "--quiet", "--d-model", "4", "--n-layers", "1",
                   "--epochs", "2", "--min-steps", "0", "--batch-size", "32", "--folds", "2", "--norm", "layer",
                   "--device", "cpu", "--ensemble", "2", "--mixup", "0.3"])
    captured = capsys.readouterr()
    assert status == 0 and "2-fold cross-validation" in captured.out and "plan:" in captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"]["name"] == "cv" and metrics["device"] == "cpu"
    assert metrics["ensemble_members"] == 2 and metrics["train_config"]["mixup"] == 0.3
    assert isinstance(load_model(out), MultiresEnsemble)


@pytest.mark.filterwarnings("ignore::multires.training.history.TrainingWarning")
def test_recalibrated_batchnorm_statistics_match_the_training_data(task):
    net = train(task, TrainConfig(**{**TINY, "norm": "batch"})).net
    x = task.x_train
    with torch.no_grad():
        assert not torch.allclose(net.eval()(x), net.train()(x), atol=1e-3)  # stale statistics
        recalibrate_batchnorm(net, x, batch_size=len(x))  # one batch: the exact statistics of x
        assert not net.training
        assert torch.allclose(net(x), net.train()(x), atol=1e-3)  # eval mode now matches batch statistics


def _recalibrated_after_global_seed(net, x, seed):
    """``recalibrate_batchnorm`` on a copy of ``net`` right after ``torch.manual_seed(seed)``: the
    statistics it computed and the global generator's state before and after the call."""
    copy = copy_module.deepcopy(net)
    torch.manual_seed(seed)
    before = torch.get_rng_state()
    recalibrate_batchnorm(copy, x, batch_size=8)
    stats = [t.clone() for name, t in copy.state_dict().items() if name.endswith(("running_mean", "running_var"))]
    return stats, before, torch.get_rng_state()


def test_recalibration_neither_draws_from_nor_depends_on_the_global_random_state(task):
    """With dropout the model draws random masks in training mode: the recalibration must not (issue 19).

    It ran the whole net in training mode, so every dropout layer drew from PyTorch's global
    generator: the caller's random state moved and the statistics depended on it. Now only the
    BatchNorm layers gather statistics and dropout is off, as when the model is scored.
    """
    net = build_model(ModelConfig(d_model=4, n_layers=2, dropout=0.5, norm="batch", d_input=1, d_output=3,
                                  seq_len=task.x_train.shape[-1]), seed=0)
    x = task.x_train
    first, before, after = _recalibrated_after_global_seed(net, x, seed=1)
    second, _, _ = _recalibrated_after_global_seed(net, x, seed=2)
    assert first and all(torch.equal(a, b) for a, b in zip(first, second)), "the statistics depend on the global seed"
    assert torch.equal(before, after), "recalibration consumed the caller's random numbers"
    with torch.no_grad():  # the statistics are the exact ones of the eval-mode (dropout-off) inputs
        net.eval()
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.train()
        exact = net(x)  # one batch of all of x, batch statistics, dropout off
        recalibrated = copy_module.deepcopy(net)
        recalibrate_batchnorm(recalibrated, x, batch_size=len(x))
        assert torch.allclose(recalibrated(x), exact, atol=1e-3)  # running_var is the unbiased estimate
