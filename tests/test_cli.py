"""``python -m multires.training``: one process and ``torchrun`` ranks write loadable checkpoints;
bad arguments and failed training write nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import multires.training.cli as cli
from conftest import free_port
from multires.checkpoint import load_checkpoint
from multires.data.tasks import load_task
from multires.training import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
TINY_ARGS = ["--task", "digits", "--epochs", "1", "--min-steps", "0", "--batch-size", "64", "--d-model", "8", "--quiet"]
SUBPROCESS_TIMEOUT_S = 300


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""), "OMP_NUM_THREADS": "1"}


def _check_run(out: Path, world_size: int) -> dict:
    net, config, metrics = load_checkpoint(out / "model.safetensors")
    assert config.d_model == 8 and config.seq_len == 64 and config.d_output == 10
    assert json.loads((out / "config.json").read_text()) == json.loads(config.to_json())
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["task"] == "digits" and metrics["world_size"] == world_size
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.0 <= metrics["train_accuracy_eval_mode"] <= 1.0
    # 20 steps: BatchNorm statistics cannot have converged, so no epoch competes and the run says so
    assert metrics["best_epoch"] is None and any("BatchNorm" in w for w in metrics["warnings"])
    with torch.no_grad():
        assert net(torch.zeros(2, 1, 64)).shape == (2, 10)
    return metrics


@pytest.mark.slow  # a real training run in a subprocess: among the slowest tests
def test_single_process_run_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "multires.training", *TINY_ARGS, "--threads", "1", "--out", str(out)],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout and "model.safetensors" in done.stdout
    metrics = _check_run(out, world_size=1)
    assert metrics["train_config"]["d_model"] == 8 and metrics["data_seed"] == 0


def test_parser_defaults_are_the_trainer_defaults():
    args = cli.build_parser().parse_args(["--out", "x"])
    assert cli._train_config(args) == TrainConfig()
    args = cli.build_parser().parse_args(["--out", "x", "--wavelet", "none", "--freeze-filters",
                                          "--tree-select", "learned", "--memory-size", "8"])
    config = cli._train_config(args)
    assert config.wavelet is None and config.freeze_filters and config.memory_size == 8


def test_preset_paper_parses_to_the_paper_config_and_options_override_it():
    args = cli.build_parser().parse_args(["--out", "x", "--preset", "paper"])
    assert cli._train_config(args) == TrainConfig(preset="paper")
    args = cli.build_parser().parse_args(["--out", "x", "--preset", "paper", "--lr", "0.003", "--d-model", "16"])
    config = cli._train_config(args)
    assert (config.lr, config.d_model, config.decay, config.norm) == (0.003, 16, "all", "layer")
    args = cli.build_parser().parse_args(["--out", "x", "--preset", "paper", "--min-steps", "300", "--batch-size", "16"])
    config = cli._train_config(args)  # values equal to the default recipe's are still the user's choice
    assert (config.min_steps, config.batch_size, config.epochs) == (300, 16, 100)


def test_budget_options_reach_the_config():
    args = cli.build_parser().parse_args(["--out", "x", "--min-steps", "50", "--patience", "4", "--warmup-epochs", "2",
                                          "--decay", "all", "--last-epoch"])
    config = cli._train_config(args)
    assert (config.min_steps, config.patience, config.warmup_epochs, config.decay, config.select_best) == (
        50, 4, 2.0, "all", False)


def test_unknown_task_exits_2_with_load_task_message(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(ValueError) as expected:
        load_task("no-such-task")
    assert cli.main(["--task", "no-such-task", "--out", str(out), "--quiet"]) == 2
    assert str(expected.value) in capsys.readouterr().err
    assert not out.exists()


def test_task_name_is_passed_to_load_task_as_typed(tmp_path, monkeypatch):
    seen = []

    def small(name, seed=0):
        seen.append(name)
        return load_task("digits", seed=seed)

    monkeypatch.setattr(cli, "load_task", small)
    assert cli.main([*TINY_ARGS[2:], "--task", "ucr:Whatever", "--out", str(tmp_path / "run")]) == 0
    assert seen == ["ucr:Whatever"]


def test_short_run_prints_its_warning_and_records_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*TINY_ARGS, "--batch-size", "256", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: BatchNorm running statistics cannot have converged" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert any("BatchNorm" in w for w in metrics["warnings"])


def test_invalid_arguments_exit_2_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*TINY_ARGS, "--tree-select", "uniform", "--out", str(out)]) == 2
    assert "memory_size" in capsys.readouterr().err
    assert not out.exists()


def test_failed_training_exits_1_and_writes_nothing(tmp_path, capsys, monkeypatch):
    def poisoned(name, seed=0):
        task = load_task(name, seed=seed)
        x = task.x_train.clone()
        x[0, 0, 0] = float("nan")
        return dataclasses.replace(task, x_train=x)

    monkeypatch.setattr(cli, "load_task", poisoned)
    out = tmp_path / "run"
    assert cli.main([*TINY_ARGS, "--out", str(out)]) == 1
    assert "non-finite" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_write_one_loadable_checkpoint(tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master-addr=127.0.0.1", f"--master-port={free_port()}",
        "-m", "multires.training", *TINY_ARGS, "--tree-select", "learned", "--memory-size", "7", "--out", str(out),
    ]
    env = {**_env(), "MASTER_ADDR": "127.0.0.1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("wrote") == 1  # only rank 0 writes
    metrics = _check_run(out, world_size=2)
    net, _, _ = load_checkpoint(out)
    for conv in net.convs:  # the learned selection survived DDP (ranks were checked bit-identical)
        assert conv.slot_mask.sum(dim=1).tolist() == [7] * conv.channels
    assert metrics["steps"] == metrics["total_steps"] == 20  # ceil(629 / (64 // 2)) steps per rank


# --- issue 23: bad --out and thread counts are refused before any training --------------------------------


@pytest.fixture
def no_training(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("training started although the command should have been refused")

    monkeypatch.setattr(cli, "train", forbidden)
    monkeypatch.setattr(cli, "load_task", forbidden)


def test_an_unwritable_out_is_refused_before_training(no_training, capsys):
    assert cli.main([*TINY_ARGS, "--out", "/dev/null/x"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the --out directory '/dev/null/x': '/dev/null' is not a directory" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_huge_thread_count_is_refused_with_a_message(no_training, capsys, monkeypatch, tmp_path, how):
    from multires.training.threads import MAX_THREADS

    args = [*TINY_ARGS, "--out", str(tmp_path / "run")]
    if how == "flag":
        args += ["--threads", "100000"]
    else:
        monkeypatch.setenv("MULTIRES_THREADS", "100000")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"100,000 threads; at most {MAX_THREADS} are allowed" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["²", "١", "1e3", "-1"])
def test_thread_counts_must_be_plain_ascii_positive_integers(value):
    from multires.training.threads import ThreadPolicyError, parse_threads

    with pytest.raises(ThreadPolicyError, match="positive integer"):
        parse_threads(value, "MULTIRES_THREADS")


@pytest.fixture
def no_study(monkeypatch):
    import multires.study.runner as runner

    def forbidden(*args, **kwargs):
        raise AssertionError("the study started although the command should have been refused")

    monkeypatch.setattr(runner, "run_study", forbidden)


@pytest.mark.parametrize(("extra", "message"), [
    (["--out", "/dev/null/x"], "cannot write the --out directory '/dev/null/x'"),
    (["--tasks", "ucr:Nope"], "unknown UCR dataset 'Nope'"),
    (["--address", "127.0.0.1:1"], "cannot reach the Ray cluster at '127.0.0.1:1'"),
    (["--address", "256.256.256.256:6379"], "cannot reach the Ray cluster at '256.256.256.256:6379'"),
])
def test_the_study_cli_refuses_before_any_trial(no_study, capsys, tmp_path, extra, message):
    from multires.study.__main__ import main as study_main

    args = ["--grid", "smoke", "--out", str(tmp_path / "study"), *extra]
    assert study_main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "study").exists()
