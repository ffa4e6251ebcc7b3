"""The design document is in the repository and every reference to it resolves.

``docs/design.md`` states the maths and the public contract; its examples run as doctests (pytest
collects ``docs/`` with ``--doctest-glob=*.md``). Here: the README and the code cite it by a section
number or a heading anchor that exists, and nothing cites a design file that is not in the repository.
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "design.md"
#: Where the design is cited: the README and every source directory.
CITING = [REPO / "README.md", REPO / "app.py"] + [
    path
    for folder in ("multires", "app_pages", "ui", "tests", "benchmarks", "scripts")
    for path in sorted((REPO / folder).rglob("*.py"))
]
SECTION_REF = re.compile(r"docs/design\.md,? (?:sections? |§ ?)(\d+)(?:[-–](\d+))?")
ANCHOR_REF = re.compile(r"docs/design\.md#([\w-]+)")
#: The old citations of a design file that was never in the repository (issue 13).
STALE_REF = re.compile("DESIGN" + r"(?:'s| section| §)")


def headings() -> list[str]:
    return [line.lstrip("#").strip() for line in DESIGN.read_text().splitlines() if line.startswith("## ")]


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_sections_are_numbered_one_to_n():
    numbers = [int(h.split(".", 1)[0]) for h in headings()]
    assert numbers == list(range(1, len(numbers) + 1)), headings()


@pytest.mark.parametrize("path", CITING, ids=lambda p: str(p.relative_to(REPO)))
def test_design_citations_resolve(path):
    text = path.read_text(encoding="utf-8")
    assert not STALE_REF.findall(text), f"{path.name} cites a design file outside the repository"
    count = len(headings())
    for match in SECTION_REF.finditer(text):
        for number in filter(None, match.groups()):
            assert 1 <= int(number) <= count, f"{path.name}: {match.group(0)!r} (design.md has {count} sections)"
    anchors = {github_anchor(h) for h in headings()}
    for match in ANCHOR_REF.finditer(text):
        assert match.group(1) in anchors, f"{path.name}: no heading for #{match.group(1)}"


def test_readme_cites_the_design():
    assert ANCHOR_REF.search((REPO / "README.md").read_text(encoding="utf-8"))


def test_pytest_runs_the_design_examples():
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "docs" in options["testpaths"]
    assert "--doctest-glob=*.md" in options["addopts"].split()
    assert ">>> " in DESIGN.read_text()


# --------------------------------------------------------------------------------------------
# Module paths and dotted names resolve (issue 19: docs named `multires/limits.py` after it moved)
# --------------------------------------------------------------------------------------------

#: Where code is named by its path or dotted name: the docs, the README and every source file but the
#: tests (which name missing modules on purpose).
NAMING = [REPO / "README.md", REPO / "app.py", *sorted((REPO / "docs").glob("*.md"))] + [
    path for folder in ("multires", "app_pages", "ui", "benchmarks", "scripts") for path in sorted((REPO / folder).rglob("*.py"))
]
PATH_NAME = re.compile(r"(?<![\w/.])((?:multires|ui|app_pages|benchmarks|scripts|tests|docs)/[\w/.-]*\w\.(?:py|md))")
DOTTED_NAME = re.compile(r"(?<![\w.])(multires(?:\.\w+)+)")


def _top_level_names(path: Path) -> set[str]:
    """Names a module defines or imports at its top level (under ``if`` / ``try`` too)."""
    names: set[str] = set()
    nodes = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            nodes += [*node.body, *node.orelse, *getattr(node, "finalbody", []),
                      *(n for handler in getattr(node, "handlers", []) for n in handler.body)]
    return names


def dotted_name_resolves(dotted: str) -> bool:
    """``multires.a.b.name``: the longest module prefix exists and defines (or hands on) the next name."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:k])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            break
    else:
        return False
    if k == len(parts):
        return True
    if (base / "__init__.py").is_file():  # a package: its own names and those it imports on first use
        return parts[k] in dir(importlib.import_module(".".join(parts[:k])))
    return parts[k] in _top_level_names(base.with_suffix(".py"))


@pytest.mark.parametrize("path", NAMING, ids=lambda p: str(p.relative_to(REPO)))
def test_named_modules_exist(path):
    text = path.read_text(encoding="utf-8")
    missing = sorted({m.group(1) for m in PATH_NAME.finditer(text) if not (REPO / m.group(1)).exists()})
    unresolved = sorted({m.group(1) for m in DOTTED_NAME.finditer(text) if not dotted_name_resolves(m.group(1))})
    assert not missing, f"{path.name} names files that do not exist: {missing}"
    assert not unresolved, f"{path.name} names modules or names that do not exist: {unresolved}"


def test_the_name_check_catches_moved_modules():
    """Control: the names this issue fixed would fail, the ones that replaced them pass."""
    assert not (REPO / "multires/limits.py").exists() and (REPO / "multires/options.py").exists()
    assert not dotted_name_resolves("multires.evaluation.evaluate")
    assert not dotted_name_resolves("multires.analysis.filters.wavelet_family")
    assert not dotted_name_resolves("multires.training.no_such_name")
    for good in ("multires.training.evaluation.evaluate", "multires.analysis.families.wavelet_family",
                 "multires.training.recalibrate_batchnorm", "multires.config.MODEL_PRESETS", "multires.tasks"):
        assert dotted_name_resolves(good), good
