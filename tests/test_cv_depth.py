"""The cv protocol's choice of the tree depth J (TrainConfig.cv_depths, --depth / --cv-depths): every
candidate on the same folds, the best mean held-out score wins, the refit uses it. No wall-clock asserts."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import multires.training.recipe as recipe_module
from multires.config import ModelConfig
from multires.data.tasks import from_arrays
from multires.model import build_model
from multires.training.cli import main
from multires.training.config import TrainConfig
from multires.training.crossval import cross_validate, depth_candidates
from multires.training.plan import plan_run
from multires.training.recipe import fit
from multires.treeselect import default_depth

TINY = dict(d_model=4, n_layers=1, epochs=3, min_steps=0, batch_size=16, norm="layer", folds=3)
LENGTH = 24


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, LENGTH)
    x = [np.sin(2 * np.pi * (c + 1) * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(LENGTH)
         for c in (0, 1, 2) for _ in range(10)]
    y = [f"c{c}" for c in (0, 1, 2) for _ in range(10)]
    return from_arrays("sines", np.array(x[::2]), y[::2], np.array(x[1::2]), y[1::2], seed=0)


def test_candidates_are_resolved_against_the_series_length(task):
    full = default_depth(LENGTH, 2)
    assert depth_candidates(task, TrainConfig(cv_depths="2,full")) == [full, 2]
    assert depth_candidates(task, TrainConfig(cv_depths=f"{full + 3},full,2")) == [full, 2]  # past full: the same tree
    assert depth_candidates(task, TrainConfig(depth=3, cv_depths="2,full")) == [3]  # a given depth is not searched
    assert depth_candidates(task, TrainConfig(cv_depths="full")) == [full]
    assert depth_candidates(task, TrainConfig()) == [full, 3]  # the default "3,5,full": 5 is this series' full tree


@pytest.mark.parametrize("bad", ["", "0,full", "4,4", "deep", "4;full", 4])
def test_bad_depth_lists_are_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match="cv_depths must be distinct tree depths"):
        TrainConfig(cv_depths=bad)


def _stub_run(scores_by_depth):
    """A sub-run that returns the held-out curve given for its depth (no training)."""
    net = build_model(ModelConfig(d_model=2, n_layers=1, seq_len=LENGTH, norm="layer"))
    calls = []

    def run(fold_task, config, stage):
        calls.append((config.depth, stage, fold_task.x_val.clone()))
        curve = scores_by_depth[config.depth]
        return SimpleNamespace(history=SimpleNamespace(epoch_val=curve, epoch_val_loss=[1.0] * len(curve),
                                                       epoch_step=list(range(1, len(curve) + 1))),
                               train_time=0.0, net=net, stop_reason="steps", steps=3, total_steps=3)
    return run, calls


def test_the_depth_with_the_best_mean_held_out_score_wins_on_the_same_folds(task):
    full = default_depth(LENGTH, 2)
    run, calls = _stub_run({full: [0.5, 0.6, 0.6], 2: [0.5, 0.8, 0.7]})
    record = cross_validate(task, TrainConfig(**TINY, cv_depths="2,full"), 3, run)
    assert record["chosen_depth"] == 2 and record["chosen_epochs"] == 2 and record["chosen_score"] == pytest.approx(0.8)
    assert [d["depth"] for d in record["depths"]] == [full, 2]
    assert [d["chosen_score"] for d in record["depths"]] == pytest.approx([0.6, 0.8])
    held_out = {depth: [x for d, _, x in calls if d == depth] for depth in (full, 2)}
    assert len(held_out[full]) == len(held_out[2]) == 3
    assert all(torch.equal(a, b) for a, b in zip(held_out[full], held_out[2]))  # every depth on the same folds
    assert [stage for _, stage, _ in calls][:1] == [f"fold 1/3, depth {full}"]


def test_a_tie_goes_to_the_later_epoch_then_to_the_deeper_tree(task):
    full = default_depth(LENGTH, 2)
    run, _ = _stub_run({full: [0.7, 0.5, 0.5], 2: [0.5, 0.7, 0.6]})
    record = cross_validate(task, TrainConfig(**TINY, cv_depths="2,full"), 3, run)
    assert (record["chosen_depth"], record["chosen_epochs"]) == (2, 2)  # the later epoch
    run, _ = _stub_run({full: [0.5, 0.7, 0.6], 2: [0.5, 0.7, 0.6]})
    record = cross_validate(task, TrainConfig(**TINY, cv_depths="2,full"), 3, run)
    assert (record["chosen_depth"], record["chosen_epochs"]) == (full, 2)  # same epoch: the deeper tree


@pytest.mark.filterwarnings("ignore::multires.training.history.TrainingWarning")
def test_fit_refits_with_the_chosen_depth_and_says_so(task, monkeypatch):
    depths_trained = []
    real_train = recipe_module.train

    def spy(run_task, config, callback=None, **kw):
        depths_trained.append(config.depth)
        return real_train(run_task, config, callback, **kw)

    monkeypatch.setattr(recipe_module, "train", spy)
    result = fit(task, TrainConfig(**TINY, cv_depths="2,full"))
    full = default_depth(LENGTH, 2)
    chosen = result.cv["chosen_depth"]
    assert depths_trained == [full] * 3 + [2] * 3 + [chosen]
    assert result.net.config.resolved_depth == chosen
    best = max(result.cv["depths"], key=lambda d: (d["chosen_score"], d["chosen_epochs"]))
    assert chosen == best["depth"] and result.budget_epochs == best["chosen_epochs"]
    assert f"tree depth {chosen} (of {full}, 2)" in result.describe()
    assert result.metrics()["protocol"]["cv"]["chosen_depth"] == chosen


def test_the_plan_times_every_candidate_depth(task):
    plan = plan_run(task, TrainConfig(**TINY, cv_depths="2,full"), calibrate=False)
    full = default_depth(LENGTH, 2)
    assert [what for what, _, _ in plan.runs] == [f"3-fold cross-validation, tree depth {full}",
                                                 "3-fold cross-validation, tree depth 2",
                                                 "refit on the whole training split"]
    single = plan_run(task, TrainConfig(**TINY, cv_depths="full"), calibrate=False)
    assert [what for what, _, _ in single.runs] == ["3-fold cross-validation", "refit on the whole training split"]
    assert plan.seconds > single.seconds


def test_cli_depth_options_reach_the_model_and_the_metrics(tmp_path, capsys):
    common = ["--task", "ucr:GunPoint", "--quiet", "--d-model", "4", "--n-layers", "1", "--epochs", "2",
              "--min-steps", "0", "--batch-size", "32", "--folds", "2", "--norm", "layer", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "a"), "--depth", "3"]) == 0
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["depth"] == 3
    assert main([*common, "--out", str(tmp_path / "b"), "--cv-depths", "3,full"]) == 0
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert metrics["protocol"]["cv"]["chosen_depth"] in (3, default_depth(150, 2))
    assert "tree depth" in capsys.readouterr().out


def test_depths_too_shallow_for_a_uniform_or_learned_memory_are_left_out(task):
    full = default_depth(LENGTH, 2)  # 5: a depth-2 tree offers 4 uniform slots, a depth-3 tree 8
    uniform = TrainConfig(tree_select="uniform", memory_size=6, cv_depths="2,3,full")
    assert depth_candidates(task, uniform) == [full, 3]
    learned = TrainConfig(tree_select="learned", memory_size=6, cv_depths="2,3,full")
    assert 2 not in depth_candidates(task, learned) and full in depth_candidates(task, learned)
