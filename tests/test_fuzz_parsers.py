"""Fuzzing every parser of untrusted input with Hypothesis (issue 23, "done when").

Each parser gets generated hostile inputs (random bytes and text, and structured shapes that have
broken parsers before: escaped quotes, deep brackets, long digit runs, NaN, mutated valid files) and
must either return a valid result or raise its library error, never another exception:

* checkpoint header and metrics -> ``CheckpointError`` (and ``loads_bounded`` -> ``JsonLimitError``)
* signal uploads (CSV/TXT, NPY, WAV) -> ``SignalError``
* dataset files (UCR .tsv/.csv, aeon .ts) -> ``DatasetError``
* study tables (CSV, Parquet) -> ``StudyResultsError``
* link parameters -> a number in range or None, text shown plain

The family-specific regression tests are in the ``tests/test_hostile_*.py`` files and
``tests/test_checkpoint_untrusted.py``; this file checks the property over many inputs at once.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, rewrite_checkpoint
from multires import ModelConfig
from multires.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from multires.checkpoint.format import read_metadata
from multires.checkpoint.safejson import JsonLimitError, json_depth, loads_bounded
from multires.data.tasks import DatasetError, task_from_files
from multires.data.uploads import parse_upload
from multires.data.uploads.checks import SignalError
from multires.model import build_model
from multires.plaintext import figure_text, plain_figure, quote
from multires.study.results import StudyResultsError, read_results

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])
SLOW_FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                               HealthCheck.data_too_large])

#: Pieces that broke JSON scanners and parsers before: quotes and escapes, brackets, long numbers, constants.
JSON_PIECES = st.sampled_from(['"', '\\"', "\\\\", "\\", "[", "]", "{", "}", ":", ",", "1" * 45, "1e999", "-0.5",
                               "NaN", "Infinity", "null", "true", '"a"', " ", "\n", "\u2028", "\x00", "é"])
json_like = st.lists(JSON_PIECES, max_size=200).map("".join) | st.text(max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30)
                           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=30)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


# --- checkpoint header and metrics -----------------------------------------------------------------------

@FUZZ
@given(json_like)
def test_loads_bounded_returns_json_or_refuses(text):
    try:
        value = loads_bounded(text)
    except JsonLimitError:
        return
    assert value == json.loads(text)


@FUZZ
@given(json_values)
def test_the_depth_scan_matches_the_parsed_depth(value):
    text = json.dumps(value)
    assert json_depth(text) == _depth(value)
    if _depth(value) <= 32:
        assert loads_bounded(text) == value


GOOD = checkpoint_bytes(build_model(ModelConfig(d_model=4, n_layers=1, seq_len=32), seed=0).eval(),
                        {"task": "digits", "kind": "classify", "metric_name": "accuracy", "test_metric": 0.5})


@FUZZ
@given(st.binary(max_size=64), json_like)
def test_any_header_is_read_or_refused(prefix, header):
    for data in (prefix, struct.pack("<Q", len(header.encode())) + header.encode()):
        try:
            read_metadata(data)
        except CheckpointError:
            pass


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(8, len(GOOD)))
def test_a_mutated_checkpoint_loads_or_is_refused(flips, keep):
    data = bytearray(GOOD[:keep])
    for position, byte in flips:
        if position < len(data):
            data[position] = byte
    for reader in (read_metadata, load_checkpoint):
        try:
            reader(bytes(data))
        except CheckpointError:
            pass


@SLOW_FUZZ
@given(json_like | json_values.map(json.dumps))
def test_any_metrics_text_is_read_or_refused(metrics):
    data = rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "metrics": metrics})
    try:
        read_metadata(data)
    except CheckpointError:
        pass


# --- signal uploads ----------------------------------------------------------------------------------------

CSV_PIECES = st.sampled_from(["1", "-2.5", "1e308", "1e999", "nan", "inf", "x", "", ",", ";", "\t", "\n", "\r",
                              '"', "\ufeff", "é", " ", "0x10", "1,5", "#"])
csv_like = st.lists(CSV_PIECES, max_size=300).map("".join).map(str.encode) | st.binary(max_size=400)


def _npy(values) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values))
    return buffer.getvalue()


@FUZZ
@given(csv_like, st.sampled_from(["s.csv", "s.txt", "s.tsv", "s.npy", "s.wav"]))
def test_any_signal_upload_is_parsed_or_refused(data, name):
    try:
        parsed = parse_upload(data, name)
    except SignalError:
        return
    assert np.isfinite(np.asarray(parsed.values)).all()


@FUZZ
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=64),
       st.integers(0, 60), st.integers(0, 255))
def test_a_mutated_npy_is_parsed_or_refused(values, position, byte):
    data = bytearray(_npy(values if values else [0.0]))
    data[min(position, len(data) - 1)] = byte
    try:
        parse_upload(bytes(data), "s.npy")
    except SignalError:
        pass


# --- dataset files -------------------------------------------------------------------------------------------

TS_PIECES = st.sampled_from(["@problemName x\n", "@timeStamps false\n", "@classLabel true a b\n", "@data\n",
                             "@univariate true\n", "1,2,3:a\n", "1,2:b\n", "?", ":", "a", "b", "\t", ",", "\n"])


@SLOW_FUZZ
@given(csv_like, csv_like, st.sampled_from(["tsv", "csv", "txt"]))
def test_any_pair_of_dataset_files_makes_a_task_or_is_refused(train, test, ext):
    try:
        task = task_from_files(train, f"TRAIN.{ext}", test, f"TEST.{ext}")
    except DatasetError:
        return
    assert task.n_classes >= 2 and bool(np.isfinite(task.x_train.numpy()).all())


@SLOW_FUZZ
@given(st.lists(TS_PIECES, max_size=60).map("".join).map(str.encode))
def test_any_ts_file_makes_a_task_or_is_refused(text):
    try:
        task_from_files(text, "TRAIN.ts", text, "TEST.ts")
    except DatasetError:
        pass


# --- study tables ----------------------------------------------------------------------------------------------

SHIPPED = (ROOT / "assets" / "studies" / "ucr.csv").read_bytes()
_buffer = io.BytesIO()
pd.read_csv(io.BytesIO(SHIPPED)).head(20).to_parquet(_buffer, index=False)
SHIPPED_PARQUET = _buffer.getvalue()


@SLOW_FUZZ
@given(st.sampled_from([SHIPPED, SHIPPED_PARQUET]),
       st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=12)), min_size=1, max_size=6),
       st.floats(0.05, 1))
def test_a_mutated_study_table_is_read_or_refused(base, edits, keep):
    data = bytearray(base[: max(int(len(base) * keep), 1)])
    for where, chunk in edits:
        at = int(where * (len(data) - 1))
        data[at : at + len(chunk)] = chunk
    try:
        table = read_results(bytes(data))
    except StudyResultsError:
        return
    assert table["task"].map(lambda t: isinstance(t, str) and t.strip() != "").all()
    assert np.isfinite(table["d_model"].to_numpy(dtype=float)).all()


@FUZZ
@given(csv_like)
def test_any_bytes_as_a_study_table_are_read_or_refused(data):
    try:
        read_results(data)
    except StudyResultsError:
        pass


# --- link parameters and the plain-text path -----------------------------------------------------------------

@FUZZ
@given(st.text(max_size=40), st.integers(0, 20), st.integers(0, 20))
def test_a_link_number_is_in_range_or_refused(value, low, high):
    from ui.links import _int_param

    number = _int_param(value, low, high)
    assert number is None or (isinstance(number, int) and low <= number <= high and str(number) in value)


@FUZZ
@given(st.text(max_size=200) | st.lists(st.sampled_from(["<a href='https://evil.example'>", "</a>", "<span style=x>",
                                                         "<br>", "<b>", "<", ">", "&lt;", "javascript:"]),
                                        max_size=20).map("".join))
def test_user_text_never_makes_a_chart_link_and_messages_stay_short(text):
    import plotly.graph_objects as go

    from ui.safe_text import plain, unescape

    fig = plain_figure(go.Figure(go.Scatter(x=[0], y=[0], name=text, hovertext=[text]), layout_title_text=text))
    for shown in (fig.layout.title.text, fig.data[0].name, fig.data[0].hovertext[0]):
        assert "<a" not in shown.lower() and "<span" not in shown.lower()
    assert "<" not in figure_text(text) and len(quote(text * 100)) < 130
    assert not any(c in unescape(plain(text)) for c in "\r\n\u2028\u2029"), "one line"
