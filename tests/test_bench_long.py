"""benchmarks/bench_long.py judges its runs from their own metrics.json: the verdicts on fake runs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_long", ROOT / "benchmarks" / "bench_long.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tmp_path: Path, task: str, accuracy: float, wall: float, estimate: float, limit: float | None) -> None:
    (tmp_path / task).mkdir(parents=True)
    (tmp_path / task / "metrics.json").write_text(json.dumps({
        "test_metric": accuracy, "wall_time_s": wall, "estimated_seconds": estimate, "steps": 900, "total_steps": 1000,
        "best_epoch": 7, "stop_reason": None, "n_parameters": 1234, "train_config": {"max_seconds": limit}}))


def test_psmnist_passes_only_at_or_above_minirocket(bench, tmp_path):
    _run(tmp_path / "a", "psmnist", 0.93, 1000.0, 900.0, None)
    _run(tmp_path / "b", "psmnist", 0.90, 1000.0, 900.0, None)
    ref = {"psmnist": 0.926}
    good = dict(bench._verdicts([bench._row(tmp_path / "a", "psmnist", ref)]))
    bad = dict(bench._verdicts([bench._row(tmp_path / "b", "psmnist", ref)]))
    assert good["psMNIST >= MiniRocket (measured 0.930 vs 0.926)"] is True
    assert bad["psMNIST >= MiniRocket (measured 0.900 vs 0.926)"] is False
    assert not any(text.startswith("sMNIST") for text in good)  # no verdict on a run that was not made


def test_a_clock_capped_plan_is_judged_against_the_time_limit(bench, tmp_path):
    _run(tmp_path, "smnist", 0.98, 1790.0, 3000.0, 1750.0)  # planned past the limit: announced to end by the clock
    verdicts = bench._verdicts([bench._row(tmp_path, "smnist", {})])
    ratio = [ok for text, ok in verdicts if "1.5x" in text]
    assert ratio == [True]
    _run(tmp_path / "slow", "smnist", 0.98, 1790.0, 600.0, None)  # three times its own estimate
    verdicts = bench._verdicts([bench._row(tmp_path / "slow", "smnist", {})])
    assert [ok for text, ok in verdicts if "1.5x" in text] == [False]
    assert [ok for text, ok in verdicts if "within 30 min" in text] == [True]


def test_run_records_are_per_task_and_the_old_shared_record_still_reads(bench, tmp_path):
    bench._record(tmp_path, "psmnist", 0.0, (1.0, 2.0, 3.0), 2)
    assert bench._run_info(tmp_path, "psmnist")["threads"] == 2
    assert bench._run_info(tmp_path, "smnist") is None
    (tmp_path / "runs.json").write_text(json.dumps({"started_utc": "x", "load_before": [1, 1, 1],
                                                    "load_after": [2, 2, 2]}))
    assert bench._run_info(tmp_path, "smnist")["threads"] == 1
