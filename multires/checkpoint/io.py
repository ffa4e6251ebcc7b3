"""Checkpoints: one self-contained ``.safetensors`` file per model, loaded as untrusted input.

The file holds every entry of ``net.state_dict()`` (float32 weights, the bool ``slot_mask`` of each
``MultiresConv`` and the BatchNorm statistics; learned-selection layers compacted, see below) and, in the safetensors metadata, four strings:

* ``format`` = ``"wavelet-memory-explorer"`` and ``format_version`` = ``"1"``;
* ``config``: the :class:`~multires.ModelConfig` as JSON (enough to rebuild the architecture);
* ``metrics``: JSON object of whatever the trainer reports (test metric, epochs, wall time, seed,
  versions, task, a thinned training history, ...).

A learned-TREESELECT layer is stored *compacted* (:meth:`multires.MultiresConv.compact`): only the
candidate slots some channel keeps, listed in ``layers.{i}.conv.candidates`` (int32, one row
``(band, level, lag)`` per slot, band 0 = approx, 1 = detail), with ``w`` and ``slot_mask`` cut
to those columns. A learned checkpoint without that tensor (written before candidates were
capped) holds the old unbounded menu (:func:`multires.candidate_slots` with no cap); it loads as
is and is compacted in memory. Either way the loaded model's outputs equal the saved model's.

It is what users download from and upload to the app, so :func:`load_checkpoint` treats it as
hostile: nothing is ever unpickled (only ``safetensors`` parsing), the 8-byte header length is
checked against a limit and the file size before the header is read, the header, metadata and
config (with ``multires.CONFIG_LIMITS``) are validated and the expected tensor shapes are derived
on PyTorch's ``meta`` device (no memory) and compared with the header *before* any tensor data is
read or any model is built. Every problem raises :class:`CheckpointError` with a message fit to
show a user.

Examples
--------
>>> from multires import ModelConfig, MultiresNet
>>> net = MultiresNet(ModelConfig(d_model=4))
>>> loaded, config, metrics = load_checkpoint(checkpoint_bytes(net, {"note": "untrained"}))
>>> config == net.config, metrics["note"]
(True, 'untrained')
>>> all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.state_dict().values()))
True
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as _safetensors_load
from safetensors.torch import save as _safetensors_save

from multires.plaintext import quote

from ..config import ModelConfig
from ..conv import MultiresConv
from ..model import MultiresNet, build_model, state_layout
from ..options import MAX_CANDIDATE_SLOTS
from ..treeselect import Slot, candidate_slots
from .format import (
    FORMAT,
    FORMAT_VERSION,
    MAX_CHECKPOINT_BYTES,
    MAX_HEADER_BYTES,
    CheckpointError,
    parse_checkpoint,
    read_metadata,
    read_source,
)
from .metrics import versions

__all__ = ["OutputDirError", "check_layout", "check_writable_dir", "checkpoint_bytes", "save_checkpoint", "save_run",
           "load_checkpoint"]

# safetensors dtype names of the torch dtypes a checkpoint may hold.
_DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
                torch.bool: "BOOL"}


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """``value`` with NaN/inf replaced by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _unwrap(net: torch.nn.Module) -> MultiresNet:
    net = getattr(net, "module", net)  # DistributedDataParallel
    if not isinstance(net, MultiresNet):
        raise TypeError(f"expected a MultiresNet, got {type(net).__name__}")
    return net


_BAND_CODES = {"approx": 0, "detail": 1}


def _candidates_key(layer: int) -> str:
    return f"layers.{layer}.conv.candidates"


def _compact_tensors(conv: MultiresConv, prefix: str) -> dict[str, torch.Tensor]:
    """``w``, ``slot_mask`` and ``candidates`` of a learned layer, cut to the slots some channel keeps."""
    used = conv.slot_mask.any(dim=0)  # (S)
    columns = torch.cat([used, used.new_ones(1)])
    table = [[_BAND_CODES[s.band], s.level, s.lag] for s, keep in zip(conv.slots, used.tolist()) if keep]
    return {f"{prefix}w": conv.w.detach()[:, columns],
            f"{prefix}slot_mask": conv.slot_mask[:, used],
            f"{prefix}candidates": torch.tensor(table, dtype=torch.int32).reshape(-1, 3)}


def checkpoint_bytes(net: MultiresNet, metrics: dict[str, Any] | None = None) -> bytes:
    """The checkpoint of ``net`` as bytes (what the app offers for download).

    Parameters
    ----------
    net : MultiresNet
        Saved as is (float32); ``DistributedDataParallel`` wrappers are unwrapped.
    metrics : dict, optional
        JSON-able; NaN and inf become ``null``; ``versions`` is added when missing.

    Returns
    -------
    bytes
        A safetensors file, see the module docstring.
    """
    net = _unwrap(net)
    metrics = {} if metrics is None else dict(metrics)
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
    metrics.setdefault("versions", versions())
    tensors = {}
    for name, tensor in net.state_dict().items():
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            raise ValueError(f"tensor {name} is {tensor.dtype}; checkpoints hold float32 (call net.float())")
        tensors[name] = tensor.detach().cpu().contiguous()
    for index, conv in enumerate(net.convs):
        if conv.tree_select == "learned":
            compact = _compact_tensors(conv, f"layers.{index}.conv.")
            tensors.update({k: v.detach().cpu().contiguous() for k, v in compact.items()})
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": net.config.to_json(),
        "metrics": json.dumps(_json_safe(metrics), allow_nan=False, sort_keys=True),
    }
    data = _safetensors_save(tensors, metadata=metadata)
    if int.from_bytes(data[:8], "little") > MAX_HEADER_BYTES:
        raise ValueError(f"metadata too large: the header would exceed {MAX_HEADER_BYTES} bytes; thin the metrics")
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a checkpoint is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, net: MultiresNet, metrics: dict[str, Any] | None = None) -> Path:
    """Write :func:`checkpoint_bytes` to ``path`` atomically (parents created); returns the path."""
    path = Path(path)
    _atomic_write(path, checkpoint_bytes(net, metrics))
    return path


class OutputDirError(ValueError):
    """An output directory that cannot be created or written; the message says why."""


def check_writable_dir(directory: str | os.PathLike, what: str = "output directory") -> Path:
    """Check ``directory`` could be created (if missing) and written, before any long work; creates nothing.

    A CLI calls this before training, so a bad ``--out`` (``/dev/null/x``, a read-only place, an
    existing file) is refused at once instead of after the run, losing the trained model. The
    nearest existing ancestor must be a directory this process may write into.

    Raises
    ------
    OutputDirError
        Naming the directory and what is wrong.

    >>> check_writable_dir("/dev/null/x")
    Traceback (most recent call last):
    ...
    multires.checkpoint.io.OutputDirError: cannot write the output directory '/dev/null/x': '/dev/null' is not a directory
    """
    path = Path(directory)
    nearest = path
    while not os.path.lexists(nearest) and nearest != nearest.parent:
        nearest = nearest.parent
    problem = None
    if not nearest.is_dir():
        problem = f"{quote(str(nearest))} is not a directory"
    elif not os.access(nearest, os.W_OK | os.X_OK):
        problem = f"{quote(str(nearest))} is not writable by this user"
    if problem:
        raise OutputDirError(f"cannot write the {what} {quote(str(path))}: {problem}")
    return path


def save_run(directory: str | os.PathLike, net: MultiresNet, metrics: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` plus human-readable ``config.json`` and ``metrics.json`` sidecars.

    The sidecars repeat what the checkpoint's metadata holds; :func:`load_checkpoint` reads only
    the ``.safetensors`` file. Returns the checkpoint's path.
    """
    directory = Path(directory)
    data = checkpoint_bytes(net, metrics)
    _, config, stored = parse_checkpoint(data)
    path = directory / "model.safetensors"
    _atomic_write(path, data)
    _atomic_write(directory / "config.json", (config.to_json() + "\n").encode())
    _atomic_write(directory / "metrics.json", (json.dumps(stored, indent=2, sort_keys=True) + "\n").encode())
    return path


# --------------------------------------------------------------------------------------------
# Reading (untrusted): the header is validated by checkpoint_format, then the tensors here
# --------------------------------------------------------------------------------------------


def _stored_candidates(config: ModelConfig, entries: dict[str, dict]) -> dict[int, int]:
    """Candidate count of every learned layer as stored: the ``candidates`` table's rows, or the old
    unbounded menu's size when the table is absent. Checks the table's header entry."""
    if config.tree_select != "learned":
        return {}
    counts = {}
    for index in range(config.n_layers):
        entry = entries.get(_candidates_key(index))
        if entry is None:  # written before the cap: every grid slot up to max_lag
            counts[index] = len(candidate_slots(config.resolved_depth, config.resolved_kernel_size, config.max_lag))
            if counts[index] > MAX_CANDIDATE_SLOTS:
                raise CheckpointError(f"layer {index}: the uncapped learned menu of this config has {counts[index]} "
                                      f"candidate slots, more than the {MAX_CANDIDATE_SLOTS} allowed")
            continue
        shape = tuple(entry["shape"])
        if entry["dtype"] not in ("I32", "I64") or len(shape) != 2 or shape[1] != 3:
            raise CheckpointError(f"tensor {quote(_candidates_key(index))} is {entry['dtype']} {shape}; expected "
                                  "an int32 table (slots, 3) of (band, level, lag)")
        if not config.memory_size <= shape[0] <= MAX_CANDIDATE_SLOTS:
            raise CheckpointError(f"layer {index}: {shape[0]} stored candidate slots; expected "
                                  f"{config.memory_size}..{MAX_CANDIDATE_SLOTS} (multires.options.MAX_CANDIDATE_SLOTS)")
        counts[index] = shape[0]
    return counts


def _decode_candidates(table: torch.Tensor, layer: int) -> list[Slot]:
    bands = {code: band for band, code in _BAND_CODES.items()}
    rows = table.tolist()
    if any(row[0] not in bands for row in rows):
        raise CheckpointError(f"layer {layer}: candidate bands must be 0 (approx) or 1 (detail)")
    return [Slot(bands[band], int(level), int(lag)) for band, level, lag in rows]


def _list(names: set[str]) -> str:
    names = sorted(names)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


#: What a check that should have caught a bad file first may still raise; reported as a CheckpointError.
_UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, RuntimeError)


def load_checkpoint(source: str | os.PathLike | bytes) -> tuple[MultiresNet, ModelConfig, dict[str, Any]]:
    """Load a checkpoint written by :func:`save_checkpoint` or :func:`checkpoint_bytes`.

    Parameters
    ----------
    source : path or bytes
        A ``.safetensors`` file, a run directory holding ``model.safetensors``, or the file's bytes.

    Returns
    -------
    net : MultiresNet
        In eval mode; its outputs are bit-identical to the saved model's (learned-selection
        layers come back compacted: only the candidate slots some channel keeps).
    config : ModelConfig
    metrics : dict

    Raises
    ------
    CheckpointError
        Missing file; not a safetensors file; truncated; another format or an unknown
        ``format_version``; an invalid or oversized config; missing or unknown tensors; shapes or
        dtypes that do not fit the config; non-finite weights; inconsistent selection masks.
    """
    data = read_source(source)
    try:
        return _load(data)
    except CheckpointError:
        raise
    except _UNEXPECTED as err:
        # Every check above should have caught a bad file first; this keeps the promise that an
        # untrusted file only ever raises CheckpointError, whatever slipped through.
        raise CheckpointError(f"checkpoint cannot be loaded: {type(err).__name__}: {err}") from None


def check_layout(source: str | os.PathLike | bytes) -> None:
    """Every check :func:`load_checkpoint` makes before reading tensor data: the header, metadata, config
    and metrics, and every tensor's name, dtype and shape against the config. Reads no tensor data and
    builds nothing; raises :class:`CheckpointError` as :func:`load_checkpoint` would."""
    try:
        _checked_layout(read_source(source))
    except CheckpointError:
        raise
    except _UNEXPECTED as err:
        raise CheckpointError(f"checkpoint cannot be loaded: {type(err).__name__}: {err}") from None


def _checked_layout(data: bytes) -> tuple[dict[str, dict], ModelConfig, dict[str, Any], dict[int, int]]:
    """``(tensor entries, config, metrics, stored candidate counts)`` once the header and layout are checked."""
    entries, config, metrics = parse_checkpoint(data)
    try:
        expected = state_layout(config)
    except ValueError as err:  # e.g. memory_size larger than the tree offers
        raise CheckpointError(f"checkpoint holds an invalid model config: {err}") from None
    stored = _stored_candidates(config, entries)
    for index, count in stored.items():
        prefix = f"layers.{index}.conv."
        channels = expected[prefix + "w"][0][0]
        expected[prefix + "w"] = ((channels, count + 1), torch.float32)
        expected[prefix + "slot_mask"] = ((channels, count), torch.bool)
        if _candidates_key(index) in entries:
            expected[_candidates_key(index)] = ((count, 3), torch.int32 if entries[_candidates_key(index)]
                                                ["dtype"] == "I32" else torch.int64)
    missing, unknown = set(expected) - set(entries), set(entries) - set(expected)
    if missing:
        raise CheckpointError(f"checkpoint lacks tensors the config needs: {_list(missing)}")
    if unknown:
        raise CheckpointError(f"checkpoint has tensors the config does not know: {_list(unknown)}")
    for name, (shape, dtype) in expected.items():
        entry = entries[name]
        if tuple(entry["shape"]) != shape or entry["dtype"] != _DTYPE_NAMES[dtype]:
            raise CheckpointError(f"tensor {quote(name)} is {entry['dtype']} {tuple(entry['shape'])}, the config "
                                  f"needs {_DTYPE_NAMES[dtype]} {shape}")
    return entries, config, metrics, stored


def _load(data: bytes) -> tuple[MultiresNet, ModelConfig, dict[str, Any]]:
    """:func:`load_checkpoint` of the file's bytes."""
    entries, config, metrics, stored = _checked_layout(data)
    try:
        tensors = _safetensors_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"checkpoint tensors cannot be read: {err}") from None
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"tensor {quote(name)} holds non-finite values (NaN or inf)")
        if name.endswith("running_var") and bool((tensor < 0).any()):
            raise CheckpointError(f"tensor {quote(name)} holds negative variances")
    for index in range(config.n_layers):
        kept = tensors[f"layers.{index}.conv.slot_mask"].sum(dim=1)  # (C,)
        candidates = entries[f"layers.{index}.conv.slot_mask"]["shape"][1]
        if config.tree_select != "learned":
            consistent = bool((kept == candidates).all())
        else:  # mid-schedule every channel keeps the same number, from all candidates down to M
            consistent = bool((kept == kept[0]).all()) and config.memory_size <= int(kept[0]) <= candidates
        if not consistent:
            raise CheckpointError(f"layer {index}: inconsistent memory selection (slots kept per channel: "
                                  f"{sorted(set(kept.tolist()))})")

    net = build_model(config, seed=0)
    for index in stored:
        conv = net.convs[index]
        key = _candidates_key(index)
        slots = (_decode_candidates(tensors.pop(key), index) if key in tensors
                 else candidate_slots(conv.depth, conv.kernel_size, config.max_lag))
        try:
            conv.use_candidates(slots)
        except ValueError as err:
            raise CheckpointError(f"layer {index}: invalid candidate slots: {err}") from None
    net.load_state_dict(tensors, strict=True)
    for index in stored:
        net.convs[index].compact()  # a no-op for compacted files; shrinks pre-cap ones
    net.eval()
    return net, config, metrics
