"""The thread policy (``multires.training.threads``): parsing, precedence, the torchrun cap, and that the
CLI, the app's runtime and ``run_trial`` apply it while ``import multires`` does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import multires.training.cli as cli
from multires.training.threads import (
    DEFAULT_THREADS,
    ThreadPolicyError,
    apply_thread_policy,
    default_threads,
    parse_threads,
    resolve_threads,
    set_env_threads,
)

ROOT = Path(__file__).resolve().parent.parent
TINY_ARGS = ["--task", "digits", "--epochs", "1", "--min-steps", "0", "--batch-size", "128", "--d-model", "4", "--quiet"]


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MULTIRES_THREADS", "WME_TORCH_THREADS", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_is_one_thread():
    assert DEFAULT_THREADS == 1
    assert default_threads({}) == 1 and resolve_threads(None, {}) == 1


def test_environment_overrides_default_and_library_name_wins():
    assert default_threads({"WME_TORCH_THREADS": "3"}) == 3
    assert default_threads({"MULTIRES_THREADS": "2", "WME_TORCH_THREADS": "3"}) == 2
    assert default_threads({"MULTIRES_THREADS": " 4 "}) == 4
    assert default_threads({"MULTIRES_THREADS": "", "WME_TORCH_THREADS": "3"}) == 3  # empty = unset


def test_explicit_count_overrides_environment():
    assert resolve_threads(2, {"MULTIRES_THREADS": "5"}) == 2
    assert resolve_threads(3, {"MULTIRES_THREADS": "not a number"}) == 3  # the environment is not read


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "2x", "+"])
def test_bad_environment_values_name_the_variable(value):
    with pytest.raises(ThreadPolicyError, match=r"MULTIRES_THREADS must be a positive integer"):
        default_threads({"MULTIRES_THREADS": value})


@pytest.mark.parametrize("value", [0, -3, True, 2.0, "2", None])
def test_bad_explicit_values_are_rejected(value):
    if value == "2":  # a string from an argument parser is fine
        assert parse_threads(value) == 2
        return
    if value is None:
        with pytest.raises(ThreadPolicyError):
            parse_threads(value)
        return
    with pytest.raises(ThreadPolicyError, match="threads must be a positive integer"):
        resolve_threads(value, {})


def test_policy_error_is_a_value_error():
    assert issubclass(ThreadPolicyError, ValueError)


def test_torchrun_caps_the_policy_at_cores_per_local_rank():
    env = {"LOCAL_WORLD_SIZE": "2"}
    assert default_threads(env, cpu_count=8) == 1  # the default (1) is below the cap (4)
    assert default_threads({**env, "MULTIRES_THREADS": "8"}, cpu_count=8) == 4
    assert default_threads({**env, "MULTIRES_THREADS": "3"}, cpu_count=8) == 3
    assert default_threads({"LOCAL_WORLD_SIZE": "4", "MULTIRES_THREADS": "8"}, cpu_count=2) == 1  # never 0
    assert default_threads({"LOCAL_WORLD_SIZE": "1", "MULTIRES_THREADS": "8"}, cpu_count=2) == 8  # one process: no cap
    assert resolve_threads(6, {**env, "MULTIRES_THREADS": "8"}, cpu_count=8) == 6  # explicit: as given
    with pytest.raises(ThreadPolicyError, match="LOCAL_WORLD_SIZE"):
        default_threads({"LOCAL_WORLD_SIZE": "zero"})


def test_set_env_threads_writes_omp_num_threads():
    env = {"MULTIRES_THREADS": "3"}
    assert set_env_threads(env) == 3 and env["OMP_NUM_THREADS"] == "3"
    env = {}
    assert set_env_threads(env) == 1 and env["OMP_NUM_THREADS"] == "1"


def test_apply_sets_torch_threads_and_is_idempotent(clean_env, restore_threads):
    torch.set_num_threads(2)
    assert apply_thread_policy() == 1 and torch.get_num_threads() == 1
    assert apply_thread_policy() == 1 and torch.get_num_threads() == 1
    assert apply_thread_policy(2) == 2 and torch.get_num_threads() == 2
    clean_env.setenv("MULTIRES_THREADS", "2")
    torch.set_num_threads(1)
    assert apply_thread_policy() == 2 and torch.get_num_threads() == 2
    clean_env.setenv("MULTIRES_THREADS", "many")
    with pytest.raises(ThreadPolicyError):
        apply_thread_policy()
    assert torch.get_num_threads() == 2  # a bad value changes nothing


def test_cli_applies_the_policy_by_default(clean_env, restore_threads, tmp_path, capsys):
    torch.set_num_threads(2)
    assert cli.main([*TINY_ARGS, "--out", str(tmp_path / "a")]) == 0
    assert torch.get_num_threads() == 1
    assert "x 1 thread(s)" in capsys.readouterr().out
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["torch_threads"] == 1


def test_cli_threads_option_and_environment_override_the_default(clean_env, restore_threads, tmp_path):
    torch.set_num_threads(1)
    assert cli.main([*TINY_ARGS, "--threads", "2", "--out", str(tmp_path / "a")]) == 0
    assert torch.get_num_threads() == 2
    clean_env.setenv("MULTIRES_THREADS", "2")
    torch.set_num_threads(1)
    assert cli.main([*TINY_ARGS, "--out", str(tmp_path / "b")]) == 0
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("args, env", [(["--threads", "0"], None), ([], "lots")], ids=["option", "environment"])
def test_cli_bad_thread_count_exits_2_and_writes_nothing(args, env, clean_env, tmp_path, capsys):
    if env is not None:
        clean_env.setenv("MULTIRES_THREADS", env)
    out = tmp_path / "run"
    assert cli.main([*TINY_ARGS, *args, "--out", str(out)]) == 2
    assert "must be a positive integer" in capsys.readouterr().err
    assert not out.exists()


def test_cli_help_documents_the_policy():
    text = " ".join(cli.build_parser().format_help().split())
    assert "MULTIRES_THREADS" in text and "--threads" in text and "overrides" in text


def test_app_runtime_reads_the_policy(clean_env):
    from ui import runtime

    assert runtime.torch_threads() == 1
    clean_env.setenv("WME_TORCH_THREADS", "2")
    assert runtime.torch_threads() == 2
    clean_env.setenv("MULTIRES_THREADS", "3")
    assert runtime.torch_threads() == 3


def test_run_trial_applies_the_policy(clean_env, restore_threads, monkeypatch):
    from multires.study import trial

    def no_data(spec):  # the trial fails at loading: thread setting happens before, training never starts
        raise RuntimeError("no data in this test")

    monkeypatch.setattr(trial, "_load", no_data)
    spec = trial.TrialSpec(task="digits", tree_select="fading", memory_size=None, wavelet="haar", freeze_filters=False,
                           d_model=4, n_layers=1, epochs=1, max_seconds=None, seed=0)
    torch.set_num_threads(2)
    assert trial.run_trial(spec)["status"] == "error"
    assert torch.get_num_threads() == 1
    assert trial.run_trial(spec, threads=2)["status"] == "error" and torch.get_num_threads() == 2
    torch.set_num_threads(1)
    trial.run_trial(spec, threads=2, set_threads=False)
    assert torch.get_num_threads() == 1


def test_importing_the_library_leaves_threads_alone():
    code = """
import json, torch
torch.set_num_threads(2)
import multires
from multires import MultiresConv, MultiresNet, train
import multires.training, multires.data.tasks
MultiresConv(4, seq_len=64)(torch.randn(1, 4, 64))
print(json.dumps(torch.get_num_threads()))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "MULTIRES_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == 2


def test_policy_is_exported_lazily_from_the_package():
    import multires

    assert multires.apply_thread_policy is apply_thread_policy and multires.ThreadPolicyError is ThreadPolicyError
    assert "apply_thread_policy" in multires.__all__
