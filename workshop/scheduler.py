"""One queue for the server's computing, so twenty laptops share it fairly.

Every browser session runs its own model in its own thread, but one server process
computes (steps models and draws frames) on one core at a time: Python's global
interpreter lock lets one thread run Python code at once. Left alone, twenty sessions
playing at five frames a second ask for a hundred frames a second, the operating system
shares the core in 5 ms slices among all of them, and every frame, including a press
of Step, waits behind all the others (the first version of the page measured a p95 of
1.6 s from Step to redraw with twenty sessions).

The :class:`Scheduler` turns that scramble into a queue with priorities: a thread asks
for a slot before it computes a frame and gives it back after. Waiting requests are
served by priority, then in order of arrival:

* ``STEP`` -- someone pressed a button (Step, Reset, a setting): served first;
* ``PROJECTOR`` -- Play on a page in projector mode (the room's shared screen);
* ``PLAY`` -- a frame of Play on anyone's page;
* ``BACKGROUND`` -- long jobs in small pieces ("run to year 10").

A session asks for its next Play frame only after its last one is drawn, so players
take turns, and Play's pace (weeks a second) is kept by putting more weeks into each
frame when frames come less often (see :mod:`workshop.runs`). A frame of many weeks
hands its slot to a waiting press of a button between weeks (:meth:`Scheduler.yield_to`),
so a press of Step waits for one week of someone's Play, not for all of their frame.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from contextlib import contextmanager

STEP, PROJECTOR, PLAY, BACKGROUND = 0, 1, 2, 3

#: Frames computed at once in one process (the default 1 matches the one core that
#: Python code can use; more only adds switching between threads).
DEFAULT_SLOTS = int(os.environ.get("CIVIC_SIM_FRAME_SLOTS", "1"))


class Scheduler:
    """Hand out computing slots by priority, then order of arrival.

    Args:
        slots: How many holders may compute at once.
    """

    def __init__(self, slots: int = DEFAULT_SLOTS):
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self._busy = 0
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        #: Seconds spent waiting for a slot, per priority (the last 200 waits each).
        self.waits: dict[int, list[float]] = {STEP: [], PROJECTOR: [], PLAY: [], BACKGROUND: []}

    def acquire(self, priority: int) -> None:
        """Wait for a slot (blocking)."""
        start = time.perf_counter()
        with self._lock:
            if self._busy < self.slots and not self._waiting:
                self._busy += 1
                self._record(priority, 0.0)
                return
            ticket = threading.Event()
            heapq.heappush(self._waiting, (priority, next(self._order), ticket))
        ticket.wait()
        self._record(priority, time.perf_counter() - start)

    def release(self) -> None:
        """Give a slot back; the first waiting request (by priority, then age) gets it."""
        with self._lock:
            if self._waiting:
                _priority, _order, ticket = heapq.heappop(self._waiting)
                ticket.set()  # the slot passes straight to it: busy stays the same
            else:
                self._busy -= 1

    def yield_to(self, priority: int) -> bool:
        """Hand a held slot to a waiting request of higher priority (a smaller number),
        and wait to get it back; return whether it was handed over.

        Called by a long holder between pieces of its work (a week of a Play frame).
        """
        with self._lock:
            if not self._waiting or self._waiting[0][0] >= priority:
                return False
        self.release()
        self.acquire(priority)
        return True

    @contextmanager
    def slot(self, priority: int):
        """Hold a slot for the ``with`` block."""
        self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    @property
    def queued(self) -> int:
        """Requests waiting for a slot now."""
        with self._lock:
            return len(self._waiting)

    def _record(self, priority: int, seconds: float) -> None:
        waits = self.waits.setdefault(priority, [])
        waits.append(seconds)
        if len(waits) > 200:
            del waits[:100]


#: The scheduler shared by every session of this server process.
shared = Scheduler()
