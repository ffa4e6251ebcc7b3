"""The checkpoint file format, read as untrusted input without PyTorch.

A checkpoint is a safetensors file (see :mod:`multires.checkpoint` for what it holds). This module
validates everything that can be checked from its header alone -- sizes, JSON (nesting and numbers
bounded, :mod:`multires.checkpoint.safejson`), metadata, format version, the config (against
``CONFIG_LIMITS`` and what it may cost, :mod:`multires.cost`), the metrics (against
:mod:`multires.checkpoint.metrics`), tensor dtypes, shapes and offsets -- and reads the config and
metrics. Every failure is a :class:`CheckpointError`. It imports neither PyTorch nor the model, so listing checkpoints (the app's
model picker) costs a few milliseconds; :func:`multires.checkpoint.load_checkpoint` builds on it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from multires.plaintext import quote, short

from ..config import ModelConfig
from ..options import MAX_ENSEMBLE_MEMBERS
from .metrics import SchemaError, validate_metrics
from .safejson import JsonLimitError, loads_bounded

__all__ = [
    "ENSEMBLE_FORMAT",
    "DTYPE_SIZES",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_CHECKPOINT_BYTES",
    "MAX_HEADER_BYTES",
    "CheckpointError",
    "parse_checkpoint",
    "read_metadata",
    "read_source",
    "split_ensemble",
]

FORMAT = "wavelet-memory-explorer"
"""Value of the ``format`` metadata field."""

FORMAT_VERSION = "1"
"""The ``format_version`` this code writes and reads."""

ENSEMBLE_FORMAT = "wavelet-memory-explorer-ensemble"
"""The ``format`` of a seed ensemble's file (:mod:`multires.training.ensemble`): refused here with a pointer to
:func:`multires.load_model`, which reads it."""

MAX_HEADER_BYTES = 8 * 2**20
"""Largest safetensors header accepted (8 MiB): the JSON of tensor names, shapes and metadata."""

MAX_CHECKPOINT_BYTES = 2**30
"""Largest checkpoint file accepted (1 GiB); checked before the file is read."""

#: safetensors dtype names and their sizes in bytes.
DTYPE_SIZES: dict[str, int] = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                               "U8": 1, "BOOL": 1}
METADATA_KEYS = ("format", "format_version", "config", "metrics")


class CheckpointError(ValueError):
    """A checkpoint cannot be read; the message says what is wrong with it."""



def read_source(source: str | os.PathLike | bytes | bytearray | memoryview) -> bytes:
    """The checkpoint's bytes from a path, a run directory or bytes, size-checked before reading."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"checkpoint is {len(data)} bytes, more than the {MAX_CHECKPOINT_BYTES} allowed")
        return data
    if not isinstance(source, (str, os.PathLike)):
        raise CheckpointError(f"expected a file path or bytes, got {type(source).__name__}")
    path = Path(source)
    if path.is_dir():
        if not (path / "model.safetensors").is_file():
            raise CheckpointError(f"{path} is a directory without a model.safetensors file")
        path = path / "model.safetensors"
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path} is {size} bytes, more than the {MAX_CHECKPOINT_BYTES} allowed")
    return path.read_bytes()


def _parse_header(data: bytes) -> tuple[dict[str, str], dict[str, dict]]:
    """Validate the safetensors header; returns (metadata, tensor entries). Reads no tensor data."""
    metadata, entries = _read_header(data)
    _check_metadata(metadata)
    return metadata, entries


def _read_header(data: bytes) -> tuple[Any, dict[str, dict]]:
    """The header's metadata (unchecked) and its validated tensor entries; reads no tensor data."""
    not_safetensors = ("not a safetensors checkpoint of this app (pickled or zipped PyTorch files such as "
                       "torch.save output are refused and never unpickled)")
    if len(data) < 8:
        raise CheckpointError(f"file is {len(data)} bytes, too short to be a checkpoint")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > MAX_HEADER_BYTES:
        raise CheckpointError(f"{not_safetensors}: its first 8 bytes declare a header of {header_len} bytes, "
                              f"more than the {MAX_HEADER_BYTES} allowed")
    if 8 + header_len > len(data):
        raise CheckpointError(f"file is truncated: the header needs {header_len} bytes but only "
                              f"{len(data) - 8} follow")
    try:
        header = loads_bounded(data[8 : 8 + header_len], what="header")
    except JsonLimitError as err:
        raise CheckpointError(f"{not_safetensors}: its {err}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{not_safetensors}: its header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    data_len = len(data) - 8 - header_len
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(f"tensor {quote(name)}: malformed header entry")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPE_SIZES:
            raise CheckpointError(f"tensor {quote(name)}: unsupported dtype {quote(dtype)}")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape)):
            raise CheckpointError(f"tensor {quote(name)}: invalid shape {quote(shape)}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1]):
            raise CheckpointError(f"tensor {quote(name)}: invalid data offsets {quote(offsets)}")
        if offsets[1] - offsets[0] != math.prod(shape) * DTYPE_SIZES[dtype]:
            raise CheckpointError(f"tensor {quote(name)}: {offsets[1] - offsets[0]} bytes do not hold a "
                                  f"{dtype} tensor of shape {shape}")
        spans.append(tuple(offsets))
    end = max((e for _, e in spans), default=0)
    if end > data_len:
        raise CheckpointError(f"file is truncated: tensor data should end at byte {end} but only "
                              f"{data_len} bytes of data are present")
    position = 0
    for begin, stop in sorted(spans):
        if begin != position:
            raise CheckpointError("tensor data is not laid out contiguously: corrupted checkpoint")
        position = stop
    if position != data_len:
        raise CheckpointError(f"{data_len - position} unexpected bytes after the tensor data: corrupted checkpoint")
    return metadata, header


def parse_checkpoint(data: bytes) -> tuple[dict[str, dict], ModelConfig, dict[str, Any]]:
    """``(tensor entries, config, metrics)`` of a checkpoint's validated header; reads no tensor data.

    Raises only :class:`CheckpointError`, whatever the bytes.
    """
    try:
        return _parse(data)
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as err:
        raise CheckpointError(f"checkpoint header cannot be read: {type(err).__name__}: {err}") from None


def _parse(data: bytes) -> tuple[dict[str, dict], ModelConfig, dict[str, Any]]:
    metadata, entries = _parse_header(data)
    config, metrics = _config_and_metrics(metadata)
    return entries, config, metrics


def _config_and_metrics(metadata: dict[str, str], what: str = "checkpoint") -> tuple[ModelConfig, dict[str, Any]]:
    """The config and metrics of checked metadata (a checkpoint's or an ensemble file's), both validated."""
    try:
        config = ModelConfig.from_json(metadata["config"])
    except (ValueError, TypeError) as err:  # TypeError: e.g. a field given the wrong type of JSON value
        raise CheckpointError(f"{what} holds an invalid model config: {err}") from None
    try:
        metrics = loads_bounded(metadata["metrics"], what="metrics")
        validate_metrics(metrics)
    except (JsonLimitError, SchemaError) as err:
        raise CheckpointError(f"{what} {err}") from None
    _check_snapshots(config, metrics)
    return config, metrics


def _check_snapshots(config: ModelConfig, metrics: dict[str, Any]) -> None:
    """Selection snapshots must hold one (d_model, candidates) mask per learned layer, and only then."""
    layers = config.n_layers if config.tree_select == "learned" else 0
    for i, snapshot in enumerate(metrics.get("selection_history") or []):
        shapes = [tuple(mask["shape"]) for mask in snapshot["masks"]]
        if len(shapes) != layers or any(shape[0] != config.d_model for shape in shapes):
            raise CheckpointError(f"checkpoint metrics field selection_history[{i}] holds masks {shapes}; this "
                                  f"config needs {layers} of {config.d_model} channels each")


def split_ensemble(data: bytes) -> tuple[ModelConfig, dict[str, Any], list[bytes]] | None:
    """An ensemble file's ``(config, metrics, one checkpoint file per member)``, or None for any other file.

    The ensemble's header is validated like a checkpoint's (sizes, bounded JSON, tensor offsets), its
    metadata, config and metrics too; every member's tensors are then cut out, with their data, into a
    checkpoint file of their own (``members.{i}.`` dropped from the names) for
    :func:`multires.checkpoint.load_checkpoint`, which checks each one as it checks any upload: shapes
    against the config before any tensor is read, values after. Raises only :class:`CheckpointError`.
    """
    try:
        metadata, entries = _read_header(data)
        if not isinstance(metadata, dict) or metadata.get("format") != ENSEMBLE_FORMAT:
            return None
        count = _check_ensemble_metadata(metadata)
        config, metrics = _config_and_metrics(metadata, "ensemble file")
        groups = _member_entries(entries, count)
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as err:
        raise CheckpointError(f"ensemble file header cannot be read: {type(err).__name__}: {err}") from None
    member_metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": metadata["config"], "metrics": "{}"}
    start = 8 + int.from_bytes(data[:8], "little")
    return config, metrics, [_member_file(data, start, group, member_metadata) for group in groups]


def _check_ensemble_metadata(metadata: dict) -> int:
    """The member count of an ensemble file's metadata, after checking it has every key this version reads."""
    if not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("ensemble file has metadata that is not text")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"ensemble file format_version {quote(metadata.get('format_version'))} is not "
                              f"supported; this version reads format_version {quote(FORMAT_VERSION)} (upgrade multires?)")
    missing = [k for k in ("members", "config", "metrics") if k not in metadata]
    if missing:
        raise CheckpointError(f"ensemble file metadata lacks {missing}")
    members = metadata["members"]
    if not (members.isascii() and members.isdigit() and len(members) <= 3 and 1 <= int(members) <= MAX_ENSEMBLE_MEMBERS):
        raise CheckpointError(f"an ensemble file holds 1 to {MAX_ENSEMBLE_MEMBERS} models; this one says "
                              f"{quote(short(members))}")
    return int(members)


def _member_entries(entries: dict[str, dict], count: int) -> list[dict[str, dict]]:
    """The header entries of each member, named as in a checkpoint (``members.{i}.`` dropped)."""
    groups: list[dict[str, dict]] = [{} for _ in range(count)]
    for name, entry in entries.items():
        prefix, _, rest = name.partition(".")
        index, _, tensor = rest.partition(".")
        if (prefix != "members" or not tensor or not (index.isascii() and index.isdigit())
                or index != str(int(index)) or int(index) >= count):
            raise CheckpointError(f"tensor {quote(name)} belongs to none of the ensemble's {count} members")
        groups[int(index)][tensor] = entry
    empty = [i + 1 for i, group in enumerate(groups) if not group]
    if empty:
        raise CheckpointError(f"the ensemble file says it holds {count} models but has no tensors for "
                              f"model{'s' if len(empty) > 1 else ''} {', '.join(map(str, empty))}")
    return groups


def _member_file(data: bytes, start: int, entries: dict[str, dict], metadata: dict[str, str]) -> bytes:
    """A safetensors file holding ``entries`` (offsets relative to ``start`` in ``data``), packed in order."""
    header: dict[str, Any] = {"__metadata__": metadata}
    chunks, position = [], 0
    for name, entry in sorted(entries.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, stop = entry["data_offsets"]
        chunks.append(data[start + begin : start + stop])
        header[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "data_offsets": [position, position + stop - begin]}
        position += stop - begin
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    return len(text).to_bytes(8, "little") + text + b"".join(chunks)


def read_metadata(source: str | os.PathLike | bytes) -> tuple[ModelConfig, dict[str, Any]]:
    """``(config, metrics)`` of a checkpoint after validating its header; builds nothing."""
    _, config, metrics = parse_checkpoint(read_source(source))
    return config, metrics


def _check_metadata(metadata: Any) -> None:
    """The header's metadata must be this app's format and version, with every key it reads."""
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("checkpoint has no string metadata; it was not written by this app "
                              "(format 'wavelet-memory-explorer')")
    if metadata.get("format") == ENSEMBLE_FORMAT:
        raise CheckpointError(f"this file holds an ensemble of {short(metadata.get('members', 'several'))} models "
                              "trained with different seeds, not a single model; load it with multires.load_model "
                              "(predictions average the models)")
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint format is {quote(metadata.get('format'))}, expected {quote(FORMAT)}: "
                              "this file was not written by this app")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint format_version {quote(metadata.get('format_version'))} is not supported; "
                              f"this version reads format_version {quote(FORMAT_VERSION)} (upgrade multires?)")
    missing = [k for k in METADATA_KEYS if k not in metadata]
    if missing:
        raise CheckpointError(f"checkpoint metadata lacks {missing}")
