"""UCR-format dataset files parsed from bytes: formats, every bad-file case, round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from multires.data.tasks import (
    DatasetError,
    load_task,
    parse_ucr_file,
    task_from_files,
    task_from_paths,
    ucr_task,
)
from multires.options import MAX_DATASET_SERIES, MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES

EXACT = 0.0


def ucr_lines(labels, X, sep: str = "\t") -> bytes:
    """A UCR-layout file: label first, then the values (repr keeps float64 exactly)."""
    return "".join(
        sep.join([str(label), *(repr(float(v)) for v in row)]) + "\n" for label, row in zip(labels, X)
    ).encode()


@pytest.mark.parametrize(
    ("sep", "name"), [("\t", "a.tsv"), (",", "a.csv"), ("  ", "a.txt"), (" ", "A_TRAIN.TSV")]
)
def test_delimiters(sep: str, name: str) -> None:
    X, y = parse_ucr_file(f"1{sep}0.5{sep}-2{sep}3e1\n-1{sep}1{sep}2{sep}3\n".encode(), name)
    assert X.shape == (2, 1, 3) and X.dtype == np.float64
    np.testing.assert_array_equal(X[:, 0], [[0.5, -2.0, 30.0], [1.0, 2.0, 3.0]])
    assert y.tolist() == ["1", "-1"]


def test_ts_univariate_and_multivariate() -> None:
    univariate = b"# comment\n@problemName toy\n@classLabel true up down\n@data\n1,2,3:up\n3,2,1:down\n"
    X, y = parse_ucr_file(univariate, "toy.ts")
    assert X.shape == (2, 1, 3) and y.tolist() == ["up", "down"]
    multivariate = b"@univariate false\n@classLabel true a b\n@data\n1,2:3,4:a\n5,6:7,8:b\n"
    X, y = parse_ucr_file(multivariate, "multi.ts")
    np.testing.assert_array_equal(X, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])


def test_ts_matches_aeons_reader_on_a_bundled_file() -> None:
    from aeon.datasets import load_from_ts_file

    from multires.data.tasks.ucr import ucr_files

    path = ucr_files("ItalyPowerDemand")[0]
    X, y = parse_ucr_file(path.read_bytes(), path.name)
    X_aeon, y_aeon = load_from_ts_file(str(path))
    np.testing.assert_array_equal(X, X_aeon)
    assert y.tolist() == [str(label) for label in y_aeon]


def test_round_trip_from_a_known_task() -> None:
    task = ucr_task("GunPoint", seed=0)
    X_train = task.x_train[:, 0].double().numpy()
    X_test = task.x_test[:, 0].double().numpy()
    train = ucr_lines([task.class_names[i] for i in task.y_train.tolist()], X_train)
    test = ucr_lines([task.class_names[i] for i in task.y_test.tolist()], X_test, sep=",")
    X, y = parse_ucr_file(train, "GunPoint_TRAIN.tsv")
    np.testing.assert_array_equal(X[:, 0], X_train)
    assert y.tolist() == [task.class_names[i] for i in task.y_train.tolist()]
    again = task_from_files(train, "GunPoint_TRAIN.tsv", test, "GunPoint_TEST.csv", normalize="none")
    assert again.name == "GunPoint" and again.class_names == task.class_names
    torch.testing.assert_close(again.x_test, task.x_test, rtol=EXACT, atol=EXACT)
    assert torch.equal(again.y_test, task.y_test)
    assert len(again.y_train) + len(again.y_val) == len(task.y_train)


def test_task_from_paths_and_load_task(tmp_path) -> None:
    X = np.random.default_rng(0).standard_normal((12, 16))
    labels = ["a", "b"] * 6
    train, test = tmp_path / "T_TRAIN.tsv", tmp_path / "T_TEST.tsv"
    train.write_bytes(ucr_lines(labels, X))
    test.write_bytes(ucr_lines(labels[:4], X[:4]))
    spec = f"{train},{test}"
    task = load_task(spec, seed=2)
    assert task.name == spec and task.class_names == ("a", "b")
    assert torch.equal(task.x_val, task_from_paths(spec, seed=2).x_val)
    with pytest.raises(DatasetError, match="no such file"):
        load_task(f"{train},{tmp_path / 'missing.tsv'}")
    with pytest.raises(DatasetError, match="expected two files joined by a comma"):
        task_from_paths(f"{train},{test},{test}")


GOOD = b"1\t1\t2\t3\n2\t3\t2\t1\n1\t1\t1\t2\n2\t2\t1\t1\n"

BAD_FILES = {
    "ragged": (
        b"1\t1\t2\t3\n2\t3\t2\n",
        "a.tsv",
        "rows have different lengths: line 2 has 2 values but line 1 has 3",
    ),
    "non-numeric": (b"1,1,2,3\n2,3,x7,1\n", "a.csv", r"line 2, value 2: 'x7' is not a number"),
    "header-row": (b"label,t0,t1\n1,2,3\n", "a.csv", r"line 1, value 1: 't0' is not a number.*no header row"),
    "nan": (b"1 1 NaN 3\n2 3 2 1\n", "a.txt", r"line 1, value 2 is 'NaN': missing \(NaN\) and infinite"),
    "inf": (b"1,1,2,inf\n", "a.csv", "value 3 is 'inf'"),
    "underscore": (b"1,1_000,2\n", "a.csv", "'1_000' is not a number"),
    "empty-cell": (b"1,2,,3\n", "a.csv", "line 1, value 2 is empty \\(a missing value\\)"),
    "label-only": (b"1\n2\n", "a.tsv", "line 1 has a label but no values"),
    "empty": (b"", "a.tsv", "the file is empty"),
    "blank": (b"\n \n\n", "a.tsv", "no data rows"),
    "oversized": (b"1" * (MAX_UPLOAD_BYTES + 1), "a.tsv", "largest accepted upload is 5 MB"),
    "binary-garbage": (bytes(range(256)) * 4, "a.tsv", "not UTF-8 text"),
    "nul-bytes": (b"1,2,3\x00\x00\n", "a.csv", "binary, not text"),
    "wrong-type": (GOOD, "a.xlsx", "unsupported file type; accepted types: .tsv, .csv, .txt, .ts"),
    "too-long": (
        b"1," + b"0," * MAX_SIGNAL_LENGTH + b"0\n",
        "a.csv",
        f"at most {MAX_SIGNAL_LENGTH} per series",
    ),
    "too-many": (b"1,0\n" * (MAX_DATASET_SERIES + 1), "a.csv", f"at most {MAX_DATASET_SERIES} are accepted"),
    "ts-no-data": (b"@classLabel true a b\n", "a.ts", "no @data line"),
    "ts-no-labels": (b"@classLabel false\n@data\n1,2,3\n", "a.ts", "no class labels"),
    "ts-timestamps": (b"@timeStamps true\n@classLabel true a\n@data\n(0,1):a\n", "a.ts", "time-stamped"),
    "ts-ragged": (
        b"@classLabel true a b\n@data\n1,2,3:a\n1,2:b\n",
        "a.ts",
        "line 4 has 2 values but line 3 has 3",
    ),
    "ts-channels": (
        b"@classLabel true a b\n@data\n1,2:3,4:a\n1,2:b\n",
        "a.ts",
        "line 4 has 1 channel.*line 3 has 2",
    ),
    "ts-missing": (b"@classLabel true a\n@data\n1,?,3:a\n", "a.ts", r"'\?' is not a number"),
    "ts-no-colon": (b"@classLabel true a\n@data\n1,2,3\n", "a.ts", "no ':' before its label"),
    "ts-junk-header": (b"hello\n@data\n", "a.ts", "comes before the @data line"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_raises_dataset_error_with_message(case: str) -> None:
    data, name, message = BAD_FILES[case]
    with pytest.raises(DatasetError, match=message):
        parse_ucr_file(data, name)


def test_single_class_train_file() -> None:
    with pytest.raises(DatasetError, match="single class"):
        task_from_files(b"1,1,2\n1,2,3\n1,3,4\n", "a.csv", b"1,1,2\n", "b.csv")


def test_errors_name_the_file() -> None:
    with pytest.raises(DatasetError, match=r"test file 'b.csv': rows have different lengths"):
        task_from_files(GOOD, "a.tsv", b"1,1,2,3\n2,3,2\n", "b.csv")


def test_test_class_unseen_in_train() -> None:
    with pytest.raises(DatasetError, match="never occur in training: '3'"):
        task_from_files(GOOD, "a.tsv", b"3\t1\t2\t3\n", "b.tsv")


def test_train_and_test_lengths_must_match() -> None:
    with pytest.raises(DatasetError, match=r"\(1, 3\) in train and \(1, 2\) in test"):
        task_from_files(GOOD, "a.tsv", b"1\t1\t2\n", "b.tsv")


def test_parsing_never_opens_or_writes_files(monkeypatch) -> None:
    import builtins
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError("file system used while parsing bytes")

    for module, name in ((builtins, "open"), (tempfile, "NamedTemporaryFile"), (tempfile, "mkstemp")):
        monkeypatch.setattr(module, name, refuse)
    ts = b"@classLabel true 1 2\n@data\n1,2,3:1\n3,2,1:2\n1,1,2:1\n2,1,1:2\n"
    assert task_from_files(GOOD, "a.tsv", ts, "b.ts").n_classes == 2
