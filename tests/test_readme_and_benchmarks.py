"""docs/benchmarks.md is written by the benchmark scripts; the README is short, carries no measured
figure, and gives exactly the test command CI runs.

``benchmarks/_report.py`` replaces one named section of the page; every ``benchmarks/bench_*.py``
writes its own; every section on the page belongs to a script. No timing is measured here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import Report, markdown_table, replace_section, section_markers  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
SCRIPTS = sorted((ROOT / "benchmarks").glob("bench_*.py"))
WRITES = re.compile(r"""Report\(\s*["']([a-z0-9-]+)["']""")
README_MAX_LINES = 300


def sections_in(text: str) -> list[str]:
    return re.findall(r"<!-- BEGIN ([a-z0-9-]+) -->", text)


def test_replacing_a_section_keeps_the_rest_of_the_page():
    page = "# B\n\n<!-- BEGIN a -->\nold a\n<!-- END a -->\n\ntext\n\n<!-- BEGIN b -->\nold b\n<!-- END b -->\n"
    new = replace_section(page, "a", "| x |\n|---|\n| 1 |")
    assert new == page.replace("old a", "| x |\n|---|\n| 1 |")


def test_a_missing_section_is_appended():
    assert replace_section("# B\n", "new-one", "body") == "# B\n\n<!-- BEGIN new-one -->\nbody\n<!-- END new-one -->\n"


@pytest.mark.parametrize("page", [
    "<!-- BEGIN a -->\nx\n",                                               # no end
    "<!-- END a -->\n<!-- BEGIN a -->\n",                                  # end first
    "<!-- BEGIN a -->\n<!-- END a -->\n<!-- BEGIN a -->\n<!-- END a -->\n",  # twice
])
def test_broken_markers_are_refused(page):
    with pytest.raises(ValueError, match="exactly one"):
        replace_section(page, "a", "body")


@pytest.mark.parametrize("name", ["", "Upper", "two words", "a_b"])
def test_section_names_are_checked(name):
    with pytest.raises(ValueError, match="section names"):
        section_markers(name)


def test_markdown_table_escapes_pipes_and_checks_widths():
    assert markdown_table(("a", "b"), [(1, "x|y")], "lr") == "| a | b |\n|---|---:|\n| 1 | x\\|y |"
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(("a", "b", "c"), [(1, 2)])


def test_a_report_writes_its_run_and_what_it_printed(tmp_path, capsys):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n<!-- BEGIN demo -->\nNot yet generated.\n<!-- END demo -->\n")
    report = Report("demo", argv=[str(ROOT / "benchmarks" / "bench_demo.py"), "--quick"], doc=doc)
    with report.capture():
        print("| n |\n|---|\n| 7 |")
    report.write("A closing note.")
    assert "| 7 |" in capsys.readouterr().out, "captured output still reaches the terminal"
    text = doc.read_text()
    assert "Not yet generated" not in text
    assert "`python benchmarks/bench_demo.py --quick`" in text
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert "cores" in text and "load average" in text
    assert text.index("| 7 |") < text.index("A closing note.") < text.index("<!-- END demo -->")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_benchmark_writes_a_section_of_the_page(script):
    names = WRITES.findall(script.read_text())
    assert names, f"{script.name} does not write its results with benchmarks/_report.Report"
    on_page = sections_in(DOC.read_text())
    for name in names:
        assert name in on_page, f"{script.name} writes section {name!r}, which docs/benchmarks.md lacks"


def test_every_section_of_the_page_has_a_script():
    written = {name for script in SCRIPTS for name in WRITES.findall(script.read_text())}
    text = DOC.read_text()
    for name in sections_in(text):
        assert name in written, f"docs/benchmarks.md section {name!r} is written by no benchmark"
        assert text.count(f"<!-- END {name} -->") == 1


def test_the_readme_is_short_and_links_the_generated_figures():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "docs/benchmarks.md" in text
    dates = re.findall(r"\b20\d\d-\d\d-\d\d\b", text)
    assert not dates, f"the README carries dated figures {dates}: they belong in docs/benchmarks.md"


def test_the_readme_test_command_is_exactly_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert any(ci in block.splitlines() for block in blocks), f"no README command block holds {ci!r}"
