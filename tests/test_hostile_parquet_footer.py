"""Forged Parquet footers (issue 23): a study table whose footer lies about its own bytes is refused
before any page is decompressed.

The reader bounds rows, columns and unpacked bytes from the footer; a footer claiming 10 rows and a
few bytes while its pages unpack to 16 MB (or gigabytes) would pass those bounds. Each file below is
written by pyarrow and then forged by rewriting numbers in its footer (Thrift varints padded to
their old length, so every offset stays valid): :mod:`multires.study.parquet_layout` walks the page
headers and compares them with the footer. ``no_materialising`` fails a test if the reader that
decompresses the table is called.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from conftest import forge_parquet_footer as forge
from multires.study import parquet_layout
from multires.study.parquet_layout import layout_problem
from multires.study.results import ForgedParquetError, StudyResultsError, read_results

SHIPPED_ROWS = pd.read_csv(ROOT / "assets" / "studies" / "ucr.csv")


def _write(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **{"compression": "zstd", **options})
    return buffer.getvalue()


def _meta(data: bytes):
    return pq.ParquetFile(io.BytesIO(data)).metadata


@pytest.fixture
def no_materialising(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the table was read before the forged footer was refused")

    monkeypatch.setattr(pq.ParquetFile, "read", forbidden)


def test_a_footer_claiming_ten_rows_and_a_few_bytes_for_two_million_is_refused(no_materialising):
    rows = 2_000_000
    data = _write(pa.table({"x": np.zeros(rows, dtype=np.int64)}), use_dictionary=False)
    column = _meta(data).row_group(0).column(0)
    assert len(data) < 200_000 < column.total_uncompressed_size  # 16 MB of zeros in a small file
    forged = forge(forge(data, rows, 10), column.total_uncompressed_size, 1000)
    meta = _meta(forged)
    assert meta.num_rows == 10 and meta.row_group(0).column(0).total_uncompressed_size == 1000  # the lie parses
    with pytest.raises(ForgedParquetError, match="does not match its own description.*2,000,000"):
        read_results(forged)


def test_a_footer_hiding_the_unpacked_size_of_long_text_is_refused(no_materialising):
    rows = 2000  # each row a 30 KB text: 60 MB unpacked, more than the reader's bound, in a few KB of zstd
    data = _write(pa.table({"task": ["x" * 30_000] * rows}), use_dictionary=False)
    column = _meta(data).row_group(0).column(0)
    assert column.total_uncompressed_size > 50 * 2**20
    with pytest.raises(StudyResultsError, match="unpacks to"):  # told the truth, the footer is refused by size
        read_results(data)
    forged = forge(data, column.total_uncompressed_size, 5000)
    with pytest.raises(ForgedParquetError, match="does not match its own description"):
        read_results(forged)


def test_a_column_chunk_claiming_more_bytes_than_the_file_has_is_refused(no_materialising):
    data = _write(pa.table({"x": np.arange(50_000, dtype=np.int64)}))
    size = _meta(data).row_group(0).column(0).total_compressed_size
    assert size < len(data) < 1_000_000
    forged = forge(data, size, 1_000_000)  # fits the same number of varint bytes
    with pytest.raises(ForgedParquetError, match="outside the file"):
        read_results(forged)


def test_column_chunks_pointing_at_the_same_bytes_are_refused(no_materialising):
    data = _write(pa.table({"a": np.arange(1000, dtype=np.int64), "b": np.arange(1000, dtype=np.int64) * 3}),
                  use_dictionary=False, compression="none")
    first, second = (_meta(data).row_group(0).column(c).data_page_offset for c in (0, 1))
    forged = forge(data, second, first)
    with pytest.raises(ForgedParquetError, match="overlaps"):
        read_results(forged)


def test_the_page_walk_and_the_row_groups_are_bounded(monkeypatch, no_materialising):
    data = _write(pa.table({"x": np.arange(300, dtype=np.int64)}), write_batch_size=1, data_page_size=1,
                  row_group_size=100)
    assert layout_problem(data, _meta(data)) is None
    monkeypatch.setattr(parquet_layout, "MAX_PAGES", 100)
    assert "more than 100 pages" in layout_problem(data, _meta(data))
    monkeypatch.setattr(parquet_layout, "MAX_ROW_GROUPS", 2)
    with pytest.raises(ForgedParquetError, match="3 row groups; at most 2"):
        read_results(data)


def _honest_tables() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    n = 3000
    table = pa.table({"score": rng.standard_normal(n), "task": [None if i % 7 == 0 else f"t{i % 13}" for i in range(n)],
                      "seed": pa.array([None if i % 3 == 0 else i for i in range(n)], pa.int64()),
                      "frozen": rng.random(n) > 0.5, "empty": pa.nulls(n)})
    files = {f"{compression} pages v{pages} groups {groups}": _write(
        table, compression=compression, data_page_version=pages, row_group_size=groups, data_page_size=2048,
        write_page_index=groups < n)
        for compression in ("zstd", "snappy", "none") for pages in ("1.0", "2.0") for groups in (n, 700)}
    buffer = io.BytesIO()
    SHIPPED_ROWS.to_parquet(buffer, index=False)
    files["the shipped table by pandas"] = buffer.getvalue()
    files["no rows"] = _write(pa.table({"x": pa.array([], pa.int64())}))
    return files


def test_honest_files_of_every_layout_match_their_footer():
    for name, data in _honest_tables().items():
        assert layout_problem(data, _meta(data)) is None, name
    shipped = _honest_tables()["the shipped table by pandas"]
    pd.testing.assert_frame_equal(read_results(shipped), read_results(ROOT / "assets" / "studies" / "ucr.csv"),
                                  check_dtype=False)


SMALL = _write(pa.table({"key": ["a", "b", "c"], "score": [0.5, 0.25, 1.0]}), compression="none")


def test_a_level_histogram_of_the_wrong_length_is_refused_before_pyarrow_aborts_on_it():
    """These three bytes gave a size-statistics histogram of 2 levels to a required column; pyarrow
    threw from code that cannot pass it on (``Definition level histogram size mismatch``) and the
    whole process aborted, taking the test run (or a server) with it. Run in a child process, so the
    old code fails this test instead of killing pytest."""
    data = bytearray(SMALL)
    for where, value in [(203, 82), (141, 226), (50, 186)]:
        data[where] = value
    code = ("import sys; from multires.study.results import read_results, StudyResultsError\n"
            "try:\n    read_results(sys.stdin.buffer.read())\nexcept StudyResultsError as err:\n    print(err)")
    child = subprocess.run([sys.executable, "-c", code], input=bytes(data), capture_output=True, cwd=ROOT,
                           timeout=120, check=False)
    assert child.returncode == 0, child.stderr.decode(errors="replace")[-2000:]
    assert "level histogram of the wrong length" in child.stdout.decode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(4, len(SMALL) - 9), st.integers(0, 255)), min_size=1, max_size=6))
def test_garbled_bytes_give_a_library_error_or_a_table(edits):
    data = bytearray(SMALL)
    for where, value in edits:
        data[where] = value
    try:
        read_results(bytes(data))
    except StudyResultsError:
        pass
