"""``multires.training.runcost``: the estimate of a training run's memory and time, and the budget built on it.

The memory model is checked against what a real run does: ``tests/runcost_probe.py`` trains the
config in a fresh process through :func:`multires.training.train` (steps, an epoch-end validation,
the final scoring of every split) and reports its peak resident-memory growth; the estimate must be
within a factor of 2 either way. The time model is not checked against a clock here (a loaded CI
machine); ``benchmarks/bench_runcost.py`` prints measured / estimated step times.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import open_app
from multires.options import MAX_RUN_BYTES, MAX_STEP_SECONDS
from multires.training import TrainConfig
from multires.training.runcost import (
    EVAL_ELEMENTS,
    RunBudgetError,
    TaskShape,
    check_budget,
    estimate_run,
    eval_batch,
    over_budget,
)
from ui.train_data import recipe_for

PROBE = Path(__file__).resolve().parent / "runcost_probe.py"
PROBE_TRAIN = 48  # training series of the probe's task (3 steps of 16: one epoch)
SMNIST = TaskShape(length=784, channels_in=1, n_outputs=10, n_train=3500, n_val=500, n_test=1000)
DIGITS = TaskShape(length=64, channels_in=1, n_outputs=10, n_train=1259, n_val=179, n_test=359)
GUNPOINT = TaskShape(length=150, channels_in=1, n_outputs=2, n_train=40, n_val=10, n_test=150)
REDUCE = "reduce width, layers, the memory size M, the batch or the sequence length"


def measured_peak_growth(config: TrainConfig, length: int) -> int:
    """Peak RSS growth (bytes) of a short real run of ``config`` in a fresh process."""
    out = subprocess.run([sys.executable, str(PROBE), config.to_json(), str(length), str(PROBE_TRAIN)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return int(out.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("options, length", [
    (dict(d_model=64, n_layers=2), 784),  # sequential MNIST's length
    (dict(d_model=128, n_layers=4), 784),  # wider and deeper
    (dict(d_model=32, n_layers=1), 784),  # evaluation is the larger part
    (dict(d_model=64, n_layers=2, tree_select="learned", memory_size=300), 1460),  # learned, ACSF1's length
    (dict(d_model=16, n_layers=6, wavelet="db4"), 2048),  # a longer filter, a long sequence
], ids=["64x2", "128x4", "32x1-eval", "learned-M300", "db4-16x6"])
def test_memory_estimate_is_within_a_factor_of_two_of_the_measured_peak(options, length):
    config = TrainConfig(epochs=1, min_steps=0, **options)
    shape = TaskShape(length, 1, 4, PROBE_TRAIN, 64, 64)  # the probe's task
    estimated = estimate_run(config, shape).peak_bytes
    measured = measured_peak_growth(config, length)
    assert 0.5 <= measured / estimated <= 2.0, f"measured {measured / 2**20:.0f} MiB, estimated {estimated / 2**20:.0f} MiB"


SIZES = {  # field -> increasing values (the others at the base config below)
    "d_model": [8, 32, 128, 256],
    "n_layers": [1, 2, 5, 10],
    "batch_size": [4, 16, 64, 256],
    "memory_size": [8, 32, 128, 248],
}
BASE = dict(d_model=32, n_layers=2, tree_select="learned", memory_size=32, max_seconds=300.0)


@pytest.mark.parametrize("field", list(SIZES))
def test_estimate_grows_with_every_size(field):
    costs = [estimate_run(TrainConfig(**{**BASE, field: value}), SMNIST) for value in SIZES[field]]
    for smaller, larger in zip(costs, costs[1:]):
        assert larger.peak_bytes >= smaller.peak_bytes and larger.step_seconds >= smaller.step_seconds
    assert costs[-1].peak_bytes > costs[0].peak_bytes and costs[-1].step_seconds > costs[0].step_seconds


def test_estimate_grows_with_the_sequence_length():
    shapes = [dataclasses.replace(SMNIST, length=n) for n in (64, 256, 784, 2048, 16384)]
    costs = [estimate_run(TrainConfig(d_model=16, max_seconds=60.0), shape) for shape in shapes]
    for smaller, larger in zip(costs, costs[1:]):
        assert larger.peak_bytes > smaller.peak_bytes and larger.step_seconds > smaller.step_seconds
        assert larger.scoring_seconds > smaller.scoring_seconds


def test_eval_batch_bounds_the_activation_values():
    assert eval_batch(48, 64) == 512  # the small models keep the old batch
    for d_model, length in ((256, 784), (64, 16384), (256, 16384)):
        batch = eval_batch(d_model, length)
        assert batch >= 1 and (batch == 1 or batch * d_model * length <= EVAL_ELEMENTS)


def test_training_time_is_the_planned_steps_or_the_time_bound():
    free = estimate_run(TrainConfig(epochs=1, min_steps=0), DIGITS)
    assert free.steps == 79 and free.train_seconds == pytest.approx(79 * free.step_seconds + free.validation_seconds)
    bounded = estimate_run(TrainConfig(epochs=500, max_seconds=30.0), DIGITS)
    assert bounded.train_seconds == 30.0 and bounded.total_seconds == pytest.approx(30.0 + bounded.scoring_seconds)


@pytest.mark.parametrize("task", ["digits", "smnist", "psmnist", "ucr:GunPoint"])
def test_the_pages_recipes_are_within_budget(task):
    shape = {"digits": DIGITS, "smnist": SMNIST, "psmnist": SMNIST, "ucr:GunPoint": GUNPOINT}[task]
    recipe = recipe_for(task)
    config = TrainConfig(d_model=recipe.d_model, n_layers=recipe.n_layers, epochs=recipe.epochs,
                         max_seconds=float(recipe.seconds))
    assert over_budget(estimate_run(config, shape)) == []


def test_the_pages_maxima_are_refused_with_what_to_reduce():
    config = TrainConfig(d_model=256, n_layers=10, tree_select="learned", memory_size=248, epochs=500, max_seconds=300.0)
    cost = estimate_run(config, SMNIST)
    assert cost.step_seconds > MAX_STEP_SECONDS
    with pytest.raises(RunBudgetError, match="would take about .* per optimizer step") as refused:
        check_budget(config, SMNIST)
    assert REDUCE in str(refused.value)
    long_upload = dataclasses.replace(SMNIST, length=16384)
    with pytest.raises(RunBudgetError, match="of memory, more than the 1.5 GB one run may use") as refused:
        check_budget(TrainConfig(d_model=256, n_layers=10, max_seconds=300.0), long_upload)
    assert REDUCE in str(refused.value)
    assert estimate_run(TrainConfig(d_model=256, n_layers=10, max_seconds=300.0), long_upload).peak_bytes > MAX_RUN_BYTES


def test_a_config_the_task_cannot_hold_is_a_value_error():
    with pytest.raises(ValueError, match="memory_size=1024 is larger than"):
        estimate_run(TrainConfig(tree_select="learned", memory_size=1024), SMNIST)


# --- the Train page ------------------------------------------------------------------------------------


def test_train_page_shows_the_estimate_and_refuses_its_maxima_before_the_click():
    at = open_app("app_pages/5_Train.py", check=False)
    at.selectbox(key="train_task").set_value("digits").run()
    assert not at.exception
    assert any(c.value.startswith("Estimate per seed: ") and "/step" in c.value for c in at.caption)
    assert not at.button(key="train_start").disabled
    at.number_input(key="train_width").set_value(256)
    at.number_input(key="train_layers").set_value(10)
    at.run()
    assert not at.exception
    refusals = [e.value for e in at.error if e.value.startswith("This run ")]
    assert refusals and "reduce width, layers" in refusals[0]
    assert at.button(key="train_start").disabled
    assert "training_run" not in at.session_state
