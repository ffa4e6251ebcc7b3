"""Seed ensembles: several trained networks used as one model, saved and loaded as one file.

:class:`MultiresEnsemble` averages its members' class *probabilities* (classification; the mean
output for recall) and returns their log, so ``argmax`` of its output is the ensemble's vote and
:func:`multires.predict`, :func:`multires.training.evaluation.evaluate` and cross entropy work unchanged.
Inspection that needs one network (filters, memory trees) reads the first member:
``ensemble.config``, ``ensemble.convs`` and ``ensemble.layers`` are member 0's.

An ensemble file is one ``.safetensors`` file: every member's checkpoint tensors under
``members.{i}.``, the shared config and the metrics in its metadata (``format`` =
:data:`multires.checkpoint.format.ENSEMBLE_FORMAT`). :func:`load_model` reads both kinds of file; each member is rebuilt
through :func:`multires.checkpoint.load_checkpoint`, so an ensemble file gets every check a
single checkpoint gets (it is untrusted input too).

Examples
--------
>>> import torch
>>> from multires import ModelConfig, MultiresNet
>>> nets = [MultiresNet(ModelConfig(d_model=4, d_output=3)) for _ in range(2)]
>>> ens = MultiresEnsemble(nets)
>>> loaded = load_model(ensemble_bytes(ens, {"note": "two"}))
>>> x = torch.randn(2, 1, 16)
>>> torch.allclose(ens.eval()(x), loaded(x)), loaded.n_members
(True, 2)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from safetensors.torch import load as _safetensors_load
from safetensors.torch import save as _safetensors_save
from torch import nn

from ..checkpoint.format import (
    ENSEMBLE_FORMAT,
    FORMAT_VERSION,
    MAX_HEADER_BYTES,
    CheckpointError,
    read_source,
    split_ensemble,
)
from ..checkpoint.io import _atomic_write, _json_safe, check_layout, checkpoint_bytes, load_checkpoint
from ..model import MultiresNet
from ..options import MAX_ENSEMBLE_MEMBERS

__all__ = ["MAX_MEMBERS", "MultiresEnsemble", "ensemble_bytes", "load_model", "model_bytes", "save_model"]

MAX_MEMBERS = MAX_ENSEMBLE_MEMBERS


class MultiresEnsemble(nn.Module):
    """Members with one architecture, used as one model: log of the mean of their probabilities."""

    def __init__(self, members: Sequence[MultiresNet]) -> None:
        super().__init__()
        members = list(members)
        if not 1 <= len(members) <= MAX_MEMBERS:
            raise ValueError(f"an ensemble needs 1..{MAX_MEMBERS} members, got {len(members)}")
        configs = {m.config.to_json() for m in members}
        if len(configs) != 1:
            raise ValueError("every member of an ensemble must have the same model config")
        self.members = nn.ModuleList(members)

    @property
    def n_members(self) -> int:
        return len(self.members)

    @property
    def config(self):  # noqa: ANN201 - ModelConfig
        return self.members[0].config

    @property
    def convs(self):  # noqa: ANN201 - member 0's, for inspection
        return self.members[0].convs

    @property
    def layers(self):  # noqa: ANN201
        return self.members[0].layers

    def n_parameters(self) -> int:
        return sum(m.n_parameters() for m in self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [m(x) for m in self.members]
        if self.config.head == "last":  # recall: mean prediction
            return torch.stack(outs).mean(dim=0)
        probs = torch.stack([o.float().softmax(dim=-1) for o in outs]).mean(dim=0)
        return probs.clamp_min(1e-12).log()


def ensemble_bytes(ensemble: MultiresEnsemble, metrics: dict[str, Any] | None = None) -> bytes:
    """One ``.safetensors`` file holding every member (see the module docstring)."""
    tensors: dict[str, torch.Tensor] = {}
    for index, member in enumerate(ensemble.members):
        for name, tensor in _safetensors_load(checkpoint_bytes(member, {})).items():
            tensors[f"members.{index}.{name}"] = tensor
    metrics = dict(metrics or {})
    metrics.setdefault("ensemble_members", ensemble.n_members)
    metadata = {"format": ENSEMBLE_FORMAT, "format_version": FORMAT_VERSION, "members": str(ensemble.n_members),
                "config": ensemble.config.to_json(), "metrics": json.dumps(_json_safe(metrics), sort_keys=True, allow_nan=False)}
    data = _safetensors_save(tensors, metadata=metadata)
    if int.from_bytes(data[:8], "little") > MAX_HEADER_BYTES:
        raise ValueError(f"metadata too large: the header would exceed {MAX_HEADER_BYTES} bytes; thin the metrics")
    return data


def model_bytes(net: nn.Module, metrics: dict[str, Any] | None = None) -> bytes:
    """The file of a single network (a checkpoint) or of an ensemble (an ensemble file), as bytes."""
    return ensemble_bytes(net, metrics) if isinstance(net, MultiresEnsemble) else checkpoint_bytes(net, metrics)


def save_model(path: str | os.PathLike, net: nn.Module, metrics: dict[str, Any] | None = None) -> Path:
    """Write a single network (a checkpoint) or an ensemble (an ensemble file) to ``path``."""
    path = Path(path)
    _atomic_write(path, model_bytes(net, metrics))
    return path


def load_model(source: str | os.PathLike | bytes) -> nn.Module:
    """A checkpoint or an ensemble file (path, run directory or bytes) as one model in eval mode.

    Returns the :class:`~multires.MultiresNet` or :class:`MultiresEnsemble`; its metrics are in
    ``model.metrics`` (a dict attribute set here). An ensemble file's header, config and metrics are
    validated as a checkpoint's are, and every member is cut out into a checkpoint file of its own and
    read by :func:`~multires.checkpoint.load_checkpoint`, so each one gets every check (and every bound)
    a single uploaded checkpoint gets (:func:`multires.checkpoint.format.split_ensemble`).

    Raises
    ------
    CheckpointError
        Anything wrong with the file, with a message fit to show a user (for an ensemble, naming the
        member, counted from 1).
    """
    data = read_source(source)
    split = split_ensemble(data)
    if split is None:
        net, _, metrics = load_checkpoint(data)
        net.metrics = metrics
        return net
    _config, metrics, files = split
    _each_member(check_layout, files)  # every member's header and shapes, before any member's tensors are read
    ensemble = MultiresEnsemble([net for net, _, _ in _each_member(load_checkpoint, files)]).eval()
    ensemble.metrics = metrics
    return ensemble


def _each_member(load: Callable[[bytes], Any], files: list[bytes]) -> list[Any]:
    """``load`` of every member's checkpoint file; a refusal names the member (counted from 1)."""
    out = []
    for index, member in enumerate(files):
        try:
            out.append(load(member))
        except CheckpointError as err:
            raise CheckpointError(f"model {index + 1} of the {len(files)} in this ensemble file: {err}") from None
    return out
