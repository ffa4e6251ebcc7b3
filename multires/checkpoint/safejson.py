"""JSON from untrusted text, with its nesting bounded before Python's parser sees it.

``json.loads`` recurses once per nesting level, so 100000 ``[`` raise ``RecursionError``; a
5000-digit integer raises ``ValueError`` (Python's int-string limit); ``NaN`` and ``Infinity`` are
accepted by default although JSON has neither. :func:`loads_bounded` turns every one of these
into :class:`JsonLimitError` (a ``ValueError``) with a message fit to show a user.

The depth is measured by a vectorised scan (NumPy) over the text with its strings blanked out, so
checking an 8 MiB header costs milliseconds and no recursion.

Examples
--------
>>> loads_bounded('{"a": [1, 2.5, null]}')
{'a': [1, 2.5, None]}
>>> loads_bounded("[" * 100 + "]" * 100)
Traceback (most recent call last):
...
multires.checkpoint.safejson.JsonLimitError: JSON nests 100 levels deep, more than the 32 allowed
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from ..limits import MAX_JSON_DEPTH

__all__ = ["JsonLimitError", "json_depth", "loads_bounded"]

#: A JSON string literal (escapes included); blanked out before the brackets are counted.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Longest integer literal accepted (digits): far above any int64, far below Python's 4300 limit.
MAX_INT_DIGITS = 40


class JsonLimitError(ValueError):
    """Text is not JSON, or is JSON beyond the bounds (nesting, number size, NaN/Infinity)."""


#: A run of more digits than any number this app writes holds (checked outside strings).
_LONG_DIGITS = re.compile(r"\d{%d}" % (MAX_INT_DIGITS + 1))


def json_depth(text: str) -> int:
    """Deepest nesting of arrays and objects in ``text`` (0 for a scalar), brackets in strings ignored.

    Malformed text gets some number (the parser refuses it afterwards); this only bounds the work.

    >>> json_depth('{"a": [[1], "]]]"]}'), json_depth("3")
    (3, 0)
    """
    return _depth(_STRING.sub('""', text))


def _depth(blanked: str) -> int:
    codes = np.frombuffer(blanked.encode("utf-8", "replace"), dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int64)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    return int(np.cumsum(steps).max(initial=0))


def _no_constant(name: str) -> Any:
    raise JsonLimitError(f"JSON holds {name}, which JSON does not allow (use null)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonLimitError(f"JSON holds the number {text[:40]}, too large for a float")
    return value


def loads_bounded(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, what: str = "JSON") -> Any:
    """``json.loads(text)`` for untrusted text: nesting, integer size and constants bounded.

    Parameters
    ----------
    text : str or bytes
        bytes are decoded as UTF-8.
    max_depth : int
        Deepest nesting of arrays/objects allowed.
    what : str
        Names the text in messages (e.g. ``"checkpoint metrics"``).

    Raises
    ------
    JsonLimitError
        Not UTF-8, not JSON, nested deeper than ``max_depth``, an integer of more than
        ``MAX_INT_DIGITS`` digits, ``NaN``/``Infinity`` or a float beyond the float range.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonLimitError(f"{what} is not JSON (not UTF-8 text)") from None
    if not isinstance(text, str):
        raise JsonLimitError(f"{what} must be text, got {type(text).__name__}")
    blanked = _STRING.sub('""', text)
    depth = _depth(blanked)
    if depth > max_depth:
        raise JsonLimitError(f"{what} nests {depth} levels deep, more than the {max_depth} allowed")
    if _LONG_DIGITS.search(blanked):
        raise JsonLimitError(f"{what} holds a number of more than {MAX_INT_DIGITS} digits")
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except JsonLimitError as err:
        raise JsonLimitError(f"{what}: {err}") from None
    except json.JSONDecodeError as err:
        raise JsonLimitError(f"{what} is not valid JSON: {err}") from None
    except (RecursionError, ValueError) as err:  # a parser limit the scan did not foresee
        raise JsonLimitError(f"{what} cannot be parsed: {err}") from None
