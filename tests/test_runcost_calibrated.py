"""The measured run-cost estimate (multires.training.calibrate): what the CLI and fit() plan with.

No wall-clock asserts: the times themselves depend on the machine's load. What is checked is how
the measured rates are used (positive, counted over the planned steps, the basis of the refusal),
that measuring leaves the run and the caller's random state unchanged, and what the CLI prints.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import multires.training.calibrate as calibrate_module
from multires.data.tasks import from_arrays
from multires.model import build_model
from multires.training.calibrate import CALIBRATION_MAX_STEPS, measure_rates, time_steps
from multires.training.cli import main
from multires.training.config import TrainConfig
from multires.training.plan import RunRefused, check_plan, plan_run
from multires.training.recipe import fit
from multires.training.runcost import MeasuredRates, TaskShape, estimate_run

TINY = dict(d_model=4, n_layers=1, epochs=2, min_steps=0, batch_size=8, folds=2)


def _task(n_per_class=12, length=32, seed=0):
    """Two classes of noisy sines (slow and fast), small enough for runs of a second or two."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)

    def draw(count):
        X, y = [], []
        for label in (0, 1):
            for _ in range(count):
                X.append(np.sin(2 * np.pi * (label * 3 + 1) * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(length))
                y.append(f"c{label}")
        return np.array(X), y

    X_train, y_train = draw(n_per_class)
    X_test, y_test = draw(4)
    return from_arrays("sines", X_train, y_train, X_test, y_test, seed=seed)


@pytest.fixture(scope="module")
def task():
    return _task()


def _fixed_rates(monkeypatch, step=0.5, forward=0.01):
    rates = MeasuredRates(step, forward, 3, 0.1)
    monkeypatch.setattr(calibrate_module, "measure_rates", lambda task, config: rates)
    return rates


def test_measured_rates_are_positive_and_the_plan_says_it_measured(task):
    rates = measure_rates(task, TrainConfig(**TINY))
    assert rates.step_seconds > 0 and rates.forward_seconds_per_sample > 0
    assert 1 <= rates.steps_timed <= CALIBRATION_MAX_STEPS  # fewer than 3 only when a step took seconds (load)
    plan = plan_run(task, TrainConfig(**TINY))
    assert plan.measured_steps >= 1 and plan.seconds > 0 and plan.step_seconds > 0
    assert plan.basis in ("measured on 1 step", f"measured on {plan.measured_steps} steps")
    assert f"({plan.basis})" in plan.summary() and plan.calibration_seconds > 0
    model = plan_run(task, TrainConfig(**TINY), calibrate=False)
    assert model.measured_steps == 0 and "not measured" in model.summary() and "measured on" not in model.summary()


def test_a_slow_model_is_timed_on_fewer_steps():
    config = TrainConfig(d_model=4, n_layers=1, batch_size=4)
    shape = TaskShape(32, 1, 2, 8, 4, 4)
    net = build_model(config.model_config(shape), 0)
    x, y = torch.randn(4, 1, 32), torch.tensor([0, 1, 0, 1])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert len(time_steps(net, config, x, y, "classify", steps=3, max_seconds=1e-9)) == 1  # warm-up too slow
    assert len(time_steps(net, config, x, y, "classify", steps=3, warmup=2, max_seconds=1e-9)) == 1
    assert len(time_steps(net, config, x, y, "classify", steps=3, max_seconds=None)) == 3
    assert len(time_steps(net, config, x, y, "classify", steps=3, max_seconds=None, min_seconds=1e6, max_steps=7)) == 7
    assert any(not torch.equal(before[k], v) for k, v in net.state_dict().items())  # real optimizer steps ran


def test_the_estimate_counts_measured_rates_over_the_planned_steps():
    shape = TaskShape(length=64, channels_in=1, n_outputs=10, n_train=100, n_val=20, n_test=30)
    rates = MeasuredRates(0.25, 0.002, 3)
    config = TrainConfig(epochs=3, min_steps=0, batch_size=10)
    cost = estimate_run(config, shape, rates)
    assert cost.steps == 30 and cost.measured_steps == 3 and cost.step_seconds == 0.25
    assert math.isclose(cost.total_seconds, 30 * 0.25 + 3 * 20 * 0.002 + 150 * 0.002)
    model = estimate_run(config, shape)
    assert model.measured_steps == 0 and model.peak_bytes == cost.peak_bytes  # memory is counted, not timed
    with pytest.raises(ValueError, match="positive"):
        MeasuredRates(0.0, 0.001, 3)


def test_the_plan_scales_with_the_steps(task, monkeypatch):
    _fixed_rates(monkeypatch)
    short = plan_run(task, TrainConfig(**{**TINY, "epochs": 2}))
    long = plan_run(task, TrainConfig(**{**TINY, "epochs": 8}))
    assert long.total_steps == 4 * short.total_steps and short.measured_steps == 3
    training = {p: p.total_steps * 0.5 for p in (short, long)}  # the steps alone, at the fixed step time
    assert long.seconds > short.seconds > training[short] and long.seconds > training[long]
    assert 3.0 < long.seconds / short.seconds <= 4.0  # scoring does not grow with the epochs


def test_the_refusal_uses_the_measured_figure(task, monkeypatch):
    config = TrainConfig(**TINY)
    model_plan = plan_run(task, config, calibrate=False)
    _fixed_rates(monkeypatch, step=100 * model_plan.step_seconds, forward=1.0)
    slow = plan_run(task, config)
    assert slow.seconds > 50 * model_plan.seconds
    limit = 2 * model_plan.seconds
    check_plan(model_plan, limit)  # the model's figure would pass
    with pytest.raises(RunRefused, match="planned at about"):
        check_plan(slow, limit)


@pytest.mark.parametrize("options", [dict(norm="layer"), dict(norm="batch", dropout=0.2, augment="crop+jitter")],
                         ids=["plain", "dropout-augment"])
def test_measuring_first_changes_neither_the_weights_nor_the_callers_random_state(task, options):
    config = TrainConfig(**{**TINY, **options})
    torch.manual_seed(123)
    state = torch.get_rng_state()
    plan = plan_run(task, config)  # times real steps, with dropout drawing from the global generator
    assert plan.measured_steps > 0 and torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(123)  # (fit's BatchNorm recalibration after augmented training draws dropout masks)
    measured = fit(task, config)  # plans with measured rates itself
    torch.manual_seed(123)
    plain = fit(task, config, plan=plan_run(task, config, calibrate=False))
    assert measured.plan.measured_steps > 0
    assert plain.plan.measured_steps == 0
    a, b = measured.net.state_dict(), plain.net.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert measured.test == plain.test
    metrics = measured.metrics()
    assert metrics["estimated_seconds"] > 0 and metrics["estimate_basis"] == measured.plan.basis
    assert measured.plan.basis.startswith("measured on")


def test_cli_prints_the_measured_plan_and_refuses_on_it(tmp_path, capsys, monkeypatch):
    args = ["--task", "ucr:ItalyPowerDemand", "--quiet", "--d-model", "4", "--n-layers", "1", "--epochs", "1",
            "--min-steps", "0", "--folds", "2", "--norm", "layer"]
    out = tmp_path / "run"
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "plan: cv protocol" in err and "(measured on " in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["estimate_basis"].startswith("measured on") and metrics["estimated_seconds"] > 0

    assert main([*args, "--out", str(tmp_path / "model"), "--no-calibrate", "--max-seconds", "600"]) == 0
    assert "not measured" in capsys.readouterr().err

    _fixed_rates(monkeypatch, step=30.0, forward=1.0)  # a machine where every step takes 30 s
    status = main([*args, "--out", str(tmp_path / "slow"), "--max-seconds", "60"])
    err = capsys.readouterr().err
    assert status == 2 and "refused:" in err and "(measured on 3 steps)" in err
    assert not (tmp_path / "slow" / "model.safetensors").exists()
