"""One JSON round trip for every config dataclass (``ModelConfig``, ``TrainConfig``)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any, ClassVar, TypeVar

from .safejson import loads_bounded

__all__ = ["JsonConfig"]

T = TypeVar("T", bound="JsonConfig")


class JsonConfig:
    """Mixin for dataclasses: strict ``from_dict`` (unknown fields refused) and JSON helpers.

    Subclasses set ``_what`` (e.g. ``"model config"``) for error messages; validation of the
    values themselves happens in the dataclass's ``__post_init__``.
    """

    _what: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls: type[T], data: dict) -> T:
        if not isinstance(data, dict):
            raise ValueError(f"a {cls._what} must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown {cls._what} fields {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_json(cls: type[T], text: str) -> T:
        """Parse untrusted text: nesting and number sizes bounded (``JsonLimitError``, a ``ValueError``)."""
        return cls.from_dict(loads_bounded(text, what=cls._what))
