"""A first-come, first-served line for the server's training slots, shared by every session.

At most ``capacity`` runs train at once (``ui.training_run.MAX_CONCURRENT_RUNS``). A run that
cannot start at once takes a ticket and waits in line; it starts by itself when a slot frees and
every run ahead of it has started (FIFO: one run per session, so fair across sessions). While it
waits, :meth:`RunQueue.place` says where it stands, and the waiting session may leave the line
(cancel) at any time. No Streamlit here: the worker threads call it, and tests drive it directly.

Examples
--------
>>> line = RunQueue(capacity=1)
>>> first, second = line.join(), line.join()
>>> line.try_start(first), line.try_start(second), line.place(second)
(True, False, Place(position=1, ahead=1))
>>> line.leave(first); line.try_start(second)
True
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["Place", "RunQueue", "waiting_message"]


@dataclass(frozen=True)
class Place:
    """Where a waiting run stands: ``position`` 1 starts next; ``ahead`` counts every run before it
    (those training now and those waiting in front)."""

    position: int
    ahead: int


def waiting_message(place: Place) -> str:
    """The words a waiting run shows, e.g. ``"Waiting: place 1 in line (2 runs ahead)"``.

    >>> waiting_message(Place(1, 1))
    'Waiting: place 1 in line (1 run ahead)'
    """
    runs = "run" if place.ahead == 1 else "runs"
    return f"Waiting: place {place.position} in line ({place.ahead} {runs} ahead)"


class RunQueue:
    """``capacity`` training slots and the FIFO line of tickets waiting for them (thread-safe)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._changed = threading.Condition()
        self._waiting: deque[int] = deque()
        self._running: set[int] = set()
        self._tickets = itertools.count(1)

    def join(self) -> int:
        """A new ticket at the end of the line."""
        with self._changed:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            self._changed.notify_all()
            return ticket

    def try_start(self, ticket: int) -> bool:
        """Start ``ticket`` if it is first in line and a slot is free (True also if it already runs)."""
        with self._changed:
            return self._start(ticket)

    def _start(self, ticket: int) -> bool:
        if ticket in self._running:
            return True
        if self._waiting and self._waiting[0] == ticket and len(self._running) < self.capacity:
            self._waiting.popleft()
            self._running.add(ticket)
            self._changed.notify_all()  # the next in line moves up
            return True
        return False

    def wait_turn(self, ticket: int, cancelled: threading.Event, poll_s: float = 0.5) -> bool:
        """Block until ``ticket`` starts (True) or ``cancelled`` is set (False; the ticket leaves the line).

        ``cancelled`` is looked at every ``poll_s`` seconds and whenever the line changes.
        """
        with self._changed:
            while not cancelled.is_set():
                if self._start(ticket):
                    return True
                self._changed.wait(poll_s)
            self._leave(ticket)
            return False

    def leave(self, ticket: int) -> None:
        """Give up a slot (a run ended) or a place in line (a cancelled wait); unknown tickets are ignored."""
        with self._changed:
            self._leave(ticket)

    def _leave(self, ticket: int) -> None:
        self._running.discard(ticket)
        if ticket in self._waiting:
            self._waiting.remove(ticket)
        self._changed.notify_all()

    def place(self, ticket: int) -> Place | None:
        """Where ``ticket`` waits, or None once it runs (or has left)."""
        with self._changed:
            if ticket not in self._waiting:
                return None
            position = self._waiting.index(ticket) + 1
            return Place(position, len(self._running) + position - 1)

    @property
    def running(self) -> int:
        with self._changed:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)
