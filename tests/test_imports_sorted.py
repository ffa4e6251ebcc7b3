"""Imports are in one order everywhere: ruff's isort rules (``I``), configured in ``pyproject.toml``.

Fix a failure with ``ruff check --select I --fix .`` from the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_every_python_file_has_sorted_imports():
    done = ruff("check", "--select", "I", "--output-format", "concise", "--no-cache", ".")
    assert done.returncode == 0, f"unsorted imports (fix: ruff check --select I --fix .):\n{done.stdout}{done.stderr}"


def test_the_check_covers_the_project():
    """The check reads the library, the app, its pages, the tests and the benchmarks (none is excluded)."""
    done = ruff("check", "--select", "I", "--show-files", ".")
    assert done.returncode == 0, done.stderr
    files = {Path(line).resolve().relative_to(ROOT).as_posix() for line in done.stdout.split()}
    for expected in ("app.py", "multires/__init__.py", "multires/training/loop.py", "ui/state.py",
                     "app_pages/3_Coefficient_tree.py", "tests/conftest.py", "benchmarks/bench_app.py"):
        assert expected in files, f"{expected} is not checked"


def test_the_check_fails_on_unsorted_imports(tmp_path):
    """Control: the same check, with the project's settings, flags a file whose imports are out of order."""
    bad = tmp_path / "unsorted.py"
    bad.write_text("from ui import state\nimport sys\nfrom multires import options\nimport numpy as np\n")
    done = ruff("check", "--select", "I", "--output-format", "concise", "--no-cache",
                "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert done.returncode == 1 and "I001" in done.stdout, done.stdout + done.stderr
