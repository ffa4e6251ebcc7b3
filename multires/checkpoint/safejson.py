"""JSON from untrusted text, parsed in time linear in its length, with nesting and numbers bounded.

``json.loads`` recurses once per nesting level, so 100000 ``[`` raise ``RecursionError``; a
5000-digit integer raises ``ValueError`` (Python's int-string limit); ``NaN`` and ``Infinity`` are
accepted by default although JSON has neither. :func:`loads_bounded` turns every one of these
into :class:`JsonLimitError` (a ``ValueError``) with a message fit to show a user.

Every step is linear in the text: the depth is measured by a vectorised scan (NumPy) that finds the
strings from the unescaped quotes (escaped backslashes and quotes are first blanked by two
``bytes.replace`` passes), so no regular expression ever backtracks over the text; the parsing itself is the standard
library's C parser, with hooks that refuse long numbers and the non-JSON constants as they are met.
An 8 MiB header is checked and parsed in well under a second, whatever its bytes.

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
from typing import Any

import numpy as np

from ..options import MAX_JSON_DEPTH

__all__ = ["JsonLimitError", "MAX_INT_DIGITS", "json_depth", "loads_bounded"]

#: Longest number literal accepted (digits): far above any int64 or float repr, far below Python's
#: 4300-digit int limit.
MAX_INT_DIGITS = 40

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))


class JsonLimitError(ValueError):
    """Text is not JSON, or is JSON beyond the bounds (nesting, number size, NaN/Infinity)."""


def json_depth(text: str | bytes) -> int:
    """Deepest nesting of arrays and objects in ``text`` (0 for a scalar), brackets in strings ignored.

    Linear in the length (a few vectorised passes, no regular expression, no recursion). Malformed
    text gets some number (the parser refuses it afterwards); this only bounds the work.

    >>> json_depth('{"a": [[1], "]]]"]}'), json_depth("3"), json_depth(r'["\\"[[", []]')
    (3, 0, 2)
    """
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    # Escapes pair up from the left of a run of backslashes, as bytes.replace scans: an even run
    # becomes neutral bytes, an odd run leaves one backslash that then escapes the byte after it.
    plain = bytes(text).replace(b"\\\\", b"__").replace(b'\\"', b"__")
    codes = np.frombuffer(plain, dtype=np.uint8)
    if codes.size == 0:
        return 0
    quotes = (codes == _QUOTE).view(np.uint8)  # every quote left opens or closes a string
    # Bytes after an odd number of quotes are inside a string (the closing quote itself is not).
    inside = (np.bitwise_xor.accumulate(quotes) ^ quotes).view(bool)
    steps = np.zeros(codes.size, dtype=np.int8)
    steps[((codes == _OPEN[0]) | (codes == _OPEN[1])) & ~inside] = 1
    steps[((codes == _CLOSE[0]) | (codes == _CLOSE[1])) & ~inside] = -1
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def _no_constant(name: str) -> Any:
    raise JsonLimitError(f"JSON holds {name}, which JSON does not allow (use null)")


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text) if len(text) > MAX_INT_DIGITS else len(text)


def _bounded_int(text: str) -> int:
    if _digits(text) > MAX_INT_DIGITS:
        raise JsonLimitError(f"JSON holds a number of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    if _digits(text) > MAX_INT_DIGITS:
        raise JsonLimitError(f"JSON holds a number of more than {MAX_INT_DIGITS} digits")
    value = float(text)
    if not math.isfinite(value):
        raise JsonLimitError(f"JSON holds the number {text[:40]}, too large for a float")
    return value


def loads_bounded(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, what: str = "JSON") -> Any:
    """``json.loads(text)`` for untrusted text: linear time, nesting, number size and constants bounded.

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
        Not UTF-8, not JSON, nested deeper than ``max_depth``, a number of more than
        ``MAX_INT_DIGITS`` digits, ``NaN``/``Infinity`` or a float beyond the float range.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonLimitError(f"{what} is not JSON (not UTF-8 text)") from None
    elif isinstance(text, str):
        raw = text.encode("utf-8", "surrogatepass")
    else:
        raise JsonLimitError(f"{what} must be text, got {type(text).__name__}")
    depth = json_depth(raw)
    if depth > max_depth:
        raise JsonLimitError(f"{what} nests {depth} levels deep, more than the {max_depth} allowed")
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float,
                           parse_constant=_no_constant)
    except JsonLimitError as err:
        raise JsonLimitError(f"{what}: {err}") from None
    except json.JSONDecodeError as err:
        raise JsonLimitError(f"{what} is not valid JSON: {err}") from None
    except RecursionError:  # the scan should have caught it; never let it escape
        raise JsonLimitError(f"{what} nests more than the {max_depth} levels allowed") from None
    except (ValueError, TypeError, OverflowError) as err:  # a parser limit the hooks did not foresee
        raise JsonLimitError(f"{what} cannot be parsed: {err}") from None
    if _value_depth(value) > max_depth:  # belt and braces: the parsed value itself, iteratively
        raise JsonLimitError(f"{what} nests more than the {max_depth} levels allowed")
    return value


def _value_depth(value: Any) -> int:
    """Deepest nesting of lists/dicts in a parsed value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
