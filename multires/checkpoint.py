"""Checkpoints: one self-contained ``.safetensors`` file per model, loaded as untrusted input.

The file holds every entry of ``net.state_dict()`` (float32 weights, the bool ``slot_mask`` of each
``MultiresConv`` and the BatchNorm statistics) and, in the safetensors metadata, four strings:

* ``format`` = ``"wavelet-memory-explorer"`` and ``format_version`` = ``"1"``;
* ``config``: the :class:`~multires.ModelConfig` as JSON (enough to rebuild the architecture);
* ``metrics``: JSON object of whatever the trainer reports (test metric, epochs, wall time, seed,
  versions, task, a thinned training history, ...).

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
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as _safetensors_load
from safetensors.torch import save as _safetensors_save

from .checkpoint_format import (
    FORMAT,
    FORMAT_VERSION,
    MAX_CHECKPOINT_BYTES,
    MAX_HEADER_BYTES,
    CheckpointError,
    parse_checkpoint,
    read_metadata,
    read_source,
)
from .model import ModelConfig, MultiresNet

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "CheckpointError",
    "checkpoint_bytes",
    "save_checkpoint",
    "save_run",
    "load_checkpoint",
    "read_metadata",
]

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


def _versions() -> dict[str, str]:
    from . import __version__

    return {"torch": torch.__version__, "multires": __version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _unwrap(net: torch.nn.Module) -> MultiresNet:
    net = getattr(net, "module", net)  # DistributedDataParallel
    if not isinstance(net, MultiresNet):
        raise TypeError(f"expected a MultiresNet, got {type(net).__name__}")
    return net


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
    metrics.setdefault("versions", _versions())
    tensors = {}
    for name, tensor in net.state_dict().items():
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            raise ValueError(f"tensor {name} is {tensor.dtype}; checkpoints hold float32 (call net.float())")
        tensors[name] = tensor.detach().cpu().contiguous()
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


def _expected_state(config: ModelConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of ``MultiresNet(config).state_dict()``, built on the meta device."""
    from .training import _BUILD_LOCK  # the meta build must not race another thread's seeded build

    with _BUILD_LOCK:
        state = torch.get_rng_state()
        try:
            with torch.device("meta"):
                net = MultiresNet(config)
        finally:
            torch.set_rng_state(state)
    return {k: (tuple(v.shape), v.dtype) for k, v in net.state_dict().items()}


def _list(names: set[str]) -> str:
    names = sorted(names)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def load_checkpoint(source: str | os.PathLike | bytes) -> tuple[MultiresNet, ModelConfig, dict[str, Any]]:
    """Load a checkpoint written by :func:`save_checkpoint` or :func:`checkpoint_bytes`.

    Parameters
    ----------
    source : path or bytes
        A ``.safetensors`` file, a run directory holding ``model.safetensors``, or the file's bytes.

    Returns
    -------
    net : MultiresNet
        In eval mode, bit-identical to the saved model.
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
    entries, config, metrics = parse_checkpoint(data)
    try:
        expected = _expected_state(config)
    except ValueError as err:  # e.g. memory_size larger than the tree offers
        raise CheckpointError(f"checkpoint holds an invalid model config: {err}") from None
    missing, unknown = set(expected) - set(entries), set(entries) - set(expected)
    if missing:
        raise CheckpointError(f"checkpoint lacks tensors the config needs: {_list(missing)}")
    if unknown:
        raise CheckpointError(f"checkpoint has tensors the config does not know: {_list(unknown)}")
    for name, (shape, dtype) in expected.items():
        entry = entries[name]
        if tuple(entry["shape"]) != shape or entry["dtype"] != _DTYPE_NAMES[dtype]:
            raise CheckpointError(f"tensor {name!r} is {entry['dtype']} {tuple(entry['shape'])}, the config "
                                  f"needs {_DTYPE_NAMES[dtype]} {shape}")
    try:
        tensors = _safetensors_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"checkpoint tensors cannot be read: {err}") from None
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"tensor {name!r} holds non-finite values (NaN or inf)")
        if name.endswith("running_var") and bool((tensor < 0).any()):
            raise CheckpointError(f"tensor {name!r} holds negative variances")
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

    from .training import build_model

    net = build_model(config, seed=0)
    net.load_state_dict(tensors, strict=True)
    net.eval()
    return net, config, metrics
