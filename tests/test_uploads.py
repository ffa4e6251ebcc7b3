"""Tests for multires.data.uploads: parsing untrusted signal files (CSV/TXT, NPY, WAV), windowing,
and refusing what cannot be used, in words, before anything large is allocated."""

from __future__ import annotations

import doctest
import io
import re
import struct
import tracemalloc
import wave

import numpy as np
import pytest

from multires import options
from multires.data import uploads
from multires.data.uploads import parse_upload
from multires.data.uploads.checks import ParsedSignal, SignalError, SignalTooLongError, window_signal
from multires.options import MAX_SIGNAL_LENGTH, MAX_UPLOAD_BYTES, MIN_SIGNAL_LENGTH

EXACT = 0.0
PCM16_STEP = 1 / 2**15  # one quantisation step of 16-bit PCM scaled to [-1, 1]
# Parsing a forged header must not allocate what the header declares (gigabytes); a few MiB of
# working memory is allowed.
MAX_PEAK_BYTES_FOR_FORGED_HEADER = 4 * MAX_UPLOAD_BYTES



# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def wav_bytes(frames: np.ndarray, rate: int = 8000, sample_width: int = 2) -> bytes:
    """Write integer samples ``frames`` (shape [n] or [n, channels]) as a PCM WAV with `wave`."""
    frames = np.asarray(frames)
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    dtype = {1: "u1", 2: "<i2", 3: None, 4: "<i4"}[sample_width]
    if dtype is None:  # 24-bit: little-endian 3-byte integers
        raw = b"".join(int(v).to_bytes(3, "little", signed=True) for v in frames.reshape(-1))
    else:
        raw = frames.astype(dtype).tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(rate)
        writer.writeframes(raw)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


# Offsets in the canonical 44-byte header that `wave` writes.
WAV_RATE_OFFSET = 24
WAV_DATA_SIZE_OFFSET = 40


def patch_uint32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4 :]


def csv_column(values: list[str], header: str | None = "x") -> bytes:
    lines = ([header] if header is not None else []) + values
    return ("\n".join(lines) + "\n").encode()


RAMP = [str(v) for v in range(10)]


# --------------------------------------------------------------------------------------------
# uploads: generic checks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["song.mp3", "data.xlsx", "no_extension", "archive.npz"])
def test_unsupported_type_lists_accepted_types(filename: str) -> None:
    with pytest.raises(SignalError, match=r"accepted types: \.csv, \.txt, \.npy, \.wav"):
        parse_upload(b"1\n2\n", filename)


@pytest.mark.parametrize("filename", ["big.csv", "big.npy", "big.wav"])
def test_upload_above_size_limit_is_refused_before_parsing(filename: str, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("parser called on an oversized upload")

    monkeypatch.setattr(uploads.text, "parse_text", fail)
    monkeypatch.setattr(uploads.npy, "parse_npy", fail)
    monkeypatch.setattr(uploads.wav, "parse_wav", fail)
    with pytest.raises(SignalError, match=r"largest accepted upload is 5 MB \(5,000,000 bytes\)"):
        parse_upload(b"0" * (MAX_UPLOAD_BYTES + 1), filename)


@pytest.mark.parametrize("filename", ["empty.csv", "empty.npy", "empty.wav"])
def test_empty_upload_is_refused(filename: str) -> None:
    with pytest.raises(SignalError, match="empty"):
        parse_upload(b"", filename)


def test_extension_is_case_insensitive() -> None:
    assert parse_upload(csv_column(RAMP), "DATA.CSV").values.size == len(RAMP)


def test_non_bytes_data_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="data must be bytes"):
        parse_upload("1,2,3", "x.csv")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# CSV / TXT
# --------------------------------------------------------------------------------------------


def test_csv_with_header_and_several_columns() -> None:
    data = b"time,a,label,b\n" + b"".join(f"{i},{i * 0.5},x{i},{-i}\n".encode() for i in range(10))
    parsed = parse_upload(data, "multi.csv")
    assert parsed.columns == ("time", "a", "b")
    assert parsed.column == "time"
    np.testing.assert_array_equal(parsed.values, np.arange(10.0))
    assert "of 3 numeric columns" in parsed.note and "'label'" in parsed.note
    chosen = parse_upload(data, "multi.csv", column="b")
    assert chosen.column == "b"
    np.testing.assert_array_equal(chosen.values, -np.arange(10.0))
    assert chosen.sample_rate is None


def test_csv_without_header() -> None:
    data = b"".join(f"{i},{2 * i}\n".encode() for i in range(10))
    parsed = parse_upload(data, "plain.csv")
    assert parsed.columns == ("column 1", "column 2")
    assert parsed.note.startswith("no header row")
    second = parse_upload(data, "plain.csv", column="column 2")
    np.testing.assert_array_equal(second.values, 2 * np.arange(10.0))


def test_csv_single_row_is_read_along_the_row() -> None:
    parsed = parse_upload(",".join(RAMP).encode() + b"\n", "row.csv")
    np.testing.assert_array_equal(parsed.values, np.arange(10.0))
    assert parsed.columns == () and parsed.column is None
    assert "one row of 10 numbers" in parsed.note


def _row_text(values: np.ndarray, delimiter: str = ",") -> str:
    return delimiter.join(repr(float(v)) for v in values)


@pytest.mark.parametrize("header", [False, True], ids=["one-row", "header-and-one-row"])
def test_wide_file_parses_to_the_right_signal(header: bool) -> None:
    """Issue 13: a 200000-column file (2.3 MB) is one row of numbers, read exactly, in linear time."""
    values = np.random.default_rng(1).normal(size=200_000).round(6)
    lines = ([",".join(f"c{i}" for i in range(values.size))] if header else []) + [_row_text(values)]
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(SignalTooLongError) as info:  # longer than MAX_SIGNAL_LENGTH: offered as a window
        parse_upload(data, "wide.csv")
    parsed = info.value.parsed
    np.testing.assert_array_equal(parsed.values, values)
    assert parsed.columns == () and parsed.column is None
    assert parsed.note == "one row of 200000 numbers read as the signal" + ("; skipped the header row" if header else "")


@pytest.mark.parametrize("text_at", [0, 3000], ids=["text-first", "text-after-the-first-kilobytes"])
def test_a_long_header_is_recognised_wherever_its_text_is(text_at: int) -> None:
    names = [str(i) for i in range(4000)]
    names[text_at] = "label"
    values = np.arange(4000.0) / 7
    data = (",".join(names) + "\n" + _row_text(values) + "\n").encode()
    parsed = parse_upload(data, "header.csv")
    np.testing.assert_array_equal(parsed.values, values)
    assert parsed.note.endswith("skipped the header row")


def test_wide_table_is_read_along_its_rows() -> None:
    """More columns than data rows: each row is a signal, chosen like a column ("row 1", "row 2", ...)."""
    rows = np.random.default_rng(2).uniform(-5, 5, size=(3, 500))
    data = "\n".join(_row_text(row, ";") for row in rows) + "\n"
    parsed = parse_upload(data.encode(), "rows.txt")
    assert parsed.axis == "row" and parsed.columns == ("row 1", "row 2", "row 3") and parsed.column == "row 1"
    np.testing.assert_array_equal(parsed.values, rows[0])
    assert "each row is a signal" in parsed.note
    np.testing.assert_array_equal(parse_upload(data.encode(), "rows.txt", column="row 3").values, rows[2])
    with pytest.raises(SignalError, match="there is no row 'row 4'"):
        parse_upload(data.encode(), "rows.txt", column="row 4")


def test_text_in_a_row_of_a_wide_table_is_located() -> None:
    cells = [[str(v) for v in range(20)] for _ in range(2)]
    cells[1][6] = "oops"
    data = "\n".join(",".join(row) for row in cells).encode()
    parsed = parse_upload(data, "rows.csv")
    assert parsed.columns == ("row 1",) and "skipped non-numeric row(s) 'row 2'" in parsed.note
    with pytest.raises(SignalError, match=r"row 'row 2' holds text values, e\.g\. 'oops' in field 7"):
        parse_upload(data, "rows.csv", column="row 2")


def test_tall_and_wide_files_give_the_same_numbers() -> None:
    """The C parser reads numbers exactly as Python's float() would, down the columns or along a row."""
    values = np.random.default_rng(3).normal(size=5000) * 10.0 ** np.random.default_rng(4).integers(-30, 30, 5000)
    tall = parse_upload(("x\n" + "\n".join(repr(float(v)) for v in values) + "\n").encode(), "tall.csv")
    wide = parse_upload((_row_text(values) + "\n").encode(), "wide.csv")
    np.testing.assert_array_equal(tall.values, values)
    np.testing.assert_array_equal(wide.values, values)


@pytest.mark.parametrize(
    "data",
    [
        b"".join(f"{i} {i * 10}\n".encode() for i in range(10)),
        b"".join(f"{i}\t{i * 10}\n".encode() for i in range(10)),
        b"".join(f"{i};{i * 10}\n".encode() for i in range(10)),
        b"\xef\xbb\xbf" + b"".join(f"{i},{i * 10}\n".encode() for i in range(10)),  # UTF-8 BOM
    ],
    ids=["spaces", "tabs", "semicolons", "bom"],
)
def test_txt_delimiters(data: bytes) -> None:
    parsed = parse_upload(data, "values.txt")
    np.testing.assert_array_equal(parsed.values, np.arange(10.0))
    assert len(parsed.columns) == 2


def test_non_utf8_csv_is_refused() -> None:
    data = "temp\n" + "\n".join(f"{i}°" for i in range(10))
    with pytest.raises(SignalError, match="not UTF-8 text"):
        parse_upload(data.encode("latin-1"), "temps.csv")


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a,b,c"], ids=["newline", "no-newline"])
def test_csv_with_only_header_is_refused(data: bytes) -> None:
    with pytest.raises(SignalError, match="only a header row"):
        parse_upload(data, "header.csv")


@pytest.mark.parametrize("data", [b" \n\n \n", b"\n"])
def test_blank_csv_is_refused(data: bytes) -> None:
    with pytest.raises(SignalError, match="empty"):
        parse_upload(data, "blank.csv")


def test_text_in_numeric_column_names_column_line_and_value() -> None:
    data = csv_column(RAMP[:3] + ["oops"] + RAMP[4:], header="volts")
    with pytest.raises(SignalError, match=r"column 'volts' holds text values, e\.g\. 'oops' on line 5"):
        parse_upload(data, "bad.csv")


def test_text_column_requested_explicitly_is_refused() -> None:
    data = b"name,value\n" + b"".join(f"n{i},{i}\n".encode() for i in range(10))
    with pytest.raises(SignalError, match="column 'name' holds text, not numbers; numeric columns: 'value'"):
        parse_upload(data, "named.csv", column="name")


def test_unknown_column_lists_numeric_columns() -> None:
    data = b"a,b\n" + b"".join(f"{i},{i}\n".encode() for i in range(10))
    with pytest.raises(SignalError, match="no column 'c'.*numeric columns: 'a', 'b'"):
        parse_upload(data, "ab.csv", column="c")


def test_csv_without_any_number_is_refused() -> None:
    with pytest.raises(SignalError, match="no column holds numbers"):
        parse_upload(b"word\nalpha\nbeta\n", "words.csv")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("nan", r"1 NaN/missing value\(s\), the first at sample index 3"),
        ("inf", r"1 infinite value\(s\), the first at sample index 3"),
        ("-inf", r"1 infinite value\(s\), the first at sample index 3"),
        ("", r"1 NaN/missing value\(s\), the first at sample index 3"),
    ],
    ids=["nan", "inf", "-inf", "empty-cell"],
)
def test_non_finite_csv_values_are_located(cell: str, message: str) -> None:
    data = b"a,b\n" + b"".join(f"{cell if i == 3 else i},{i}\n".encode() for i in range(10))
    with pytest.raises(SignalError, match=message):
        parse_upload(data, "holes.csv")


def test_several_non_finite_values_are_counted() -> None:
    data = csv_column(["1", "nan", "inf", "nan"] + RAMP)
    message = r"2 NaN/missing and 1 infinite value\(s\), the first at sample index 1"
    with pytest.raises(SignalError, match=message):
        parse_upload(data, "holes.csv")


def test_single_sample_is_too_short() -> None:
    with pytest.raises(SignalError, match=f"1 sample.*at least {MIN_SIGNAL_LENGTH}"):
        parse_upload(b"1\n", "one.csv")


# --------------------------------------------------------------------------------------------
# NPY
# --------------------------------------------------------------------------------------------


class _UnpickleTrap:
    """Unpickling this creates the file ``path`` (it reduces to ``open(path, "w")``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_npy_1d() -> None:
    array = np.linspace(-1, 1, 32, dtype=np.float32)
    parsed = parse_upload(npy_bytes(array), "x.npy")
    assert parsed.values.dtype == np.float64
    np.testing.assert_array_equal(parsed.values, array.astype(np.float64))
    assert parsed.columns == () and parsed.column is None and parsed.sample_rate is None


@pytest.mark.parametrize("shape", [(1, 32), (32, 1)])
def test_npy_2d_with_unit_dimension_is_squeezed(shape: tuple[int, int]) -> None:
    array = np.arange(32, dtype=np.int16).reshape(shape)
    parsed = parse_upload(npy_bytes(array), "x.npy")
    np.testing.assert_array_equal(parsed.values, np.arange(32.0))
    assert f"squeezed array of shape {shape}" in parsed.note


def test_npy_2d_is_refused_with_its_shape() -> None:
    with pytest.raises(SignalError, match=r"shape \(3, 16\); a 1-D array is expected"):
        parse_upload(npy_bytes(np.zeros((3, 16))), "x.npy")


@pytest.mark.parametrize("shape", [(2, 2, 8), (1, 1, 32)])
def test_npy_more_than_2d_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(SignalError, match="3 dimensions.*a 1-D array is expected"):
        parse_upload(npy_bytes(np.zeros(shape)), "x.npy")


def test_npy_scalar_is_refused() -> None:
    with pytest.raises(SignalError, match="single number"):
        parse_upload(npy_bytes(np.float64(3.0)), "x.npy")


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array(["a", "b"] * 8), "holds text; only real numbers"),
        (np.ones(16, dtype=np.complex128), "real part or the magnitude"),
        (np.zeros(16, dtype=[("a", "f8"), ("b", "i4")]),
         "^structured/record arrays are not supported; save a plain numeric 1-D array"),
    ],
    ids=["str", "complex", "structured"],
)
def test_npy_non_numeric_dtype_is_refused(array: np.ndarray, message: str) -> None:
    with pytest.raises(SignalError, match=message):
        parse_upload(npy_bytes(array), "x.npy")


def test_npy_object_array_is_refused_and_never_unpickled(tmp_path) -> None:
    marker = tmp_path / "unpickled.txt"
    trap = np.empty(1, dtype=object)
    trap[0] = _UnpickleTrap(str(marker))
    payload = npy_bytes(trap, allow_pickle=True)

    with pytest.raises(SignalError, match="Python objects.*not loaded"):
        parse_upload(payload, "evil.npy")
    assert not marker.exists()

    # The trap is live: loading with pickles allowed does create its file.
    control = tmp_path / "control.txt"
    live = np.empty(1, dtype=object)
    live[0] = _UnpickleTrap(str(control))
    loaded = np.load(io.BytesIO(npy_bytes(live, allow_pickle=True)), allow_pickle=True)
    loaded[0].close()
    assert control.exists()


@pytest.mark.parametrize(
    "data",
    [b"\x93NUMPY garbage", b"not an npy file at all", npy_bytes(np.arange(16.0))[:20]],
    ids=["bad-header", "no-magic", "cut-header"],
)
def test_corrupt_npy_is_refused(data: bytes) -> None:
    with pytest.raises(SignalError, match="not a valid .npy array"):
        parse_upload(data, "x.npy")


def test_truncated_npy_data_is_refused() -> None:
    data = npy_bytes(np.arange(64.0))
    with pytest.raises(SignalError, match=r"truncated: its header declares shape \(64,\)"):
        parse_upload(data[:-8], "x.npy")


def test_npy_header_declaring_a_huge_shape_does_not_allocate() -> None:
    huge = 2**34  # 128 GiB of float64
    header = {"descr": "<f8", "fortran_order": False, "shape": (huge,)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    data = buffer.getvalue() + np.arange(16.0).tobytes()
    tracemalloc.start()
    try:
        with pytest.raises(SignalError, match="truncated"):
            parse_upload(data, "forged.npy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES_FOR_FORGED_HEADER


def test_npy_too_long_keeps_the_signal_for_windowing() -> None:
    n = MAX_SIGNAL_LENGTH + 100
    with pytest.raises(SignalTooLongError, match=f"{n} samples; at most {MAX_SIGNAL_LENGTH}") as info:
        parse_upload(npy_bytes(np.arange(float(n))), "long.npy")
    assert isinstance(info.value, SignalError)
    assert isinstance(info.value.parsed, ParsedSignal)
    window = window_signal(info.value.parsed.values, start=100, length=MAX_SIGNAL_LENGTH)
    np.testing.assert_array_equal(window, np.arange(100.0, n))


def test_npy_nan_is_located() -> None:
    array = np.arange(16.0)
    array[[5, 9]] = np.nan
    with pytest.raises(SignalError, match=r"2 NaN/missing value\(s\), the first at sample index 5"):
        parse_upload(npy_bytes(array), "x.npy")


# --------------------------------------------------------------------------------------------
# WAV
# --------------------------------------------------------------------------------------------

SINE_16 = np.round(np.sin(np.linspace(0, 4 * np.pi, 64)) * 30000).astype(np.int16)


def test_wav_16bit_mono() -> None:
    rate = 22050
    parsed = parse_upload(wav_bytes(SINE_16, rate=rate), "tone.wav")
    assert parsed.sample_rate == rate
    np.testing.assert_allclose(parsed.values, SINE_16 / 2**15, atol=EXACT)
    assert "averaged" not in parsed.note


def test_wav_16bit_stereo_is_averaged_to_mono() -> None:
    left, right = SINE_16, (-SINE_16 // 2).astype(np.int16)
    parsed = parse_upload(wav_bytes(np.stack([left, right], axis=1)), "stereo.wav")
    expected = (left.astype(float) + right.astype(float)) / 2 / 2**15
    np.testing.assert_allclose(parsed.values, expected, atol=PCM16_STEP)
    assert "stereo WAV averaged to mono" in parsed.note


@pytest.mark.parametrize(
    ("sample_width", "frames", "expected"),
    [
        (1, np.array([0, 64, 128, 192, 255] * 4), (np.array([0, 64, 128, 192, 255] * 4) - 128) / 128),
        (
            4,
            np.array([-(2**31), -(2**30), 0, 2**30, 2**31 - 1] * 4),
            np.array([-1, -0.5, 0, 0.5, 1 - 2**-31] * 4),
        ),
    ],
    ids=["8-bit", "32-bit"],
)
def test_wav_8_and_32_bit(sample_width: int, frames: np.ndarray, expected: np.ndarray) -> None:
    parsed = parse_upload(wav_bytes(frames, sample_width=sample_width), "x.wav")
    np.testing.assert_allclose(parsed.values, expected, atol=EXACT)
    assert np.abs(parsed.values).max() <= 1.0


def test_wav_24bit_is_refused() -> None:
    with pytest.raises(SignalError, match="24-bit samples; accepted: 8, 16 or 32-bit PCM"):
        parse_upload(wav_bytes(np.arange(16), sample_width=3), "x.wav")


def test_truncated_wav_is_refused() -> None:
    data = wav_bytes(SINE_16)
    with pytest.raises(SignalError, match="truncated"):
        parse_upload(data[: len(data) - 20], "cut.wav")


@pytest.mark.parametrize("cut", [4, 12, 30], ids=["riff-only", "no-fmt", "half-fmt"])
def test_wav_with_cut_header_is_refused(cut: int) -> None:
    with pytest.raises(SignalError, match="not a readable PCM WAV"):
        parse_upload(wav_bytes(SINE_16)[:cut], "cut.wav")


def test_wav_header_declaring_huge_size_does_not_allocate() -> None:
    data = patch_uint32(wav_bytes(SINE_16), WAV_DATA_SIZE_OFFSET, 0xFFFFFFF0)
    tracemalloc.start()
    try:
        with pytest.raises(SignalError, match="declares .* frames .* truncated or its header is corrupt"):
            parse_upload(data, "forged.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES_FOR_FORGED_HEADER


@pytest.mark.parametrize("rate", [0, 384_001, 2**32 - 1])
def test_wav_absurd_sample_rate_is_refused(rate: int) -> None:
    data = patch_uint32(wav_bytes(SINE_16), WAV_RATE_OFFSET, rate)
    with pytest.raises(SignalError, match=f"sample rate of {rate} Hz; accepted: 1 to 384000 Hz"):
        parse_upload(data, "x.wav")


def test_not_a_wav_is_refused() -> None:
    with pytest.raises(SignalError, match="not a readable PCM WAV.*RIFF"):
        parse_upload(b"ID3" + b"\x00" * 100, "song.wav")


def test_single_frame_wav_is_too_short() -> None:
    with pytest.raises(SignalError, match=f"at least {MIN_SIGNAL_LENGTH}"):
        parse_upload(wav_bytes(SINE_16[:1]), "click.wav")


def test_long_wav_is_too_long() -> None:
    with pytest.raises(SignalTooLongError, match=f"at most {MAX_SIGNAL_LENGTH}"):
        parse_upload(wav_bytes(np.zeros(MAX_SIGNAL_LENGTH + 1, dtype=np.int16)), "long.wav")


# --------------------------------------------------------------------------------------------
# window_signal
# --------------------------------------------------------------------------------------------


def test_window_signal_returns_a_copy() -> None:
    values = np.arange(32.0)
    window = window_signal(values, 8, 16)
    window[:] = -1
    assert values[8] == 8.0


@pytest.mark.parametrize(
    ("start", "length", "message"),
    [
        (-1, 16, "does not fit"),
        (20, 16, "start must be between 0 and 16"),
        (0, MIN_SIGNAL_LENGTH - 1, "window length must be between"),
        (0, MAX_SIGNAL_LENGTH + 1, "window length must be between"),
        (0.5, 16, "start must be an integer"),
    ],
)
def test_window_signal_refuses_bad_windows(start, length, message: str) -> None:
    with pytest.raises(SignalError, match=message):
        window_signal(np.arange(32.0), start, length)


def test_window_signal_refuses_2d_and_non_finite() -> None:
    with pytest.raises(SignalError, match="1-D signal is expected"):
        window_signal(np.zeros((2, 16)), 0, 8)
    values = np.arange(32.0)
    values[10] = np.inf
    with pytest.raises(SignalError, match="infinite"):
        window_signal(values, 8, 8)


@pytest.mark.parametrize("module", [uploads, uploads.checks, uploads.text, uploads.npy, uploads.wav, options],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_upload_names_are_importable_from_multires_and_reused_by_dataset_files() -> None:
    import multires
    from multires.data.tasks import files

    assert multires.parse_upload is uploads.parse_upload and multires.SignalError is uploads.checks.SignalError
    for name in ("check_upload_bytes", "decode_text", "upload_too_large_message"):
        assert getattr(files, name) is getattr(uploads.checks, name)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "the file is empty"), (b"x" * (MAX_UPLOAD_BYTES + 1), "largest accepted upload is 5 MB"),
     (b"1,2", "unsupported file type; accepted types: .tsv")],
)
def test_check_upload_bytes_raises_the_callers_exception(data: bytes, message: str) -> None:
    class CustomError(ValueError):
        pass

    name = "a.csv" if "unsupported" in message else "a.tsv"
    with pytest.raises(CustomError, match=message):
        uploads.check_upload_bytes(data, name, (".tsv",), error=CustomError)


def test_decode_text_refuses_binary_with_the_hint() -> None:
    with pytest.raises(SignalError, match="not UTF-8 text .* use a .tsv file"):
        uploads.decode_text(b"\xff\xfe\x00", hint="use a .tsv file")


# --------------------------------------------------------------------------------------------
# magnitude: every derived quantity stays finite (issue 13)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("peak", [1.7e308, -1.7e308, 1e101])
def test_huge_samples_are_refused_before_anything_overflows(peak: float) -> None:
    values = np.zeros(64)
    values[5] = peak
    with pytest.raises(SignalError, match=re.escape(f"largest magnitude is {abs(peak):.3g} (sample index 5); at most 1e+100")):
        parse_upload(npy_bytes(values), "huge.npy")
    with pytest.raises(SignalError, match="largest magnitude"):
        window_signal(values, 0, 64)


@pytest.mark.parametrize("peak", [options.MAX_ABS_SAMPLE, 1e-300])
def test_accepted_extremes_keep_tree_and_energies_finite(peak: float) -> None:
    """At the largest accepted magnitude (and at tiny ones) the deepest tree's coefficients and
    energy shares stay finite, even with filters of gain 2 per level."""
    from multires import coefficient_tree, wavelet_filters
    from multires.figures.tree import level_energy, normalized_level_energy

    x = parse_upload(npy_bytes(peak * np.sign(np.sin(np.arange(MAX_SIGNAL_LENGTH) / 9.0))), "edge.npy").values
    h0, h1 = wavelet_filters("haar")
    for gain in (1.0, 2.0):
        rows = coefficient_tree(x, gain * h0, gain * h1, depth=14).rows()
        assert all(np.isfinite(values).all() for _, values in rows)
        energy = normalized_level_energy(rows)
        assert np.isfinite(energy).all()
        share = level_energy(rows, "t").data[0].y
        assert np.isfinite(np.asarray(share, dtype=float)).all()
