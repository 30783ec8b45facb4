"""The tie network: the "synaptic" web along which referrals and recruitment travel.

Ties are undirected edges between residents (neighbours plus a few long ties: a
spatially embedded small world, Watts & Strogatz 1998) and between volunteers and
residents (formed when a volunteer joins and when a match is made -- hubs add bridging
ties when they broker). Edges are kept as arrays of slots; edges of people who leave are
dropped at once, so a reused slot never inherits old ties.
"""

from __future__ import annotations

import numpy as np

from model import kernels


def _bump(counts: np.ndarray, index: np.ndarray, sign: int) -> np.ndarray:
    """counts[index] += sign (repeats counted), lengthening ``counts`` if needed."""
    index = np.ascontiguousarray(index, dtype=np.int64)
    needed = kernels.bump(counts, index, sign)
    if needed > counts.size:
        counts = _lengthened(counts, needed)
        kernels.bump(counts, index, sign)
    return counts


class _Edges:
    """Ties as two growable columns of slots, appended in place (room doubles when full)."""

    def __init__(self):
        self._a = np.zeros(64, dtype=np.int64)
        self._b = np.zeros(64, dtype=np.int64)
        self.n = 0

    @property
    def a(self) -> np.ndarray:
        """First end of each tie (a view)."""
        return self._a[: self.n]

    @property
    def b(self) -> np.ndarray:
        """Second end of each tie (a view)."""
        return self._b[: self.n]

    def append(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add ties (a[i], b[i])."""
        end = self.n + a.size
        if end > self._a.size:
            size = max(end, 2 * self._a.size)
            self._a = np.concatenate([self._a[: self.n], np.zeros(size - self.n, np.int64)])
            self._b = np.concatenate([self._b[: self.n], np.zeros(size - self.n, np.int64)])
        self._a[self.n : end] = a
        self._b[self.n : end] = b
        self.n = end


def _lengthened(counts: np.ndarray, size: int) -> np.ndarray:
    """``counts`` zero-padded to at least ``size`` (``counts`` itself if long enough)."""
    if counts.size >= size:
        return counts
    return np.concatenate([counts, np.zeros(size - counts.size, dtype=counts.dtype)])


class TieNetwork:
    """Resident-resident and volunteer-resident ties, with each resident's tie counts
    kept up to date as ties come and go (so no weekly recount over all edges)."""

    def __init__(self):
        self._rr = _Edges()  # resident-resident ties
        self._vr = _Edges()  # (volunteer, resident) ties
        self._degree = np.zeros(0, dtype=np.int64)  # ties of each resident slot
        self._known = np.zeros(0, dtype=np.int64)  # volunteers each resident slot knows
        self._vr_keys: set[int] = set()  # (volunteer << 32) | resident, for duplicate checks
        self._rr_keys: set[int] = set()  # (lower << 32) | higher resident, likewise
        #: Ties formed and ended since the network was made (running totals).
        self.formed = 0
        self.ended = 0

    @property
    def rr_a(self) -> np.ndarray:
        """One end of each resident-resident tie (resident slots)."""
        return self._rr.a

    @property
    def rr_b(self) -> np.ndarray:
        """The other end of each resident-resident tie."""
        return self._rr.b

    @property
    def vr_v(self) -> np.ndarray:
        """The volunteer of each volunteer-resident tie (volunteer slots)."""
        return self._vr.a

    @property
    def vr_r(self) -> np.ndarray:
        """The resident of each volunteer-resident tie (resident slots)."""
        return self._vr.b

    # --- building ---------------------------------------------------------------------
    def add_resident_ties(self, a, b, *, distinct: bool = False) -> None:
        """Add resident-resident ties (self-ties and duplicates are ignored).

        Args:
            a: One end of each tie (resident slots).
            b: The other end.
            distinct: The caller guarantees the new ties are new and distinct (e.g. ties
                of newly arrived residents), which skips the costly de-duplication.
        """
        a = np.atleast_1d(np.ascontiguousarray(a, dtype=np.int64))
        b = np.atleast_1d(np.ascontiguousarray(b, dtype=np.int64))
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        if lo.size == 0:
            return
        keys = ((lo << 32) | hi).tolist()
        if not distinct:
            fresh = []
            for i, key in enumerate(keys):
                if key not in self._rr_keys:
                    self._rr_keys.add(key)
                    fresh.append(i)
            lo, hi = lo[fresh], hi[fresh]
        else:
            self._rr_keys.update(keys)
        self._rr.append(lo, hi)
        self.formed += int(lo.size)
        self._degree = _bump(self._degree, np.concatenate([lo, hi]), 1)  # both ends

    def add_volunteer_ties(self, v, r, *, distinct: bool = False) -> None:
        """Add volunteer-resident ties (duplicates are ignored).

        Args:
            v: Volunteer slots.
            r: Resident slots.
            distinct: The caller guarantees the ties are new and distinct (e.g. a new
                volunteer's first ties), which skips the duplicate check.
        """
        v = np.atleast_1d(np.ascontiguousarray(v, dtype=np.int64))
        r = np.atleast_1d(np.ascontiguousarray(r, dtype=np.int64))
        if v.size == 0:
            return
        keys = ((v << 32) | r).tolist()
        if not distinct:
            fresh = []
            for i, key in enumerate(keys):
                if key not in self._vr_keys:
                    self._vr_keys.add(key)
                    fresh.append(i)
            v, r = v[fresh], r[fresh]
        else:
            self._vr_keys.update(keys)
        self._vr.append(v, r)
        self.formed += int(v.size)
        self._degree = _bump(self._degree, r, 1)
        self._known = _bump(self._known, r, 1)

    # --- removal ----------------------------------------------------------------------
    def drop_residents(self, slots) -> None:
        """Drop every tie of these residents."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        self._rr.n, dropped = kernels.drop_resident_ties(self.rr_a, self.rr_b, slots, self._degree)
        self.ended += int(dropped.size)
        self._rr_keys.difference_update(dropped.tolist())
        self._drop_volunteer_ties(slots, by_volunteer=False)

    def drop_volunteers(self, slots) -> None:
        """Drop every tie of these volunteers."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        self._drop_volunteer_ties(slots, by_volunteer=True)

    def _drop_volunteer_ties(self, slots: np.ndarray, by_volunteer: bool) -> None:
        # every tie's resident was counted in _degree and _known, so both are long enough
        self._vr.n, dropped = kernels.drop_volunteer_ties(
            self.vr_v, self.vr_r, slots, by_volunteer, self._degree, self._known
        )
        self.ended += int(dropped.size)
        self._vr_keys.difference_update(dropped.tolist())

    def drop_resident_edges(self, rows) -> None:
        """Drop the resident-resident ties at positions ``rows`` (ascending, distinct) of
        ``rr_a``/``rr_b`` (ties that lapse); the last ties fill the holes."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self._rr.n, dropped = kernels.drop_tie_rows(self.rr_a, self.rr_b, rows, self._degree)
        self.ended += int(dropped.size)
        self._rr_keys.difference_update(dropped.tolist())

    def drop_volunteer_edges(self, rows) -> None:
        """Drop the volunteer-resident ties at positions ``rows`` (ascending, distinct) of
        ``vr_v``/``vr_r`` (ties that lapse); the last ties fill the holes."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self._vr.n, dropped = kernels.drop_volunteer_tie_rows(
            self.vr_v, self.vr_r, rows, self._degree, self._known
        )
        self.ended += int(dropped.size)
        self._vr_keys.difference_update(dropped.tolist())

    # --- queries ----------------------------------------------------------------------
    def resident_degree(self, capacity: int) -> np.ndarray:
        """Number of live ties of each resident slot (to residents and volunteers); a
        read-only view, ``capacity`` long."""
        self._degree = _lengthened(self._degree, capacity)  # once, not at every query
        return self._degree[:capacity]

    def resident_tie_ends(self) -> int:
        """Sum of every resident's ties: two ends of each resident tie, one of each
        volunteer tie (so the mean degree needs no pass over the residents)."""
        return 2 * self._rr.n + self._vr.n

    def volunteers_known(self, capacity: int) -> np.ndarray:
        """Number of volunteers each resident slot is tied to; a read-only view,
        ``capacity`` long."""
        self._known = _lengthened(self._known, capacity)
        return self._known[:capacity]

    def residents_reachable(self, volunteers: np.ndarray, capacity: int):
        """Residents each volunteer hears about through ties: the residents tied to the
        volunteer and those residents' own resident ties (:func:`kernels.reachable`).

        Returns:
            (volunteer slot, resident slot) pairs as two arrays; a resident reached by
            two paths appears twice.
        """
        volunteers = np.ascontiguousarray(volunteers, dtype=np.int64)
        n_volunteers = int(max(volunteers.max(initial=-1), self.vr_v.max(initial=-1))) + 1
        return kernels.reachable(
            volunteers, self.vr_v, self.vr_r, self.rr_a, self.rr_b, n_volunteers, max(capacity, 1)
        )
