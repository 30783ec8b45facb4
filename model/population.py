"""Struct-of-arrays storage for a population of agents.

Each population (residents, volunteers, businesses, pairings) keeps its state as one
numpy array per attribute, indexed by *slot*. Slots of removed members are reused by
later arrivals (lowest first, so runs are deterministic); arrays grow by 1/32.
The Mesa agent objects are thin views of one slot (see ``agents/``): rules are written
as formulas over whole arrays, so a phase applies them to everyone at numpy speed.
"""

from __future__ import annotations

import heapq

import numpy as np


def _as_slice(slots: np.ndarray):
    """``slots`` as a slice if they are one ascending run (cheaper to assign), else as is."""
    if slots.size and int(slots[-1]) - int(slots[0]) == slots.size - 1:
        first = int(slots[0])
        if slots.size == 1 or (np.diff(slots) == 1).all():
            return slice(first, first + slots.size)
    return slots


class Population:
    """Named columns over slots, with an ``alive`` mask.

    Args:
        columns: Column name to (dtype, fill value for new slots).
        capacity: Initial number of slots.
    """

    def __init__(self, columns: dict[str, tuple[type, object]], capacity: int = 16):
        self._spec = dict(columns)
        capacity = max(int(capacity), 1)
        self.alive = np.zeros(capacity, dtype=bool)
        #: The Mesa agent of each slot (None for a free slot). A list, not a numpy object
        #: array: the garbage collector cannot see inside an object array, so agent ->
        #: model -> array -> agent would never be freed.
        self.agent: list = [None] * capacity
        for name, (dtype, fill) in self._spec.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self._live_cache: np.ndarray | None = None
        self._free = list(range(capacity))  # free slots, a heap (lowest on top)
        self._count = 0
        #: Counts every add and remove, so caches of derived arrays know when to refresh.
        self.version = 0

    @property
    def n_slots(self) -> int:
        """Number of slots (alive or free)."""
        return len(self.alive)

    @property
    def count(self) -> int:
        """Number of live members."""
        return self._count

    @property
    def live(self) -> np.ndarray:
        """Slots of live members, ascending (cached until the next add/remove)."""
        if self._live_cache is None:
            self._live_cache = np.flatnonzero(self.alive)
        return self._live_cache

    def _grow(self, needed: int) -> None:
        # grow by 1/32: whole-array phases cost in proportion to slots, so a population
        # that grows slowly (older residents, about 1% a year) should carry few spare
        # slots; copying the columns now and then costs far less than a week's phases
        new_cap = self.n_slots
        while new_cap < needed:
            new_cap = max(new_cap + 16, new_cap + new_cap // 32)
        extra = new_cap - self.n_slots
        # the new slots are above every slot in the heap, so appending keeps it a heap
        self._free.extend(range(self.n_slots, new_cap))
        self.alive = np.concatenate([self.alive, np.zeros(extra, dtype=bool)])
        self.agent.extend([None] * extra)
        for name, (dtype, fill) in self._spec.items():
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full(extra, fill, dtype=dtype)]))

    def add_column(self, name: str, dtype: type, fill: object) -> None:
        """Add a column (e.g. from a strategy or a student's extension); no-op if present."""
        if name in self._spec:
            return
        self._spec[name] = (dtype, fill)
        setattr(self, name, np.full(self.n_slots, fill, dtype=dtype))

    def add(self, n: int, **values) -> np.ndarray:
        """Claim ``n`` slots (lowest free first), fill columns, and return the slots.

        Args:
            n: How many members to add.
            **values: Column values (scalars or arrays of length ``n``).
        """
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        if not values.keys() <= self._spec.keys():
            raise KeyError(f"unknown columns {sorted(values.keys() - self._spec.keys())}")
        if len(self._free) < n:
            self._grow(self.count + n)
        claimed = self._claim(n)
        slots = np.array(claimed, dtype=np.int64)
        # distinct and ascending, so one run exactly when the ends are n - 1 apart
        contiguous = claimed[-1] - claimed[0] == n - 1
        where = slice(claimed[0], claimed[-1] + 1) if contiguous else slots
        columns = self.__dict__  # each column is an attribute
        for name, (_dtype, fill) in self._spec.items():
            columns[name][where] = values[name] if name in values else fill
        self.alive[where] = True
        self._count += n
        self._live_cache = None
        self.version += 1
        return slots

    def _claim(self, n: int) -> list[int]:
        """Take the ``n`` lowest free slots off the heap, ascending."""
        free = self._free
        if n == len(free) or n > 64:  # many at once (setting up): sort once
            free.sort()  # a sorted list is still a heap
            claimed = free[:n]
            del free[:n]
            return claimed
        return [heapq.heappop(free) for _ in range(n)]

    def remove(self, slots: np.ndarray) -> None:
        """Free slots (their Mesa agents, if any, must be removed by the caller first)."""
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        where = _as_slice(slots)
        alive = self.alive
        freed = [slot for slot in dict.fromkeys(slots.tolist()) if alive[slot]]
        self._count -= len(freed)
        alive[where] = False
        agent = self.agent
        for slot in freed:
            agent[slot] = None
        columns = self.__dict__  # each column is an attribute
        for name, (_dtype, fill) in self._spec.items():
            columns[name][where] = fill
        for slot in freed:
            heapq.heappush(self._free, slot)
        self._live_cache = None
        self.version += 1
