"""Hostile study tables (issue 23): refused in words before their cells are materialised.

A 230 KB Parquet file of 5 M identical rows took 3.7 GB to read; a Parquet dictionary can repeat one
long string in every row at no cost in the file; a CSV's rows and columns are only known after
pandas has built them. :func:`multires.study.read_results` bounds rows, columns, cells and decoded
text from Parquet's metadata and CSV's raw bytes first: each test below checks the refusal happens
before the reader that would materialise the table is called. The app keeps upload tables in a cache
bounded by bytes (:mod:`ui.upload_cache`).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, open_app
from multires.study import read_results
from multires.study.results import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    StudyResultsError,
)
from ui.upload_cache import BytesCache, nbytes

SHIPPED = ROOT / "assets" / "studies" / "ucr.csv"
SHIPPED_ROWS = pd.read_csv(SHIPPED)  # read before any test forbids pd.read_csv


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _repeated_rows(rows: int) -> bytes:
    """The shipped table's first row repeated ``rows`` times (dictionary-encoded: a tiny file)."""
    first = pa.Table.from_pandas(SHIPPED_ROWS.iloc[[0]], preserve_index=False)
    indices = pa.array(np.zeros(rows, dtype=np.int32))
    columns = {}
    for name in first.column_names:
        column = first.column(name).combine_chunks()
        columns[name] = (pa.nulls(rows, column.type) if column.null_count
                         else pa.DictionaryArray.from_arrays(indices, column))
    return _parquet(pa.table(columns))


@pytest.fixture
def no_materialising(monkeypatch):
    """Fail the test if a reader that builds the whole table is called."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the table was materialised before it was refused")

    monkeypatch.setattr(pq.ParquetFile, "read", forbidden)
    monkeypatch.setattr(pd, "read_csv", forbidden)


def test_five_million_identical_parquet_rows_are_refused_from_the_metadata(no_materialising):
    data = _repeated_rows(5_000_000)
    assert len(data) < 2_000_000, "the hostile file is small"
    with pytest.raises(StudyResultsError, match="5,000,000 rows; at most 100,000 trials"):
        read_results(data)


def test_one_row_more_than_the_bound_is_refused_and_the_bound_itself_is_read():
    with pytest.raises(StudyResultsError, match=f"{MAX_ROWS + 1:,} rows"):
        read_results(_repeated_rows(MAX_ROWS + 1))
    cells = len(SHIPPED_ROWS.columns) * MAX_ROWS
    assert cells <= MAX_CELLS
    assert len(read_results(_repeated_rows(MAX_ROWS))) == MAX_ROWS


def test_a_long_string_repeated_by_a_parquet_dictionary_is_refused_before_decoding():
    rows = 2000
    long = "x" * (MAX_CELL_CHARS + 1)
    columns = {c: pa.array(np.zeros(rows)) for c in REQUIRED_COLUMNS}
    columns["error"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([long]))
    data = _parquet(pa.table(columns))
    assert len(data) < 100_000
    with pytest.raises(StudyResultsError, match="column 'error' holds a text of 100,001 bytes"):
        read_results(data)


def test_many_short_strings_decoding_beyond_the_text_bound_are_refused():
    rows = 90_000
    columns = {c: pa.array(np.zeros(rows)) for c in REQUIRED_COLUMNS}
    columns["error"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)),
                                                      pa.array(["y" * 1000]))
    with pytest.raises(StudyResultsError, match="text decodes to more than 50 MB"):
        read_results(_parquet(pa.table(columns)))


@pytest.mark.parametrize(("column", "words"), [
    (pa.array([{"k": 1}] * 3), "records"), (pa.array([[1, 2]] * 3), "lists"), (pa.array([b"\x00"] * 3), "raw bytes"),
])
def test_nested_or_binary_parquet_columns_are_refused_in_words(no_materialising, column, words):
    columns = {c: pa.array(np.zeros(3)) for c in REQUIRED_COLUMNS} | {"task": column}
    with pytest.raises(StudyResultsError, match=f"column 'task' holds {words}"):
        read_results(_parquet(pa.table(columns)))


def test_csv_lines_are_counted_on_the_raw_bytes(no_materialising):
    header = ",".join(REQUIRED_COLUMNS).encode()
    row = b"," * (len(REQUIRED_COLUMNS) - 1)
    for sep in (b"\n", b"\r", b"\r\n"):
        with pytest.raises(StudyResultsError, match="lines; at most 100,000 trials"):
            read_results(header + sep + sep.join([row] * (MAX_ROWS + 5)))


def test_a_csv_header_of_too_many_columns_is_refused(no_materialising):
    with pytest.raises(StudyResultsError, match=f"{MAX_COLUMNS + 1} columns"):
        read_results(b",".join(b"c%d" % i for i in range(MAX_COLUMNS + 1)) + b"\n")


def test_a_csv_of_too_many_cells_is_refused(no_materialising):
    columns = MAX_COLUMNS
    rows = MAX_CELLS // columns + 1
    header = b",".join(b"c%d" % i for i in range(columns))
    with pytest.raises(StudyResultsError, match=r"cells\); at most 4,000,000 cells"):
        read_results(header + b"\n" * rows)


def test_the_shipped_table_reads_the_same_from_csv_and_parquet():
    csv = read_results(SHIPPED)
    parquet = read_results(_parquet(pa.Table.from_pandas(SHIPPED_ROWS, preserve_index=False)))
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)


# --- the app's upload cache: bounded by bytes -------------------------------------------------------


def test_the_upload_cache_is_bounded_by_bytes_and_drops_the_least_recently_used():
    table = read_results(SHIPPED)
    size = nbytes(table)
    cache = BytesCache(max_bytes=int(size * 2.5))
    built = []

    def build(i):
        def make():
            built.append(i)
            return table.copy()
        return make

    for i in range(3):
        cache.get_or_build(i, build(i))
    assert len(cache) == 2 and cache.bytes_held <= cache.max_bytes
    cache.get_or_build(1, build(1))  # kept: not built again
    assert built == [0, 1, 2]
    cache.get_or_build(0, build(0))  # dropped as the least recently used: built again
    assert built == [0, 1, 2, 0]


def test_a_value_larger_than_the_whole_budget_is_returned_but_not_kept():
    table = read_results(SHIPPED)
    cache = BytesCache(max_bytes=nbytes(table) // 2)
    assert cache.get_or_build("big", table.copy).shape == table.shape
    assert len(cache) == 0 and cache.bytes_held == 0


def test_a_refused_build_keeps_nothing():
    cache = BytesCache(max_bytes=10**6)

    def fail():
        raise StudyResultsError("no")

    with pytest.raises(StudyResultsError):
        cache.get_or_build("x", fail)
    assert len(cache) == 0


# --- malformed cells: checked once against the table's schema, refused in words ----------------------------

def _with_cell(column: str, value) -> bytes:
    table = SHIPPED_ROWS.copy().astype({column: object})
    table.loc[2, column] = value
    return table.to_csv(index=False).encode()


MALFORMED = {
    "empty task": (_with_cell("task", ""), "column 'task' must name something in every row; row 3 is empty"),
    "empty init": (_with_cell("init", None), "column 'init' must name something in every row; row 3 is empty"),
    "empty d_model": (_with_cell("d_model", None), "column 'd_model' must hold a number in every row; row 3"),
    "inf d_model": (_with_cell("d_model", "inf"), "column 'd_model' must hold finite numbers; row 3 holds '?inf"),
    "huge d_model": (_with_cell("d_model", "1e300"), "column 'd_model' holds '?1e[+]?300'? at row 3; at most"),
    "fractional d_model": (_with_cell("d_model", 2.5), "column 'd_model' must hold whole numbers; row 3"),
    "negative seed": (_with_cell("seed", -1), "column 'seed' must be at least 0; row 3"),
    "memory_size abc": (_with_cell("memory_size", "abc"), "column 'memory_size' must be numeric; row 3 holds 'abc'"),
    "long score": (_with_cell("test_score", "x" * 10**6),
                   r"column 'test_score' must be numeric; row 3 holds 'x{80}'… \(1,000,000 characters\)"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_cell_is_refused_naming_its_row_and_column(case):
    data, message = MALFORMED[case]
    with pytest.raises(StudyResultsError, match=message):
        read_results(data)


def test_a_parquet_cell_holding_a_record_is_refused():
    table = pa.Table.from_pandas(SHIPPED_ROWS, preserve_index=False)
    index = table.column_names.index("task")
    table = table.set_column(index, "task", pa.array([{"a": 1}] * len(table)))
    with pytest.raises(StudyResultsError, match="column 'task' holds records"):
        read_results(_parquet(table))


def test_numbers_in_text_columns_become_text_and_the_page_sorts_them():
    table = SHIPPED_ROWS.copy().astype({"task": object})
    table.loc[0, "task"] = 7
    read = read_results(table.to_csv(index=False).encode())
    assert read.loc[0, "task"] == "7" and all(isinstance(t, str) for t in read["task"])
    assert sorted(read["task"].unique())[0] == "7"


@pytest.mark.parametrize("case", ["empty task", "inf d_model", "memory_size abc"])
def test_the_study_page_says_what_is_wrong_with_a_malformed_upload_and_keeps_working(case):
    from ui.safe_text import unescape

    at = open_app("app_pages/7_Study.py")
    at.radio(key="study_source").set_value("Upload a results file").run()
    at.file_uploader(key="study_upload").set_value(("bad.csv", MALFORMED[case][0], "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1 and "bad.csv" in unescape(at.error[0].value)
    assert "study_budget" in [chart.key for chart in at.get("plotly_chart")], "the shipped study is still drawn"
    at.run()  # a rerun with the file still attached: the same words, no crash
    assert not at.exception and len(at.error) == 1


def test_link_markup_in_task_and_init_cells_never_makes_a_chart_link():
    from multires.figures.study import budget_figure, init_figure
    from multires.plaintext import plain_figure

    hostile = '<a href="https://evil.example/x">t</a>'
    table = read_results(SHIPPED)
    task = table["task"].iloc[0]
    rows = table[table["task"] == task].assign(task=hostile, init=hostile + " init")
    for fig in (budget_figure(rows, hostile, init=hostile + " init"), init_figure(rows, hostile)):
        text = str(plain_figure(fig).to_dict())
        assert "<a href" in str(fig.to_dict()), "the hostile text reached the figure"
        assert "<a href" not in text and "&lt;a href" in text
