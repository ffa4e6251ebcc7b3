"""Tables built from uploads, kept between reruns and sessions, bounded by their bytes (not a count).

``st.cache_data(max_entries=4)`` kept up to four uploaded study tables whatever their size: four
legal but large tables could hold gigabytes. :class:`BytesCache` keeps what was built from an
upload's digest, least recently used dropped first, until the entries together stay under a byte
budget; a value larger than the whole budget is returned but not kept. One cache per server
(``st.cache_resource``), shared by the sessions, under a lock. Values are shared: callers only read them.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

__all__ = ["MAX_UPLOAD_CACHE_BYTES", "BytesCache", "nbytes", "upload_cache"]

#: What the kept upload tables of all sessions may hold together.
MAX_UPLOAD_CACHE_BYTES = 256 * 2**20


def nbytes(value: Any) -> int:
    """Memory a kept value holds: a DataFrame's deep usage (its text included), else ``sys.getsizeof``."""
    usage = getattr(value, "memory_usage", None)
    if callable(usage):
        try:
            return int(usage(deep=True).sum())
        except TypeError:
            pass
    return sys.getsizeof(value)


class BytesCache:
    """Least-recently-used cache bounded by the total :func:`nbytes` of its values."""

    def __init__(self, max_bytes: int, size: Callable[[Any], int] = nbytes) -> None:
        self.max_bytes = max_bytes
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value kept for ``key``, else ``build()`` (kept if it fits the budget). ``build``'s
        exceptions propagate and nothing is kept."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        value = build()  # outside the lock: other sessions' cached tables stay available meanwhile
        size = self._size(value)
        with self._lock:
            if size > self.max_bytes or key in self._entries:
                return value
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return value


@st.cache_resource(show_spinner=False)
def upload_cache() -> BytesCache:
    """The server's one cache of tables built from uploads."""
    return BytesCache(MAX_UPLOAD_CACHE_BYTES)
