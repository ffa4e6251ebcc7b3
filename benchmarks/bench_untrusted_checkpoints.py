"""How long refusing a crafted checkpoint takes, against loading a good one in the same run.

    .venv/bin/python benchmarks/bench_untrusted_checkpoints.py [--repeats 5]

Prints one line per file: its size, the median seconds of ``load_checkpoint`` (refusal included)
and the ratio to loading the good reference checkpoint measured in this run, and writes the table
into ``docs/benchmarks.md``. Why it matters: a file of a few kilobytes can describe a model (a
``dmey`` wavelet at depth 16) whose analysis would cost minutes and gigabytes, and deeply nested
JSON would overflow Python's recursion; the loader must refuse both cheaply, before building
anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import rewrite_checkpoint  # noqa: E402
from multires import ModelConfig  # noqa: E402
from multires.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint  # noqa: E402
from multires.model import build_model  # noqa: E402
from multires.options import MAX_JSON_DEPTH  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Report, markdown_table  # noqa: E402

DEEP = "[" * 100_000 + "]" * 100_000


def _files() -> dict[str, bytes]:
    config = ModelConfig(d_model=4, n_layers=2, seq_len=64)
    good = checkpoint_bytes(build_model(config, seed=0).eval(), {"task": "digits"})

    def with_config(**fields) -> bytes:
        text = json.dumps({**json.loads(config.to_json()), **fields})
        return rewrite_checkpoint(good, metadata=lambda m: {**m, "config": text})

    def with_metrics(text: str) -> bytes:
        return rewrite_checkpoint(good, metadata=lambda m: {**m, "metrics": text})

    deep_header = DEEP.encode()
    big_metrics = json.dumps({"task": "digits", "note": [[i, str(i)] for i in range(300_000)]})
    return {
        "good (reference)": good,
        "dmey depth 16": with_config(d_model=1, wavelet="dmey", depth=16),
        "header 100000 deep": struct.pack("<Q", len(deep_header)) + deep_header,
        "metrics 100000 deep": with_metrics('{"a": ' + DEEP + "}"),
        f"metrics {MAX_JSON_DEPTH} deep (allowed)": with_metrics(
            '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"),
        "metrics 5000-digit int": with_metrics('{"steps": ' + "9" * 5000 + "}"),
        "metrics history as a list": with_metrics('{"history": [1, 2, 3]}'),
        f"metrics {len(big_metrics) // 2**20} MiB (allowed)": with_metrics(big_metrics),
    }


def _time(data: bytes, repeats: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            load_checkpoint(data)
            outcome = "loaded"
        except CheckpointError as err:
            outcome = f"refused: {str(err)[:70]}"
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    report = Report("untrusted-checkpoints")
    files = _files()
    reference, _ = _time(files["good (reference)"], args.repeats)
    print(f"{'file':34} {'bytes':>10} {'median s':>9} {'x good':>7}  outcome")
    rows = []
    for name, data in files.items():
        seconds, outcome = _time(data, args.repeats)
        rows.append((name, f"{len(data):,}", f"{seconds:.4f}", f"{seconds / reference:.2f}", outcome))
        print(f"{name:34} {len(data):>10} {seconds:>9.4f} {seconds / reference:>7.2f}  {outcome}")
    report.write(
        markdown_table(("file", "bytes", "median s", "× loading the good file", "outcome"), rows, "lrrrl"),
        f"Median of {args.repeats} calls of `load_checkpoint` per file, refusal included. A crafted file "
        "should be refused at about the cost of loading a good one, or less.",
    )


if __name__ == "__main__":
    main()
