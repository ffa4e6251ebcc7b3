"""Ship a paired study: keep a preset's trials on whole seeds only, and write them to assets/studies.

Usage (from the repository root)::

    python scripts/ship_study.py runs/paired/results.csv --grid paired --out assets/studies/paired.csv

A study stopped early (or resumed) can hold a seed that not every configuration finished; such a
seed is dropped (``multires.study.stats.whole_seeds``), so every comparison on the Study page rests
on the same seeds. Trials of other grids in the same results file are dropped too.

``--docs docs/studies.md`` then rewrites that file's block between ``<!-- answers:start -->`` and
``<!-- answers:end -->`` with the four answers computed from the shipped table
(:func:`multires.study.questions.answers_markdown`), so the docs quote the page's numbers;
``--brief README.md`` does the same with the sentences alone (no tables).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from multires.study import all_trials, grid_preset, read_results  # noqa: E402
from multires.study.questions import answers_markdown  # noqa: E402
from multires.study.stats import whole_seeds  # noqa: E402

START, END = "<!-- answers:start -->", "<!-- answers:end -->"


def write_answers(doc: Path, table, tables: bool = True) -> None:
    """Replace the answers block of ``doc`` with the answers computed from ``table``."""
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{doc} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{answers_markdown(table, tables=tables)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--grid", required=True, help="the preset the study ran (its trials are kept)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--docs", type=Path, help="a markdown file whose answers block is rewritten")
    parser.add_argument("--brief", type=Path, help="a markdown file whose answers block gets the sentences only")
    args = parser.parse_args(argv)
    table = read_results(args.results)
    keys = {spec.key() for spec in all_trials(grid_preset(args.grid))}
    mine = table[table["key"].isin(keys)]
    shipped = whole_seeds(mine).sort_values(["task", "seed", "tree_select", "init"], kind="stable")
    shipped.to_csv(args.out, index=False)
    seeds = sorted(int(s) for s in shipped["seed"].unique())
    print(f"{len(shipped)} of {len(table)} trials, seeds {seeds}, -> {args.out}")
    if args.docs is not None:
        write_answers(args.docs, read_results(args.out))
        print(f"answers -> {args.docs}")
    if args.brief is not None:
        write_answers(args.brief, read_results(args.out), tables=False)
        print(f"answers (sentences) -> {args.brief}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
