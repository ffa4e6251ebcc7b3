"""The schema of a checkpoint's ``metrics``: every field the app reads, its type and range.

A checkpoint's metadata is untrusted all the way down: a ``history`` given as a list, a
``test_metric`` given as text or a ``train_config`` given as a number loaded once and then broke a
page on every visit. :func:`validate_metrics` checks every known field (what
:meth:`multires.training.history.TrainResult.metrics` writes, plus the shipped models' ``name``,
``description`` and ``data_seed``) and raises :class:`SchemaError` (a ``ValueError``) naming the
field (``history.loss[3]``) and what it must be. Unknown fields are kept as they are (the format
lets a trainer record more); their size is bounded by the header limit and their nesting by
:mod:`multires.checkpoint.safejson`. Booleans never pass where a number is expected. Pure Python.

Examples
--------
>>> validate_metrics({"task": "digits", "test_metric": 0.9, "history": {"step": [1], "loss": [2.3], "metric": [0.1]}})
>>> validate_metrics({"test_metric": "high"})
Traceback (most recent call last):
...
multires.checkpoint.schema.SchemaError: metrics field test_metric must be a finite number or null, got 'high'
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..options import MAX_CANDIDATE_SLOTS, MAX_CURVE_POINTS, MAX_JSON_LIST, MAX_JSON_TEXT

__all__ = ["METRICS_FIELDS", "SchemaError", "Check", "validate_metrics"]

#: ``check(value, path)`` raises SchemaError when ``value`` (found at ``path``) does not fit.
Check = Callable[[Any, str], None]
MAX_INT = 2**63 - 1


class SchemaError(ValueError):
    """A metrics field has the wrong type or range; the message names the field."""


def _fail(path: str, wanted: str, value: Any) -> None:
    shown = repr(value)
    where = f"metrics field {path}" if path else "metrics"
    raise SchemaError(f"{where} must be {wanted}, got {shown[:80]}{'…' if len(shown) > 80 else ''}")


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(low: int = 0, high: int = MAX_INT, nullable: bool = True) -> Check:
    def check(value: Any, path: str) -> None:
        if not ((nullable and value is None) or (_is_int(value) and low <= value <= high)):
            _fail(path, f"an integer in {low}..{high}" + (" or null" if nullable else ""), value)
    return check


def number(low: float = -math.inf, high: float = math.inf, nullable: bool = True) -> Check:
    bounds = "" if (low, high) == (-math.inf, math.inf) else f" in [{low}, {high}]"

    def check(value: Any, path: str) -> None:
        if not ((nullable and value is None) or (_is_number(value) and low <= value <= high)):
            _fail(path, f"a finite number{bounds}" + (" or null" if nullable else ""), value)
    return check


def text(nullable: bool = False) -> Check:
    def check(value: Any, path: str) -> None:
        if not ((nullable and value is None) or (isinstance(value, str) and len(value) <= MAX_JSON_TEXT)):
            _fail(path, f"text of at most {MAX_JSON_TEXT} characters" + (" or null" if nullable else ""), value)
    return check


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        _fail(path, "true or false", value)


def one_of(*allowed: Any, nullable: bool = False) -> Check:
    def check(value: Any, path: str) -> None:
        if not ((nullable and value is None) or (isinstance(value, str) and value in allowed)):
            _fail(path, f"one of {list(allowed)}" + (" or null" if nullable else ""), value)
    return check


def list_of(item: Check, max_len: int = MAX_JSON_LIST) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list) or len(value) > max_len:
            _fail(path, f"a list of at most {max_len} items", value)
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]")
    return check


def obj(fields: Mapping[str, Check], required: tuple[str, ...] = (), values: Check | None = None) -> Check:
    """An object whose known ``fields`` fit; ``required`` must be present; ``values`` checks the others."""
    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "a JSON object", value)
        missing = [name for name in required if name not in value]
        if missing:
            raise SchemaError(f"metrics field {path} lacks {missing}")
        for name, element in value.items():
            if name in fields:
                fields[name](element, _child(path, name))
            elif values is not None:
                values(element, _child(path, name))
    return check


def _same_length(*names: str) -> Check:
    def check(value: dict, path: str) -> None:
        lengths = {name: len(value[name]) for name in names if name in value}
        if len(set(lengths.values())) > 1:
            raise SchemaError(f"metrics field {path}: curves {list(lengths)} must have equal lengths, got {lengths}")
    return check


def _both(*checks: Check) -> Check:
    def check(value: Any, path: str) -> None:
        for c in checks:
            c(value, path)
    return check


def _mask(value: Any, path: str) -> None:
    obj({"shape": list_of(integer(1, MAX_CANDIDATE_SLOTS, nullable=False), max_len=2), "bits": text()},
        required=("shape", "bits"))(value, path)
    if len(value["shape"]) != 2:
        _fail(f"{path}.shape", "[channels, candidates]", value["shape"])
    try:
        size = len(base64.b64decode(value["bits"], validate=True))
    except (binascii.Error, ValueError):
        _fail(f"{path}.bits", "base64 text", value["bits"])
    if size != math.ceil(math.prod(value["shape"]) / 8):
        _fail(f"{path}.bits", f"{math.ceil(math.prod(value['shape']) / 8)} bytes of packed bits for shape "
                              f"{value['shape']}", f"{size} bytes")


_CURVE = list_of(number(), MAX_CURVE_POINTS)
_STEPS = list_of(integer(nullable=False), MAX_CURVE_POINTS)


def _curves_of_steps(value: dict, path: str) -> None:
    """Per-step curves are drawn against ``step``: when it is given, ``loss`` and ``metric`` must be too."""
    if value.get("step"):
        obj({}, required=("step", "loss", "metric"))(value, path)


_HISTORY = _both(
    obj({"step": _STEPS, "loss": _CURVE, "metric": _CURVE, "lr": _CURVE, "epoch_train": _CURVE, "epoch_val": _CURVE,
         "epoch_time": _CURVE, "epoch_val_loss": _CURVE, "epoch_step": _STEPS}),
    _curves_of_steps,
    _same_length("step", "loss", "metric", "lr"),
)
_SPLIT = obj({"metric": number(), "metric_name": one_of("accuracy", "r2", "r2_mean"), "loss": number(),
              "n": integer(), "split": text(), "accuracy": number(), "r2_mean": number(),
              "r2": list_of(number()), "lags": list_of(integer(nullable=False))})
_SNAPSHOT = obj({"step": integer(nullable=False), "progress": number(0.0, 1.0, nullable=False),
                 "masks": list_of(_mask, max_len=16)}, required=("step", "progress", "masks"))

#: Every metrics field the app or the library reads, and what it must be. Others are kept unchecked.
METRICS_FIELDS: dict[str, Check] = {
    "task": text(),
    "kind": one_of("classify", "recall"),
    "metric_name": one_of("accuracy", "r2", "r2_mean"),
    **dict.fromkeys(["test_metric", "val_metric", "test_accuracy", "test_r2_mean", "train_metric_eval_mode",
                     "train_metric_batch_stats", "train_accuracy_eval_mode"], number()),
    **dict.fromkeys(["train_time_s", "wall_time_s"], number(0.0, nullable=False)),
    **dict.fromkeys(["epochs", "total_epochs", "epochs_done", "steps", "total_steps", "best_epoch", "best_step",
                     "world_size", "n_parameters", "memory_slots_per_step"], integer()),
    **dict.fromkeys(["seed", "data_seed"], integer(-MAX_INT - 1)),
    "stopped": boolean,
    "freeze_filters": boolean,
    "stop_reason": text(nullable=True),
    "warnings": list_of(text()),
    "lags": list_of(integer(nullable=False)),
    "test_r2_per_lag": list_of(number()),
    "test": _SPLIT,
    "val": _SPLIT,
    "train": _SPLIT,
    "train_config": obj({"freeze_filters": boolean, "seed": integer(-MAX_INT - 1)}),
    "history": _HISTORY,
    "selection_history": list_of(_SNAPSHOT, max_len=MAX_CURVE_POINTS),
    "versions": obj({}, values=text()),
    "name": text(),
    "description": text(),
}


def validate_metrics(metrics: Any) -> None:
    """Raise :class:`SchemaError` naming the first field of ``metrics`` that does not fit :data:`METRICS_FIELDS`."""
    obj(METRICS_FIELDS)(metrics, "")

