"""The design document is in the repository and every reference to it resolves.

``docs/design.md`` states the maths and the public contract; its examples run as doctests (pytest
collects ``docs/`` with ``--doctest-glob=*.md``). Here: the README and the code cite it by a section
number or a heading anchor that exists, and nothing cites a design file that is not in the repository.
"""

from __future__ import annotations

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
