"""multires.study: grid expansion, memory counts, one trial, the results table, and real Ray runs.

The Ray tests start a local Ray with 2 CPUs (no dashboard) and run the 2-trial ``smoke`` grid
(tiny memory task, 1 epoch): once through the CLI in a subprocess, once through the Python API.
Both have hard timeouts so a stuck Ray cannot hang the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import torch

from conftest import ROOT
from multires import ModelConfig, MultiresNet
from multires.study import (
    REQUIRED_COLUMNS,
    StudyGrid,
    StudyResultsError,
    all_trials,
    grid_preset,
    memory_budget,
    pareto_front,
    read_results,
    run_study,
    run_trial,
    summarise,
)
from multires.treeselect import default_depth

RAY_TIMEOUT_S = 300


# --- grid -----------------------------------------------------------------------------------


def test_grid_runs_fading_once_per_setting_and_skips_frozen_random_filters():
    grid = StudyGrid(tasks=("digits",), memory_sizes=(4, 8), inits=("haar", "random"), freeze=(False, True),
                     seeds=(0,))
    trials = grid.trials()
    combos = [(t.tree_select, t.memory_size, t.wavelet, t.freeze_filters) for t in trials]
    assert combos.count(("fading", None, "haar", False)) == 1
    assert ("fading", None, None, True) not in combos and ("learned", 4, None, True) not in combos
    # fading: 3 inits (haar learned, haar frozen, random learned); uniform and learned: 2 budgets each
    assert len(trials) == 3 + 2 * 2 * 3
    assert len({t.key() for t in trials}) == len(trials), "every trial has its own key"


def test_trial_key_is_stable_and_depends_on_every_field():
    a, b = all_trials(grid_preset("smoke"))
    assert a.key() == all_trials(grid_preset("smoke"))[0].key()
    assert a.key() != b.key()
    assert a.key() != type(a).from_dict({**a.to_dict(), "epochs": 2}).key()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tree_selects": ("fading", "best")}, "unknown tree_select 'best'"),
        ({"memory_sizes": (0,)}, "memory_sizes must hold integers >= 1"),
        ({"seeds": ()}, "seeds must be a non-empty tuple"),
        ({"inits": ("haar", "nope")}, "nope"),
        ({"d_models": (4, 4)}, "d_models has repeated values"),
        ({"task_options": {"memory": {}}}, "task_options names tasks not in the grid"),
    ],
)
def test_grid_refuses_bad_settings_with_a_clear_message(changes, message):
    with pytest.raises(ValueError, match=message):
        StudyGrid(tasks=("digits",), **changes)


def test_unknown_preset_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: smoke, paired, paired-psmnist, paired-ucr-long, full, ucr, memory"):
        grid_preset("huge")


# --- memory counts ----------------------------------------------------------------------------


def _net(**kwargs) -> MultiresNet:
    torch.manual_seed(0)
    return MultiresNet(ModelConfig(d_input=1, d_output=2, d_model=6, n_layers=2, seq_len=64, **kwargs))


def test_fading_keeps_depth_plus_one_distinct_slots_per_layer():
    budget = memory_budget(_net())
    depth = default_depth(64, 2)
    assert budget == {"slots_per_channel": depth + 1, "distinct_slots_mean": depth + 1.0,
                      "distinct_slots_max": depth + 1, "depth": depth}


def test_uniform_keeps_m_distinct_slots_per_layer():
    budget = memory_budget(_net(tree_select="uniform", memory_size=5))
    assert (budget["slots_per_channel"], budget["distinct_slots_mean"], budget["distinct_slots_max"]) == (5, 5.0, 5)


def test_learned_counts_the_union_of_what_its_channels_keep():
    net = _net(tree_select="learned", memory_size=3)
    for conv in net.convs:  # give each channel its own 3 slots, overlapping in slot 0
        with torch.no_grad():
            conv.slot_mask.zero_()
            for c in range(conv.channels):
                conv.slot_mask[c, [0, 1 + c, 2 + c]] = True
    net.convs[1].slot_mask[:, :] = net.convs[1].slot_mask[0]  # second layer: all channels alike
    budget = memory_budget(net)
    expected_first = len({0} | set(range(1, 7)) | set(range(2, 8)))  # 8 distinct slots
    assert budget["slots_per_channel"] == 3
    assert budget["distinct_slots_max"] == expected_first
    assert budget["distinct_slots_mean"] == (expected_first + 3) / 2


# --- one trial without Ray ----------------------------------------------------------------------


def test_run_trial_returns_a_full_row_and_per_lag_scores():
    spec = all_trials(grid_preset("smoke"))[1]  # uniform, M=4 on the tiny memory task
    row = run_trial(spec, threads=None)
    assert row["status"] == "ok", row.get("error")
    assert row["key"] == spec.key() and row["init"] == "learned from haar"
    assert [c for c in REQUIRED_COLUMNS if c not in row] == []
    assert sorted(k for k in row if k.startswith("r2_lag_")) == ["r2_lag_1", "r2_lag_2", "r2_lag_4", "r2_lag_8"]
    lag_scores = [row[f"r2_lag_{lag}"] for lag in (1, 2, 4, 8)]
    assert row["test_score"] == pytest.approx(sum(lag_scores) / 4)
    assert (row["slots_per_channel"], row["distinct_slots_max"]) == (4, 4)


def test_a_failing_trial_becomes_an_error_row():
    spec = type(all_trials(grid_preset("smoke"))[0]).from_dict(
        {**all_trials(grid_preset("smoke"))[0].to_dict(), "task": "no-such-task"})
    row = run_trial(spec, threads=None)
    assert row["status"] == "error" and "unknown task 'no-such-task'" in row["error"]


# --- the results table ----------------------------------------------------------------------------


def test_pareto_front_keeps_only_undominated_points():
    points = pd.DataFrame({"slots": [9, 4, 4, 16, 8, 12], "score": [0.7, 0.5, 0.6, 0.9, 0.65, 0.8]})
    front = pareto_front(points, "slots", "score")
    assert list(zip(front["slots"], front["score"])) == [(4, 0.6), (8, 0.65), (9, 0.7), (12, 0.8), (16, 0.9)]
    assert pareto_front(points.assign(score=[0.9, 0.5, 0.6, 0.1, 0.2, 0.3]), "slots", "score")["slots"].tolist() == [4, 9]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"a,b\n1,2\n", "missing column"),
        (b"\x00\x01PK\x03garbage" * 10, "could not read|missing column"),
    ],
)
def test_read_results_refuses_a_wrong_file(data, message):
    with pytest.raises(StudyResultsError, match=message):
        read_results(data)


def test_read_results_refuses_non_numeric_scores(tmp_path):
    row = {c: 1 for c in REQUIRED_COLUMNS} | {"test_score": "high"}
    with pytest.raises(StudyResultsError, match="'test_score' must be numeric"):
        read_results(pd.DataFrame([row]).to_csv(index=False).encode())


# --- real Ray runs ----------------------------------------------------------------------------------


def _cli(out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "multires.study", "--grid", "smoke", "--out", str(out), "--num-cpus", "2", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=RAY_TIMEOUT_S, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"},
    )


@pytest.mark.slow
@pytest.mark.timeout(2 * RAY_TIMEOUT_S + 60)
def test_cli_runs_the_smoke_grid_on_a_local_ray_and_resumes(tmp_path):
    first = _cli(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    table = read_results(tmp_path / "results.csv")
    assert len(table) == 2 and set(table["tree_select"]) == {"fading", "uniform"}
    assert (table["status"] == "ok").all()
    parquet = pd.read_parquet(tmp_path / "results.parquet")
    assert list(parquet.columns) == list(table.columns) and len(parquet) == 2
    fading = table[table["tree_select"] == "fading"].iloc[0]
    assert fading["distinct_slots_mean"] == fading["depth"] + 1 == 6  # length 32, k=2: J = 5
    assert table[table["tree_select"] == "uniform"].iloc[0]["distinct_slots_max"] == 4
    charts = (tmp_path / "charts.html").read_text(encoding="utf-8")
    assert "Pareto front" in charts and "resolution fading" in charts and str(tmp_path / "charts.html") in first.stdout

    again = _cli(tmp_path)  # same grid, same --out: nothing to run
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 already done, 0 to run" in again.stderr
    assert read_results(tmp_path / "results.csv")["key"].tolist() == table["key"].tolist()


@pytest.mark.slow
@pytest.mark.timeout(3 * RAY_TIMEOUT_S + 60)  # three CLI runs, each bounded by RAY_TIMEOUT_S
def test_cli_local_backend_runs_the_same_trials_without_ray_and_resumes(tmp_path):
    first = _cli(tmp_path, "--backend", "local")
    assert first.returncode == 0, first.stderr[-3000:]
    table = read_results(tmp_path / "results.csv")
    assert len(table) == 2 and (table["status"] == "ok").all() and set(table["tree_select"]) == {"fading", "uniform"}
    assert sum(line.startswith("[") for line in first.stderr.splitlines()) == 2
    assert not (tmp_path / "tune").exists()  # Ray Tune never ran
    again = _cli(tmp_path, "--backend", "local")
    assert again.returncode == 0 and "2 already done, 0 to run" in again.stderr
    refused = _cli(tmp_path, "--backend", "local", "--address", "127.0.0.1:6379")
    assert refused.returncode == 2 and "--backend ray" in refused.stderr


def test_cli_refuses_bad_flags_before_starting_ray(tmp_path):
    bad = _cli(tmp_path, "--tree-selects", "fading,best")
    assert bad.returncode == 2 and "unknown tree_select 'best'" in bad.stderr
    assert not (tmp_path / "results.csv").exists()


@pytest.fixture
def local_ray():
    import ray  # requirements-dev.txt installs ray[tune]; a missing Ray must fail, not skip

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}})
    yield ray
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.timeout(2 * RAY_TIMEOUT_S)  # generous: a busy 2-core machine, two studies in one Ray
def test_python_api_runs_on_ray_keeps_finished_rows_and_only_runs_new_trials(tmp_path, local_ray):
    (grid,) = grid_preset("smoke")
    lines: list[str] = []
    table = run_study(grid, tmp_path, log=lines.append)
    assert len(table) == 2 and (table["status"] == "ok").all()
    assert sum(line.startswith("[") for line in lines) == 2, lines

    wider = StudyGrid(**{**grid.__dict__, "seeds": (0, 1)})
    lines.clear()
    table = run_study(wider, tmp_path, log=lines.append)
    assert "4 trials, 2 already done, 2 to run" in lines[0]
    assert sorted(table["seed"].tolist()) == [0, 0, 1, 1] and table["key"].is_unique
    summary = summarise(table, by=("tree_select",))
    assert summary["seeds"].tolist() == [2, 2]


def test_write_charts_draws_every_task_with_measured_baselines_only(tmp_path):
    from multires.study.report import write_charts

    table = read_results(ROOT / "assets" / "studies" / "ucr.csv")
    baselines = tmp_path / "baselines.csv"
    baselines.write_text("task,method,seed,accuracy\nucr:GunPoint,MiniRocket,0,0.99\n", encoding="utf-8")
    html = write_charts(table, tmp_path / "out", baselines=baselines).read_text(encoding="utf-8")
    for task in sorted(set(table["task"])):
        assert f"<h2>{task}</h2>" in html
    assert html.count("Pareto front") >= len(set(table["task"]))
    assert html.count("MiniRocket") >= 1 and "1-NN DTW" not in html  # only the measured line
    no_lines = write_charts(table, tmp_path / "none", baselines=None).read_text(encoding="utf-8")
    assert "MiniRocket" not in no_lines
