"""What a checkpoint's ``metrics`` (and a run's ``metrics.json``) hold: one typed model that writes,
validates and documents them.

:class:`RunMetrics` is the record :meth:`multires.training.history.TrainResult.metrics` writes and
:func:`validate_metrics` checks when a checkpoint is read. A checkpoint's metadata is untrusted all
the way down (a ``history`` given as a list, a ``test_metric`` given as text or a ``train_config``
given as a number must not break a page later), so every field the app or the library reads is
typed and bounded here; a misfit raises :class:`SchemaError` (a ``ValueError``) naming the field
(``history.loss[3]``) and what it must be. Booleans never pass where a number is expected. Unknown
fields are kept as they are (a trainer may record more); their size is bounded by the header limit
and their nesting by :mod:`multires.checkpoint.safejson`. A field may be left out; given as
``null``, it must be one that allows it. ``RunMetrics.model_json_schema()`` is the schema in JSON.

The model is pydantic (v2). msgspec was measured too, on a shipped checkpoint's 23 KB of metrics on
this project's loaded 2-core machine: it imports and defines the model in 0.29 s against 1.7 s and
validates in 0.2 ms against 2.4 ms, but it reports errors as text only, drops unknown fields and
cannot tell a missing field from a ``null`` one. pydantic's errors are structured (field path, kind,
bounds), which is what the app's messages are made from, and ``extra="allow"`` and
``model_fields_set`` give the two other behaviours directly. Both costs are paid once per
checkpoint read (import: once per process), far below drawing a page.

Examples
--------
>>> validate_metrics({"task": "digits", "test_metric": 0.9, "history": {"step": [1], "loss": [2.3], "metric": [0.1]}})
>>> validate_metrics({"test_metric": "high"})
Traceback (most recent call last):
...
multires.checkpoint.metrics.SchemaError: metrics field test_metric must be a finite number, got 'high'
"""

from __future__ import annotations

import base64
import binascii
import math
import platform
from importlib import metadata
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from .. import __version__
from ..options import (
    MAX_CANDIDATE_SLOTS,
    MAX_CURVE_POINTS,
    MAX_JSON_LIST,
    MAX_JSON_TEXT,
    StopReason,
    TaskKind,
)

__all__ = ["Curves", "RunMetrics", "SchemaError", "SelectionRecord", "SplitScores", "validate_metrics", "versions"]

_MAX_INT = 2**63 - 1
Text = Annotated[StrictStr, Field(max_length=MAX_JSON_TEXT)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # an int passes, a bool does not
Count = Annotated[StrictInt, Field(ge=0, le=_MAX_INT)]
Seed = Annotated[StrictInt, Field(ge=-_MAX_INT - 1, le=_MAX_INT)]
Curve = Annotated[list[Number | None], Field(max_length=MAX_CURVE_POINTS)]
Steps = Annotated[list[Count], Field(max_length=MAX_CURVE_POINTS)]
Scores = Annotated[list[Number | None], Field(max_length=MAX_JSON_LIST)]
Lags = Annotated[list[Count], Field(max_length=MAX_JSON_LIST)]
MetricName = Literal["accuracy", "r2", "r2_mean"]


class SchemaError(ValueError):
    """A metrics field has the wrong type or range; the message names the field."""


class _Record(BaseModel):
    """Fields may be left out (their default ``None`` is not a value); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        """The JSON-ready dict of the fields that were given (as they were given)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Curves(_Record):
    """A run's curves (``history``): per optimizer step (thinned), and per epoch."""

    step: Steps = Field(None, description="optimizer steps of the per-step points")
    loss: Curve = Field(None, description="training loss at each step")
    metric: Curve = Field(None, description="running batch-statistics training metric at each step")
    lr: Curve = Field(None, description="learning rate at each step")
    epoch_train: Curve = Field(None, description="batch-statistics training metric of each epoch")
    epoch_val: Curve = Field(None, description="eval-mode validation metric at each epoch's end")
    epoch_time: Curve = Field(None, description="elapsed seconds at each epoch's end")
    epoch_val_loss: Curve = Field(None, description="eval-mode validation loss at each epoch's end")
    epoch_step: Steps = Field(None, description="optimizer steps done at each epoch's end")

    @model_validator(mode="after")
    def _aligned(self) -> Curves:
        """Per-step curves are drawn against ``step``: given steps need their loss and metric, equally long."""
        given = self.model_fields_set
        if self.step:
            missing = [name for name in ("loss", "metric") if name not in given]
            if missing:
                raise PydanticCustomError("lacks", "lacks {missing}", {"missing": str(missing)})
        lengths = {name: len(getattr(self, name)) for name in ("step", "loss", "metric", "lr") if name in given}
        if len(set(lengths.values())) > 1:
            raise PydanticCustomError("ragged", "curves {names} must have equal lengths, got {lengths}",
                                      {"names": str(list(lengths)), "lengths": str(lengths)})
        return self


class SplitScores(_Record):
    """What :func:`multires.training.evaluation.evaluate` reports for one split."""

    metric: Number | None = Field(None, description="accuracy, or the mean R^2 over lags")
    metric_name: MetricName = Field(None, description="which metric 'metric' is")
    loss: Number | None = None
    n: Count | None = Field(None, description="series scored")
    split: Text = None
    accuracy: Number | None = None
    r2_mean: Number | None = None
    r2: Scores = Field(None, description="R^2 per lag (recall tasks)")
    lags: Lags = Field(None, description="the lags of 'r2'")


class _Mask(_Record):
    """One learned layer's kept slots: ``np.packbits`` of a bool (channels, candidates) array, base64."""

    shape: Annotated[list[Annotated[StrictInt, Field(ge=1, le=MAX_CANDIDATE_SLOTS)]], Field(min_length=2, max_length=2)]
    bits: Text

    @model_validator(mode="after")
    def _fits_shape(self) -> _Mask:
        try:
            size = len(base64.b64decode(self.bits, validate=True))
        except (binascii.Error, ValueError):
            raise PydanticCustomError("bits", "must be base64 text") from None
        wanted = math.ceil(math.prod(self.shape) / 8)
        if size != wanted:
            raise PydanticCustomError("bits", "must hold {wanted} bytes of packed bits for shape {shape}, got {size}",
                                      {"wanted": wanted, "shape": str(self.shape), "size": size})
        return self


class SelectionRecord(_Record):
    """Which candidate slots the learned TREESELECT rule kept at one point of training."""

    step: Count
    progress: Annotated[Number, Field(ge=0.0, le=1.0)]
    masks: Annotated[list[_Mask], Field(max_length=16)]


class _TrainConfigFields(_Record):
    """The fields of a stored ``TrainConfig`` that pages read (the rest is kept as given)."""

    freeze_filters: StrictBool = None
    seed: Seed = None


class RunMetrics(_Record):
    """A trained model's record: scores, budget, curves, and the shipped models' descriptions."""

    task: Text = Field(None, description="the task name, as given to load_task")
    kind: TaskKind = None
    metric_name: MetricName = None
    test_metric: Number | None = Field(None, description="eval-mode test accuracy, or mean R^2")
    val_metric: Number | None = None
    train_metric_eval_mode: Number | None = Field(None, description="eval-mode score on the training split")
    train_metric_batch_stats: Number | None = Field(None, description="batch-statistics training score")
    test_accuracy: Number | None = Field(None, description="test_metric, for classification")
    train_accuracy_eval_mode: Number | None = Field(None, description="train_metric_eval_mode, for classification")
    test_r2_mean: Number | None = Field(None, description="test_metric, for recall")
    test_r2_per_lag: Scores = Field(None, description="test R^2 per lag, for recall")
    lags: Lags = Field(None, description="the lags of test_r2_per_lag")
    test: SplitScores = None
    val: SplitScores | None = Field(None, description="None when a refit used every training series")
    train: SplitScores = None
    train_time_s: Annotated[Number, Field(ge=0.0)] = Field(None, description="seconds in the training loop")
    wall_time_s: Annotated[Number, Field(ge=0.0)] = Field(None, description="seconds from start to test score")
    epochs: Count | None = None
    total_epochs: Count | None = None
    epochs_done: Count | None = None
    steps: Count | None = None
    total_steps: Count | None = None
    best_epoch: Count | None = Field(None, description="1-based epoch whose weights the model holds")
    best_step: Count | None = None
    world_size: Count | None = None
    n_parameters: Count | None = None
    memory_slots_per_step: Count | None = None
    seed: Seed | None = None
    data_seed: Seed | None = None
    stopped: StrictBool = None
    freeze_filters: StrictBool = None
    stop_reason: StopReason | None = None
    warnings: Annotated[list[Text], Field(max_length=MAX_JSON_LIST)] = None
    train_config: _TrainConfigFields = None
    history: Curves = None
    selection_history: Annotated[list[SelectionRecord], Field(max_length=MAX_CURVE_POINTS)] = None
    versions: dict[StrictStr, Text] = Field(None, description="torch, multires, numpy and python versions")
    name: Text = Field(None, description="a shipped model's name")
    description: Text = Field(None, description="a shipped model's description")


def versions() -> dict[str, str]:
    """Versions that produced a model: torch, multires, numpy, python (torch's without importing it)."""
    return {"torch": metadata.version("torch"), "multires": __version__, "numpy": np.__version__,
            "python": platform.python_version()}


def validate_metrics(metrics: Any) -> None:
    """Raise :class:`SchemaError` naming the first field of ``metrics`` that does not fit :class:`RunMetrics`."""
    try:
        RunMetrics.model_validate(metrics)
    except ValidationError as err:
        raise SchemaError(_message(err.errors(include_url=False))) from None


# What a value of each pydantic error type must be, in the words the app shows.
_WANTED = {
    **dict.fromkeys(["model_type", "model_attributes_type", "dict_type"], "a JSON object"),
    **dict.fromkeys(["float_type", "float_parsing", "finite_number"], "a finite number"),
    **dict.fromkeys(["int_type", "int_parsing", "int_from_float"], "an integer"),
    **dict.fromkeys(["string_type", "string_too_long"], f"text of at most {MAX_JSON_TEXT} characters"),
    "bool_type": "true or false",
    "list_type": "a list",
}


def _path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _message(errors: list[ErrorDetails]) -> str:
    first = errors[0]
    if first["type"] == "missing":  # every field missing from the same object, in one message
        parent = first["loc"][:-1]
        missing = [e["loc"][-1] for e in errors if e["type"] == "missing" and e["loc"][:-1] == parent]
        return f"metrics field {_path(parent)} lacks {missing}" if parent else f"metrics lack {missing}"
    where = f"metrics field {_path(first['loc'])}" if first["loc"] else "metrics"
    kind, ctx = first["type"], first.get("ctx", {})
    if kind in ("lacks", "ragged", "bits"):
        return f"{where} {first['msg']}"
    if kind == "literal_error":
        wanted = f"one of {ctx['expected']}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        noun = "an integer" if isinstance(first["input"], int) else "a number"
        wanted = f"{noun} {first['msg'].removeprefix('Input should be ')}"
    elif kind == "too_long":
        wanted = f"a list of at most {ctx['max_length']} items"
    elif kind == "too_short":
        wanted = f"a list of at least {ctx['min_length']} items"
    else:
        wanted = _WANTED.get(kind, first["msg"].removeprefix("Input should be "))
    shown = repr(first["input"])
    return f"{where} must be {wanted}, got {shown[:80]}{'…' if len(shown) > 80 else ''}"
