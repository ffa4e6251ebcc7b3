"""Signal upload parsing: time and memory per MB for tall, wide and one-row CSV files.

Each shape is parsed at several sizes up to the upload limit with :func:`multires.data.uploads.parse_upload`
(the too-long signals are kept for windowing, as the app does). Reported per file: seconds per MB
(best of ``--repeats``) and the peak traced Python memory as a multiple of the file size. The
verdicts are ratios measured in this run, never absolute times:

* ``wide/tall``: parse time per MB of a wide file (8 rows x many columns) over a tall one
  (many rows x 8 columns) of the same size; about 1 when both are linear.
* ``largest/smallest``: time per MB of the largest file of a shape over its smallest; about 1
  (not growing with the size) when parsing is linear.

Usage: ``python benchmarks/bench_uploads.py [--repeats 3] [--quick]``; writes its section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import Report, markdown_table  # noqa: E402
from multires.data.uploads import parse_upload  # noqa: E402
from multires.data.uploads.checks import SignalTooLongError  # noqa: E402
from multires.options import MAX_UPLOAD_BYTES  # noqa: E402

CELL = 12  # bytes per cell, e.g. "-0.12345678,"
SHAPES = ("tall", "wide", "one-row", "header-row")


def make_file(shape: str, size: int, seed: int = 0) -> bytes:
    """A CSV of about ``size`` bytes: tall (8 columns), wide (8 rows), one row, or a header + one row."""
    cells = max(size // CELL, 16)
    values = np.random.default_rng(seed).uniform(-1, 1, cells)
    text = np.char.mod("%.8f", values)
    if shape == "tall":
        rows = text[: cells - cells % 8].reshape(-1, 8)
        return "\n".join(",".join(row) for row in rows).encode() + b"\n"
    if shape == "wide":
        rows = text[: cells - cells % 8].reshape(8, -1)
        return "\n".join(",".join(row) for row in rows).encode() + b"\n"
    if shape == "one-row":
        return ",".join(text).encode() + b"\n"
    half = cells // 2  # header-row: column names, then one row of numbers
    return (",".join(f"c{i}" for i in range(half)) + "\n" + ",".join(text[:half]) + "\n").encode()


def parse(data: bytes) -> int:
    try:
        return parse_upload(data, "bench.csv").values.size
    except SignalTooLongError as error:  # the app offers a window of it
        return error.parsed.values.size


def measure(data: bytes, repeats: int) -> tuple[float, float]:
    """(best seconds, peak traced bytes) of parsing ``data``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        parse(data)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    parse(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two sizes, one repeat")
    args = parser.parse_args(argv)
    report = Report("uploads")
    sizes = [100_000, MAX_UPLOAD_BYTES - 100_000] if args.quick else [100_000, 400_000, 1_600_000, MAX_UPLOAD_BYTES - 100_000]
    repeats = 1 if args.quick else args.repeats
    parse(make_file("tall", 10_000))  # warm up: pandas import
    print(f"# Upload parsing ({platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.2f})\n")
    print("| shape | size (MB) | samples | s per MB | peak memory / file size |")
    print("|---|---:|---:|---:|---:|")
    per_mb: dict[str, list[float]] = {}
    rows = []
    for shape in SHAPES:
        for size in sizes:
            data = make_file(shape, size)
            seconds, peak = measure(data, repeats)
            rate = seconds / (len(data) / 1e6)
            per_mb.setdefault(shape, []).append(rate)
            rows.append((shape, f"{len(data) / 1e6:.2f}", parse(data), f"{rate:.3f}", f"{peak / len(data):.1f}"))
            print("| " + " | ".join(map(str, rows[-1])) + " |")
    print()
    wide_over_tall = [w / t for w, t in zip(per_mb["wide"], per_mb["tall"])]
    ratios = ["wide/tall time per MB at each size: " + ", ".join(f"{r:.2f}" for r in wide_over_tall)]
    ratios += [f"{shape}: largest/smallest time per MB = {rates[-1] / rates[0]:.2f}" for shape, rates in per_mb.items()]
    print("\n".join(ratios))
    report.write(
        markdown_table(("shape", "size (MB)", "samples", "s per MB", "peak memory / file size"), rows, "lrrrr"),
        "Linear parsing shows as ratios near 1: " + "; ".join(ratios) + ".",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
