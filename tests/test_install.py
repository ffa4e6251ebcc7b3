"""The README's install makes ``multires`` an installed package: importable from any directory, with
the ``multires-train`` and ``multires-study`` console scripts on the virtualenv's PATH."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_import_multires_works_from_another_directory(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import multires, sys; print(multires.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()).resolve() == (REPO / "multires" / "__init__.py").resolve()


def test_console_scripts_are_installed_and_run(tmp_path):
    for name, needle in [("multires-train", "--task"), ("multires-study", "--grid")]:
        script = BIN / name
        assert script.exists(), f"{name} is not installed in {BIN}: run pip install -r requirements.txt"
        out = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert needle in out.stdout
