"""Write a benchmark's results into its own section of ``docs/benchmarks.md``.

``docs/benchmarks.md`` is generated, never edited by hand: every benchmark owns one named section,
fenced by ``<!-- BEGIN name -->`` and ``<!-- END name -->``, and replaces it when it finishes. The
section states when, where and how the figures were taken (date, CPU model and cores, load average
before and after, the exact command), because a timing means nothing without them: the machine
this project is built on is shared, and its load moves every absolute time.

Usage, in a benchmark's ``main``::

    report = Report("uploads")            # at the start: remembers the time and the load
    ...                                   # measure
    report.write(markdown_table(header, rows), "One paragraph on how to read it.")

or, for a benchmark whose printed output is already Markdown::

    report = Report("conv-ratio")
    with report.capture():                # stdout still reaches the terminal, and the section
        print_tables(...)
    report.write()

A section missing from the page is appended at its end, so a new benchmark needs no set-up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import platform
import re
import shlex
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

__all__ = ["DOC", "Report", "machine", "markdown_table", "replace_section", "section_markers"]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def section_markers(name: str) -> tuple[str, str]:
    """The comment lines that open and close section ``name``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"section names are lower-case words joined by '-', got {name!r}")
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with section ``name``'s content replaced by ``body`` (appended if the section is absent)."""
    begin, end = section_markers(name)
    starts, ends = text.count(begin), text.count(end)
    if (starts, ends) == (0, 0):
        return text.rstrip("\n") + f"\n\n{begin}\n{body.strip()}\n{end}\n"
    if (starts, ends) != (1, 1) or text.index(begin) > text.index(end):
        raise ValueError(f"section {name!r} must have exactly one {begin} followed by one {end}")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.strip()}\n{end}{tail}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]],
                   align: str | None = None) -> str:
    """A Markdown table; ``align`` is one letter per column, ``l`` or ``r`` (default: all left)."""
    align = align or "l" * len(header)
    if len(align) != len(header):
        raise ValueError(f"{len(header)} columns but {len(align)} alignment letters")
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    for row in rows:
        cells = [str(cell).replace("|", "\\|") for cell in row]
        if len(cells) != len(header):
            raise ValueError(f"row {cells} has {len(cells)} cells, the header {len(header)}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """CPU model, core count, OS and Python; torch's version and threads if the benchmark used torch."""
    text = (f"{_cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}")
    torch = sys.modules.get("torch")
    if torch is not None:
        text += f", torch {torch.__version__} with {torch.get_num_threads()} thread(s) in this process"
    return text


def _load() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _command(argv: Sequence[str]) -> str:
    script = Path(argv[0]).resolve()
    try:
        script_text = str(script.relative_to(ROOT))
    except ValueError:
        script_text = argv[0]
    return shlex.join(["python", script_text, *argv[1:]])


class Report:
    """One benchmark run's section: created at the start, written at the end."""

    def __init__(self, name: str, argv: Sequence[str] | None = None, doc: Path = DOC) -> None:
        section_markers(name)  # fail on a bad name before measuring anything
        self.name, self.doc = name, doc
        self.command = _command(sys.argv if argv is None else argv)
        self.started = dt.datetime.now(dt.timezone.utc)
        self.load_before = _load()
        self._captured = io.StringIO()

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        """Copy what the ``with`` block prints to stdout into this section (it still prints)."""
        terminal = sys.stdout

        class _Tee(io.TextIOBase):
            def write(inner, text: str) -> int:  # noqa: N805 - the tee's own self is not needed
                self._captured.write(text)
                return terminal.write(text)

            def flush(inner) -> None:  # noqa: N805
                terminal.flush()

        sys.stdout = _Tee()
        try:
            yield
        finally:
            sys.stdout = terminal

    def header(self) -> str:
        """Where and how this run measured, as one italic paragraph."""
        return (f"_Generated {self.started:%Y-%m-%d %H:%M} UTC by `{self.command}` on {machine()}; "
                f"load average (1 / 5 / 15 min) {self.load_before} before, {_load()} after._")

    def write(self, *blocks: str) -> Path:
        """Replace this section of the page with the run's header, what was captured, and ``blocks``."""
        parts = [self._captured.getvalue(), *blocks]
        body = "\n\n".join([self.header(), *(b.strip() for b in parts if b.strip())])
        text = self.doc.read_text(encoding="utf-8") if self.doc.exists() else "# Benchmarks\n"
        self.doc.parent.mkdir(parents=True, exist_ok=True)
        self.doc.write_text(replace_section(text, self.name, body), encoding="utf-8")
        print(f"wrote section {self.name!r} of {self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc}")
        return self.doc
